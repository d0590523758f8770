/**
 * Where a device trace goes: a {@link TraceSink} takes one line object at a time. {@link MemoryTraceSink}
 * keeps the lines (tests, the probe's summary); {@link JsonLinesFileSink} appends them to a `.jsonl` file.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../../core/index.js';
import type { TraceHeader, TraceLine } from './trace-format.js';

/** Receives the lines of one trace, header first. `write` must not throw for I/O reasons (report them at close). */
export interface TraceSink {
  write(line: TraceHeader | TraceLine): void;
  /** Flushes and releases the sink; resolves when every line is stored. */
  close(): Promise<void>;
}

/**
 * Keeps the lines in memory. With `maxLines`, it is bounded like an event log: when full, the oldest half of
 * the lines after the header goes (counted in {@link dropped}); such a trace is for reading, not for replay.
 */
export class MemoryTraceSink implements TraceSink {
  lines: (TraceHeader | TraceLine)[] = [];
  closed = false;
  /** Lines dropped by the bound. */
  dropped = 0;
  readonly #maxLines: number;

  constructor(options: { readonly maxLines?: number | undefined } = {}) {
    const max = options.maxLines ?? Number.POSITIVE_INFINITY;
    if (!(max >= 2)) throw new UsageError('INVALID_ARGUMENT', `MemoryTraceSink maxLines ${String(options.maxLines)}: keep at least 2 lines (the header and one more)`);
    this.#maxLines = max;
  }

  write(line: TraceHeader | TraceLine): void {
    this.lines.push(line);
    if (this.lines.length > this.#maxLines) {
      const drop = Math.max(1, Math.floor((this.lines.length - 1) / 2));
      this.lines = [this.lines[0]!, ...this.lines.slice(1 + drop)];
      this.dropped += drop;
    }
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** The trace as JSON Lines text (what a file sink writes). */
  text(): string {
    return this.lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
  }
}

/**
 * Appends each line to a file as JSON plus a newline. Writes are buffered by the stream (never awaited per
 * line, so recording does not slow the traced code down); {@link close} waits until they are on disk and
 * rejects with the first write error.
 */
export class JsonLinesFileSink implements TraceSink {
  readonly path: string;
  readonly #stream: WriteStream;
  #error: Error | undefined;
  #closing: Promise<void> | undefined;

  /** Creates the file (and its folder), truncating an existing one. */
  constructor(path: string) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true });
    this.#stream = createWriteStream(path, { flags: 'w', encoding: 'utf8' });
    this.#stream.on('error', (err) => {
      this.#error ??= err;
    });
  }

  write(line: TraceHeader | TraceLine): void {
    if (this.#closing !== undefined || this.#error !== undefined) return;
    this.#stream.write(JSON.stringify(line) + '\n');
  }

  /** @throws UsageError TRACE_WRITE_FAILED with the file system error as cause. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve, reject) => {
      this.#stream.end((err?: Error | null) => {
        if (err) this.#error ??= err;
        if (this.#error === undefined) resolve();
        else reject(new UsageError('TRACE_WRITE_FAILED', `writing the device trace ${this.path} failed: ${this.#error.message}. Choose a writable path.`, { path: this.path }, { cause: this.#error }));
      });
    });
    return this.#closing;
  }
}
