/**
 * The one error type of the data module. Its message always says which file (or buffer) was
 * being read and, where there is one, the line; `source` and `line` are also kept as fields so
 * that a caller can react to them without parsing the message.
 */
export class DataFormatError extends Error {
  override readonly name = "DataFormatError";

  constructor(
    readonly source: string,
    readonly problem: string,
    readonly line?: number,
  ) {
    super(line === undefined ? `${source}: ${problem}` : `${source} line ${line}: ${problem}`);
  }
}
