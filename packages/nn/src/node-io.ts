/**
 * Files on disk, for Node (and Bun and Deno through their `node:` modules). Exported from the
 * separate entry `@zerograd/nn/node` so that the main entry never imports a `node:` module.
 *
 * Writers create missing parent directories; every file-system error is a FileError naming the
 * operation the user called and the path, with the system's code (ENOENT, EACCES…) kept.
 */
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { SafetensorsError, decodeSafetensors, encodeSafetensors, type NamedTensor, type SafetensorsContents } from "./safetensors.js";

/** Test hooks: let a test fail a write at the worst moment. Not part of the public API. */
export type AtomicWriteHooks = {
  /** Runs after the temporary file is written and synced, just before the rename. */
  beforeRename?: (tempPath: string) => void | Promise<void>;
};

/**
 * A file could not be read or written. The message names the operation and the path
 * (`saveCheckpointFile: cannot write "ckpt/epoch-1.safetensors": EACCES: permission denied…`);
 * `code` is the system's error code and `cause` the original error.
 */
export class FileError extends Error {
  override readonly name = "FileError";
  readonly code: string | undefined;
  constructor(
    readonly op: string,
    readonly path: string,
    readonly action: "read" | "write",
    cause: unknown,
  ) {
    super(`${op}: cannot ${action} ${JSON.stringify(path)}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.code = (cause as { code?: unknown } | null)?.code as string | undefined;
  }
}

/**
 * Writes `bytes` to `path` so that the file at `path` is always either the old file or the
 * complete new one, never a half-written mix (after a crash, a full disk, a kill):
 *
 *   0. create the missing parent directories (`mkdir -p`);
 *   1. write everything to a new temporary file in the same directory (same file system,
 *      so the rename below is atomic);
 *   2. fsync it, so its contents are on disk before its name is;
 *   3. rename it over `path` — atomic on POSIX file systems;
 *   4. fsync the directory, so the rename itself survives a power loss (best effort).
 *
 * On any error the temporary file is removed and a FileError is thrown.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, hooks: AtomicWriteHooks = {}): Promise<void> {
  await writeAtomically("writeFileAtomic", path, bytes, hooks);
}

/** writeFileAtomic, with errors naming `op` (the helper the user called). @internal */
export async function writeAtomically(op: string, path: string, bytes: Uint8Array, hooks: AtomicWriteHooks = {}): Promise<void> {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`${op}: bytes must be a Uint8Array, got ${typeof bytes} (path ${JSON.stringify(path)})`);
  }
  const directory = dirname(path);
  const tempPath = join(directory, `.${basename(path)}.${process.pid}.${randomSuffix()}.tmp`);
  let created = false;
  try {
    await mkdir(directory, { recursive: true });
    const file = await open(tempPath, "wx"); // "x": fail rather than reuse an existing file
    created = true;
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await hooks.beforeRename?.(tempPath);
    await rename(tempPath, path);
    created = false; // the temporary name is gone: it is the target now
  } catch (error) {
    // Clean up, but report the error that caused the failure, not one from the clean-up.
    if (created) await rm(tempPath, { force: true }).catch(() => undefined);
    throw error instanceof FileError || !isSystemError(error) ? error : new FileError(op, path, "write", error);
  }
  await syncDirectory(directory);
}

/** Reads a whole file as a plain Uint8Array (not a Node Buffer, whose slice() shares memory). */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  return readBytes("readFileBytes", path);
}

/** readFileBytes, with errors naming `op`. @internal */
export async function readBytes(op: string, path: string): Promise<Uint8Array> {
  try {
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    throw isSystemError(error) ? new FileError(op, path, "read", error) : error;
  }
}

/**
 * Decodes a file's bytes; a format error (SafetensorsError) gets the operation and the path in
 * front of its message, so that it says which file is bad. @internal
 */
export function decodeFile<T>(op: string, path: string, bytes: Uint8Array, decode: (bytes: Uint8Array) => T): T {
  try {
    return decode(bytes);
  } catch (error) {
    if (error instanceof SafetensorsError) throw new SafetensorsError(`${op}: ${JSON.stringify(path)}`, error.message);
    throw error;
  }
}

/** Saves tensors as a safetensors file, atomically (see `writeFileAtomic`). */
export async function saveSafetensors(
  path: string,
  tensors: Record<string, NamedTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeAtomically("saveSafetensors", path, encodeSafetensors(tensors, metadata));
}

/** Loads a safetensors file; the whole file is checked before anything is returned. */
export async function loadSafetensors(path: string): Promise<SafetensorsContents> {
  return decodeFile("loadSafetensors", path, await readBytes("loadSafetensors", path), decodeSafetensors);
}

/** An error from the operating system (it carries a code such as ENOENT), not one of ours. */
function isSystemError(error: unknown): boolean {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "string";
}

/** Eight random hex digits, so two writers never pick the same temporary name. */
function randomSuffix(): string {
  const words = crypto.getRandomValues(new Uint32Array(1));
  return words[0]!.toString(16).padStart(8, "0");
}

/** Flushes a directory entry to disk. Windows cannot open a directory, so errors are ignored. */
async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort: the data itself is already safe; only the rename's durability is at stake.
  }
}
