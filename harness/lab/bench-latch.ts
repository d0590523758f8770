/**
 * The bench's sticky *broken* state (labgrid's `never_retry`): the first unrecoverable infrastructure fault of
 * a run is kept, and every later scenario is skipped with that first cause instead of failing one by one.
 *
 * A lab run spans processes (vitest's main process and one worker per test file), so the run's latch is a
 * file: the first writer wins (exclusive create), everyone reads it. A rig used on its own keeps it in memory.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { errorFromJSON, HarnessError, type HarnessErrorJSON } from '../../core/index.js';
import { isLabInfrastructureError, LabBenchError } from './lab-agent-error.js';

/** Why and where the bench broke. */
export interface BrokenCause {
  /** The scenario (or run phase) that met the fault. */
  readonly scenario: string;
  readonly error: HarnessErrorJSON;
  readonly atIso: string;
}

export interface BenchLatch {
  /** The first cause, once latched. */
  broken(): BrokenCause | undefined;
  /** Latches `error` unless the bench already broke; returns the cause that holds (the first). */
  latch(scenario: string, error: HarnessError): BrokenCause;
}

/** Infrastructure codes that do not break the bench: the request, not the bench, was wrong. */
const RECOVERABLE = new Set(['LAB_AGENT_FAULT_UNSUPPORTED', 'LAB_AGENT_BAD_REQUEST', 'LAB_AGENT_PAYLOAD_TOO_LARGE']);

/** Whether `err` breaks the bench for the rest of the run. */
export function breaksBench(err: unknown): err is HarnessError {
  return isLabInfrastructureError(err) && !RECOVERABLE.has(err.code);
}

function causeOf(scenario: string, error: HarnessError): BrokenCause {
  return { scenario, error: JSON.parse(JSON.stringify(error.toJSON())) as HarnessErrorJSON, atIso: new Date().toISOString() };
}

export class MemoryBenchLatch implements BenchLatch {
  #cause: BrokenCause | undefined;

  broken(): BrokenCause | undefined {
    return this.#cause;
  }

  latch(scenario: string, error: HarnessError): BrokenCause {
    this.#cause ??= causeOf(scenario, error);
    return this.#cause;
  }
}

/** The latch of a run, shared by its processes through one file. */
export class FileBenchLatch implements BenchLatch {
  readonly path: string;
  #cause: BrokenCause | undefined;

  constructor(path: string) {
    this.path = path;
  }

  broken(): BrokenCause | undefined {
    if (this.#cause !== undefined) return this.#cause;
    try {
      this.#cause = JSON.parse(readFileSync(this.path, 'utf8')) as BrokenCause;
    } catch {
      return undefined; // not latched (no file yet)
    }
    return this.#cause;
  }

  latch(scenario: string, error: HarnessError): BrokenCause {
    const mine = causeOf(scenario, error);
    try {
      writeFileSync(this.path, JSON.stringify(mine), { flag: 'wx' });
      this.#cause = mine;
      return mine;
    } catch {
      // Someone latched first: theirs is the cause.
      return this.broken() ?? mine;
    }
  }
}

/** The error a scenario gets when it runs on a bench that already broke: LAB_BENCH_BROKEN, first cause chained. */
export function brokenBenchError(benchId: string, cause: BrokenCause): LabBenchError {
  return new LabBenchError('LAB_BENCH_BROKEN', {
    what: `bench ${benchId}`,
    why: `it broke in "${cause.scenario}" at ${cause.atIso}: ${cause.error.message}`,
    fix: 'Fix that first fault (the later scenarios were skipped because of it), then rerun; `usbfn-hil bench check` checks the bench on its own',
    cause: errorFromJSON(cause.error),
  });
}

/** The skip reason of a scenario on a broken bench (one line, with the first cause). */
export function brokenBenchReason(benchId: string, cause: BrokenCause): string {
  return `bench ${benchId} is broken since "${cause.scenario}": ${cause.error.message}`;
}
