import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { UsageError } from "../cli-errors.js";
import { formatBytes } from "../format.js";

/** Inputs larger than this get progress lines on stderr while they are read. */
const PROGRESS_THRESHOLD_BYTES = 1024 * 1024;

/** Reads and parses a JSON document from a file, or from stdin for `-`. */
export async function readJsonInput(
  path: string,
  stdin: Readable,
  log: (line: string) => void,
): Promise<{ document: unknown; bytes: number; mtime: Date | null }> {
  let stream: Readable;
  let total: number | null = null;
  let mtime: Date | null = null;
  if (path === "-") {
    stream = stdin;
  } else {
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new UsageError(`${path} is not a file`);
      total = info.size;
      mtime = info.mtime;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(
        `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    stream = createReadStream(path);
  }
  const label = path === "-" ? "stdin" : path;
  const chunks: Buffer[] = [];
  let bytes = 0;
  let nextReport = PROGRESS_THRESHOLD_BYTES;
  for await (const chunk of stream) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    chunks.push(buffer);
    bytes += buffer.byteLength;
    if (bytes >= nextReport) {
      log(`reading ${label}: ${formatBytes(bytes)}${total ? ` of ${formatBytes(total)}` : ""}`);
      nextReport += PROGRESS_THRESHOLD_BYTES;
    }
  }
  const text = Buffer.concat(chunks)
    .toString("utf8")
    .replace(/^\uFEFF/, "");
  try {
    return { document: JSON.parse(text), bytes, mtime };
  } catch (error) {
    throw new UsageError(`${label} is not valid JSON: ${(error as Error).message}`);
  }
}
