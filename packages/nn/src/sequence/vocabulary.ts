/**
 * A character (or token) vocabulary with two reserved ids: 0 = padding, 1 = unknown. Encoded
 * sequences pad with 0, which `Embedding(n, d, { maskZero: true })` turns into the mask.
 * It serialises to JSON, to be saved beside the model's weights (e.g. in the safetensors metadata).
 */
export const PAD_ID = 0;
export const UNKNOWN_ID = 1;

export class Vocabulary {
  private readonly ids = new Map<string, number>();

  /** `tokens`: the known tokens in id order (ids 2, 3, …); duplicates are refused. */
  constructor(readonly tokens: readonly string[]) {
    tokens.forEach((tok, i) => {
      if (typeof tok !== "string" || tok === "") throw new TypeError(`Vocabulary: token ${i} must be a non-empty string, got ${JSON.stringify(tok)}`);
      if (this.ids.has(tok)) throw new RangeError(`Vocabulary: token ${JSON.stringify(tok)} appears twice (at ${this.ids.get(tok)! - 2} and ${i})`);
      this.ids.set(tok, i + 2);
    });
  }

  /** The distinct characters of `texts`, sorted (code point order), as a vocabulary. */
  static fromCharacters(texts: Iterable<string>): Vocabulary {
    const chars = new Set<string>();
    for (const text of texts) for (const ch of text) chars.add(ch);
    return new Vocabulary([...chars].sort());
  }

  /** Every id, with the two reserved ones: the size an Embedding needs. */
  get size(): number {
    return this.tokens.length + 2;
  }

  idOf(token: string): number {
    return this.ids.get(token) ?? UNKNOWN_ID;
  }

  /** Characters of `text` → ids (unknown characters → 1). */
  encode(text: string): number[] {
    return Array.from(text, (ch) => this.idOf(ch));
  }

  /** ids → text; padding is skipped and unknown becomes `unknown` (default "?"). */
  decode(ids: Iterable<number>, unknown = "?"): string {
    let out = "";
    for (const id of ids) {
      if (id === PAD_ID) continue;
      if (!Number.isInteger(id) || id < 0 || id >= this.size) throw new RangeError(`Vocabulary.decode: id ${id} is not in [0, ${this.size})`);
      out += id === UNKNOWN_ID ? unknown : this.tokens[id - 2]!;
    }
    return out;
  }

  toJSON(): { tokens: string[] } {
    return { tokens: [...this.tokens] };
  }

  static fromJSON(json: unknown): Vocabulary {
    const tokens = (json as { tokens?: unknown } | null)?.tokens;
    if (!Array.isArray(tokens)) throw new TypeError("Vocabulary.fromJSON: expected { tokens: string[] }");
    return new Vocabulary(tokens as string[]);
  }
}
