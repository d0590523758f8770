/**
 * The NDJSON event stream of `GET /v1/sessions/{id}/events`: one {@link EventLine} per line, entries with
 * `seq > after`, a `gap` line when the cursor fell off the ring, a `heartbeat` line every `heartbeatMs`
 * while nothing else was sent, and (with `follow`) new entries as they are appended, until the session
 * closes, the client goes away or the request's deadline passes.
 *
 * Pull-based (a Readable whose `_read` copies from the ring): a slow client never makes the agent buffer
 * more than the stream's high-water mark; if it falls behind the ring's bound it gets a gap line.
 */
import { Readable } from 'node:stream';
import type { EventLine } from '../protocol/index.js';
import type { EventRing } from './event-ring.js';

export interface EventStreamOptions {
  /** Stream entries with seq > after. */
  readonly after: number;
  /** Keep the stream open and follow new entries. */
  readonly follow: boolean;
  /** Heartbeat period while idle (protocol: 2 s). */
  readonly heartbeatMs: number;
  /** Wall clock (ms since the epoch) for heartbeats. */
  readonly now: () => number;
}

/** Bytes the stream buffers before it stops copying from the ring (the client is not reading). */
const HIGH_WATER_MARK = 64 * 1024;

export class EventLineStream extends Readable {
  readonly #ring: EventRing;
  readonly #options: EventStreamOptions;
  #cursor: number;
  #wanted = false;
  #unsubscribe: (() => void) | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #lastLineAt: number;
  #finished = false;

  constructor(ring: EventRing, options: EventStreamOptions) {
    super({ highWaterMark: HIGH_WATER_MARK });
    this.#ring = ring;
    this.#options = options;
    this.#cursor = options.after;
    this.#lastLineAt = options.now();
    if (options.follow) {
      this.#unsubscribe = ring.subscribe(() => {
        if (this.#wanted) this.#pump();
      });
      this.#heartbeat = setInterval(() => this.#beat(), Math.max(1, Math.floor(options.heartbeatMs / 4)));
      this.#heartbeat.unref();
    }
  }

  /** Ends the stream after what was pushed (deadline, agent shutdown). */
  finish(): void {
    this.#stop();
    if (this.#finished) return;
    this.#finished = true;
    if (!this.destroyed) this.push(null);
  }

  override _read(): void {
    this.#wanted = true;
    this.#pump();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#stop();
    callback(err);
  }

  #line(line: EventLine): boolean {
    if (this.#finished || this.destroyed) return false;
    this.#lastLineAt = this.#options.now();
    return this.push(`${JSON.stringify(line)}\n`);
  }

  #pump(): void {
    const ring = this.#ring;
    while (this.#wanted) {
      if (this.#cursor + 1 < ring.firstSeq) {
        const fromSeq = this.#cursor + 1;
        const toSeq = ring.firstSeq - 1;
        this.#cursor = toSeq;
        this.#wanted = this.#line({ type: 'gap', fromSeq, toSeq, dropped: toSeq - fromSeq + 1 });
        continue;
      }
      if (this.#cursor < ring.lastSeq) {
        const entry = ring.get(this.#cursor + 1)!;
        this.#cursor = entry.seq;
        this.#wanted = this.#line({ type: 'entry', entry });
        continue;
      }
      // Caught up.
      if (!this.#options.follow || ring.closed) this.finish();
      return;
    }
  }

  #beat(): void {
    const now = this.#options.now();
    if (now - this.#lastLineAt < this.#options.heartbeatMs) return;
    // A client that does not read gets no more heartbeats than the buffer holds.
    if (this.readableLength >= HIGH_WATER_MARK) return;
    this.#line({ type: 'heartbeat', wallMs: now, lastSeq: this.#ring.lastSeq });
  }

  #stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#wanted = false;
  }
}
