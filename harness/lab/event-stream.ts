/**
 * The reader of the device agent's event stream (`GET /v1/sessions/{id}/events`, NDJSON): one JSON object
 * per line, every line checked against protocol v1's `EventLine` schema.
 *
 * - Resume: after a disconnect (connection reset, a line cut in the middle, the server closing a followed
 *   stream) it reconnects with `after=<last seq>`, so no entry is lost or delivered twice.
 * - Gaps: when the cursor fell off the agent's ring the agent sends a gap line; it is surfaced, not hidden.
 * - Stall: while following, the agent sends a heartbeat every heartbeat period when idle; three periods
 *   without a single byte end the stream with `LAB_AGENT_STALLED` (a hung device or a dead link).
 */
import { AbortedError, delay, type Clock, type ClockTimer } from '../../core/index.js';
import type { EventLine } from '../../device-side/index.js';
import { LabAgentError } from './lab-agent-error.js';
import { eventLineError } from './route-schemas.js';

/** One item of the stream: a device log entry, a gap (entries lost), or (when asked for) a heartbeat. */
export type EventStreamItem = EventLine;

/** An open HTTP answer of the events route. */
export interface EventStreamConnection {
  readonly body: ReadableStream<Uint8Array>;
  /** Aborts the underlying request (the body then errors). */
  abort(reason: unknown): void;
}

export interface EventStreamOptions {
  /** Deliver entries with seq > after (default 0: from the oldest the agent still holds). */
  readonly after?: number | undefined;
  /** Keep following new entries (default true); false: what the agent holds now, then the end. */
  readonly follow?: boolean | undefined;
  /** Also yield heartbeat lines (default false: they only feed stall detection). */
  readonly includeHeartbeats?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface EventStreamReaderArgs extends EventStreamOptions {
  /** Names the stream in errors, e.g. `GET /v1/sessions/S1/events`. */
  readonly what: string;
  readonly clock: Clock;
  /** The agent's heartbeat period (ms); three of them without a byte is a stall. */
  readonly heartbeatMs: number;
  /** Consecutive reconnects without a single complete line before giving up (default 5). */
  readonly maxReconnects?: number | undefined;
  /** Pause before a reconnect (default 200 ms). */
  readonly reconnectDelayMs?: number | undefined;
  /** Opens the stream from a cursor (the client's request, with its own retries and deadline). */
  open(after: number, signal: AbortSignal | undefined): Promise<EventStreamConnection>;
}

/** Heartbeat periods without a byte that make a stall. */
export const MISSED_HEARTBEATS = 3;

const STALL = Symbol('stall');
const DONE = Symbol('done');

/** Reads the event stream; see the module comment. @throws LabAgentError STALLED, BAD_RESPONSE, UNREACHABLE; AbortedError */
export async function* readEventStream(args: EventStreamReaderArgs): AsyncGenerator<EventStreamItem, void, undefined> {
  const { clock, signal, what } = args;
  const follow = args.follow ?? true;
  const stallMs = args.heartbeatMs * MISSED_HEARTBEATS;
  const maxReconnects = args.maxReconnects ?? 5;
  let cursor = args.after ?? 0;
  let fruitless = 0;
  let lastCut: unknown;

  for (;;) {
    if (signal?.aborted) throw new AbortedError(what, signal.reason);
    const conn = await args.open(cursor, signal);
    const reader = conn.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let stalled = false;
    let progressed = false;
    let cut: unknown;
    let timer: ClockTimer | undefined;
    // Aborting the request may not end a body that is already flowing (it depends on the fetch); cancelling
    // the reader always ends a pending read.
    const stop = (reason: unknown): void => {
      conn.abort(reason);
      reader.cancel(reason).catch(() => undefined);
    };
    const arm = (): void => {
      timer?.cancel();
      timer = clock.setTimer(stallMs, () => {
        stalled = true;
        stop(STALL);
      });
    };
    const disarm = (): void => {
      timer?.cancel();
      timer = undefined;
    };
    const onAbort = (): void => stop(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      arm();
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>> | undefined;
        let failure: unknown;
        try {
          chunk = await reader.read();
        } catch (err) {
          failure = err ?? new Error('the stream failed');
        }
        if (stalled) {
          throw new LabAgentError('LAB_AGENT_STALLED', {
            what,
            why: `no line, not even a heartbeat, for ${stallMs} ms (${MISSED_HEARTBEATS} heartbeat periods of ${args.heartbeatMs} ms) after seq ${cursor}`,
            data: { lastSeq: cursor, heartbeatMs: args.heartbeatMs },
          });
        }
        if (signal?.aborted) throw new AbortedError(what, signal.reason);
        if (chunk === undefined) {
          cut = failure;
          break;
        }
        if (chunk.done) {
          // A clean end after an unterminated last line: if that line is whole JSON the agent only left out
          // the newline (take it); if not, the line was cut (resume below).
          if (buffer.trim() !== '' && isJson(buffer)) buffer += '\n';
          else break;
        } else {
          arm();
          buffer += decoder.decode(chunk.value, { stream: true });
        }
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line === '') continue;
          const item = parseLine(what, line);
          progressed = true;
          if (item.type === 'entry') {
            // After a resume the agent starts past the cursor; a repeat would be an agent bug, but is harmless.
            if (item.entry.seq <= cursor) continue;
            cursor = item.entry.seq;
          } else if (item.type === 'gap') {
            cursor = Math.max(cursor, item.toSeq);
          } else if (args.includeHeartbeats !== true) {
            continue;
          }
          // The consumer's time is not the agent's silence.
          disarm();
          yield item;
          arm();
        }
        if (chunk.done) break;
      }
    } finally {
      disarm();
      signal?.removeEventListener('abort', onAbort);
      reader.cancel().catch(() => undefined);
      conn.abort(DONE);
    }
    const partial = buffer.trim() !== '';
    if (!follow && cut === undefined && !partial) return;
    // A disconnect: the stream was cut (mid-line or between lines) or a followed stream ended. Resume.
    if (cut !== undefined) lastCut = cut;
    fruitless = progressed ? 0 : fruitless + 1;
    if (fruitless > maxReconnects) {
      throw new LabAgentError('LAB_AGENT_UNREACHABLE', {
        what,
        why: `the event stream broke ${fruitless} times in a row without delivering a line${lastCut instanceof Error ? ` (last: ${lastCut.message})` : ''}`,
        data: { lastSeq: cursor },
        // A plain copy: the stream's own error may carry sockets that cannot cross a worker boundary.
        cause: lastCut instanceof Error ? Object.assign(new Error(lastCut.message), { name: lastCut.name }) : undefined,
      });
    }
    await delay(clock, args.reconnectDelayMs ?? 200, signal);
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function parseLine(what: string, line: string): EventStreamItem {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new LabAgentError('LAB_AGENT_BAD_RESPONSE', {
      what,
      why: `a stream line is not JSON: ${JSON.stringify(line.length > 80 ? `${line.slice(0, 77)}...` : line)}`,
    });
  }
  const problem = eventLineError(value);
  if (problem !== undefined) {
    throw new LabAgentError('LAB_AGENT_BAD_RESPONSE', { what, why: `a stream line does not match the EventLine schema at ${problem}`, data: { schemaError: problem } });
  }
  return value as EventStreamItem;
}
