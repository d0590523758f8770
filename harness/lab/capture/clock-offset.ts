/**
 * Putting the device's event log on the host capture's time base. A host capture stamps records with the
 * host PC's wall clock (usbmon: the kernel's real-time clock; USBPcap: the Windows system time); the device
 * agent stamps log entries with the device's wall clock. The offset between the two is estimated from a round
 * trip to the agent (its health answer carries `nowMs`): assuming the answer was stamped halfway through the
 * round trip, offset = agent nowMs − midpoint of the request, with an uncertainty of half the round trip
 * (Cristian's algorithm; with several samples, the shortest round trip is the most precise).
 *
 * ASSUMPTION: the agent stamps `nowMs` halfway between receiving the request and the response leaving; any
 * asymmetry of the network path adds up to the stated uncertainty.
 */
import { UsageError } from '../../../core/index.js';

/** One round trip to the agent, all times in ms since the Unix epoch. */
export interface ClockOffsetSample {
  /** Host wall clock just before the request was sent. */
  readonly requestStartMs: number;
  /** Host wall clock just after the response arrived. */
  readonly responseEndMs: number;
  /** The agent's wall clock in the response (`GET /v1/health` → `nowMs`). */
  readonly agentNowMs: number;
}

export interface ClockOffset {
  /** Agent clock minus host clock, in ms: host time = agent time − offsetMs. */
  readonly offsetMs: number;
  /** Half the round trip of the sample used: the offset is right within ± this. */
  readonly uncertaintyMs: number;
  readonly roundTripMs: number;
}

/**
 * Estimates the agent's clock offset from one or more round trips (the shortest one wins).
 * @throws UsageError INVALID_ARGUMENT for no samples, a response before its request, or non-finite times.
 * @example estimateClockOffset({ requestStartMs: 1000, responseEndMs: 1010, agentNowMs: 1505 }) // offsetMs 500 ± 5
 */
export function estimateClockOffset(samples: ClockOffsetSample | readonly ClockOffsetSample[]): ClockOffset {
  const list = Array.isArray(samples) ? (samples as readonly ClockOffsetSample[]) : [samples as ClockOffsetSample];
  if (list.length === 0) throw new UsageError('INVALID_ARGUMENT', 'estimateClockOffset needs at least one round trip to the agent');
  let best: ClockOffset | undefined;
  for (const [i, s] of list.entries()) {
    if (![s.requestStartMs, s.responseEndMs, s.agentNowMs].every(Number.isFinite)) {
      throw new UsageError('INVALID_ARGUMENT', `clock offset sample ${i} has a time that is not a finite number of ms: ${JSON.stringify(s)}`, { index: i });
    }
    const roundTripMs = s.responseEndMs - s.requestStartMs;
    if (roundTripMs < 0) {
      throw new UsageError('INVALID_ARGUMENT', `clock offset sample ${i}: the response (${s.responseEndMs}) came before the request (${s.requestStartMs}); stamp both with the same host clock (Date.now())`, { index: i });
    }
    if (best === undefined || roundTripMs < best.roundTripMs) {
      best = { offsetMs: s.agentNowMs - (s.requestStartMs + roundTripMs / 2), uncertaintyMs: roundTripMs / 2, roundTripMs };
    }
  }
  return best!;
}

/** An agent wall-clock time (ms) on the host's wall clock (ms). */
export function agentToHostMs(agentMs: number, offset: ClockOffset): number {
  return agentMs - offset.offsetMs;
}

/** A device log entry: its agent wall-clock time, or its time since the session opened. */
export interface TimedEntry {
  readonly wallMs?: number | undefined;
  readonly timeMs?: number | undefined;
}

export interface AlignOptions {
  /** The agent's wall clock when the session opened: used for entries that only have `timeMs`. */
  readonly sessionOpenedAtMs?: number | undefined;
  /** The capture's first record (µs since the epoch): also give each entry its offset from it. */
  readonly captureStartUs?: number | undefined;
}

/** An entry with its time on the capture's time base. */
export type AlignedEntry<T> = T & {
  /** µs since the epoch on the host clock: comparable with the capture's record timestamps. */
  readonly captureTimeUs: number;
  /** ms after the capture's first record, when `captureStartUs` was given. */
  readonly sinceCaptureStartMs?: number | undefined;
};

/**
 * Shifts device log entries onto the host capture's time base.
 * @throws UsageError INVALID_ARGUMENT for an entry with neither `wallMs` nor (`timeMs` and `sessionOpenedAtMs`).
 */
export function alignDeviceLog<T extends TimedEntry>(entries: readonly T[], offset: ClockOffset, options: AlignOptions = {}): AlignedEntry<T>[] {
  return entries.map((e, i) => {
    const agentMs = e.wallMs ?? (e.timeMs !== undefined && options.sessionOpenedAtMs !== undefined ? options.sessionOpenedAtMs + e.timeMs : undefined);
    if (agentMs === undefined || !Number.isFinite(agentMs)) {
      throw new UsageError('INVALID_ARGUMENT', `device log entry ${i} has no agent time: give entries with wallMs, or timeMs together with sessionOpenedAtMs`, { index: i });
    }
    const captureTimeUs = Math.round(agentToHostMs(agentMs, offset) * 1000);
    return {
      ...e,
      captureTimeUs,
      sinceCaptureStartMs: options.captureStartUs === undefined ? undefined : (captureTimeUs - options.captureStartUs) / 1000,
    };
  });
}
