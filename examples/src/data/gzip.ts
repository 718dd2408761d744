/**
 * Reading files that may be gzip-compressed. Decompression uses the web-standard
 * `DecompressionStream("gzip")` built into Node ≥ 18, Bun, Deno and browsers, so the
 * examples need no compression library.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** True when `bytes` start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decompresses a whole gzip member held in memory. `source` names it in errors. */
export async function gunzip(bytes: Uint8Array, source = "gzip data"): Promise<Uint8Array> {
  // DecompressionStream accepts only memory backed by a plain ArrayBuffer (not a SharedArrayBuffer).
  const plain = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
  const input = new ReadableStream<Uint8Array<ArrayBuffer>>({
    start(controller) {
      controller.enqueue(plain);
      controller.close();
    },
  });
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    const reader = input.pipeThrough(new DecompressionStream("gzip")).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
    }
  } catch (cause) {
    throw new Error(`${source}: gzip decompression failed: ${(cause as Error).message}`, { cause });
  }
  // Join the chunks into one contiguous buffer.
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/**
 * The contents of the file at `path`, decompressed when the file is gzip
 * (recognised by its magic number, whatever its name).
 */
export async function readMaybeGzipped(path: string | URL): Promise<Uint8Array> {
  const raw = new Uint8Array(await readFile(path));
  return isGzip(raw) ? gunzip(raw, displayPath(path)) : raw;
}

/** A path as people read it in an error message: file URLs become file-system paths. */
export function displayPath(path: string | URL): string {
  return path instanceof URL ? fileURLToPath(path) : path;
}
