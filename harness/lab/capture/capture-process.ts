/**
 * Starting and stopping a capture tool with bounded waits: start resolves when the tool says it captures
 * (or its file appears), when it exits, or when the time is up; stop asks it to end (it flushes its file),
 * kills it if it does not, and always waits (bounded) for the exit so no process is left behind.
 */
import { AbortedError, type Clock } from '../../../core/index.js';
import type { CaptureFileSystem } from './capture-file-system.js';
import type { ProcessExit, ProcessSpawner, SpawnedProcess } from './process-spawner.js';

/** What every capture source takes beside its own settings (the tool's bounds and the seams tests replace). */
export interface CaptureToolOptions {
  /** Keep only records between start() and stop() (host wall clock). Default false. */
  readonly trimToWindow?: boolean | undefined;
  /** Bound of start (the tool opening its capture). Default 5000. */
  readonly startTimeoutMs?: number | undefined;
  /** Bound of stop (flush after SIGTERM). Default 5000. */
  readonly stopTimeoutMs?: number | undefined;
  /** How long to wait for the exit after SIGKILL before giving up on the tool. Default 2000. */
  readonly killWaitMs?: number | undefined;
  readonly spawner?: ProcessSpawner | undefined;
  readonly fileSystem?: CaptureFileSystem | undefined;
  readonly clock?: Clock | undefined;
  /** Host wall clock in ms since the epoch (the capture's time base). Default `Date.now`. */
  readonly wallClockMs?: (() => number) | undefined;
  /** Default `process.platform`. */
  readonly platform?: string | undefined;
}

/** How to tell that a tool is capturing. */
export interface ReadySignal {
  /** Output that appears once the capture runs (dumpcap: `File: <path>` after the interface opened). */
  readonly outputPattern?: RegExp | undefined;
  /** A file that appears once the capture runs (USBPcapCMD creates its output file when it starts). */
  readonly file?: string | undefined;
}

export type StartOutcome =
  | { readonly status: 'running' }
  | { readonly status: 'exited'; readonly exit: ProcessExit }
  | { readonly status: 'timeout' }
  | { readonly status: 'aborted'; readonly reason: unknown };

/** Polling period for a ready file. */
const FILE_POLL_MS = 50;

/** Waits until `process` is ready, exits, times out or the signal aborts. Never throws. */
export function waitUntilCapturing(
  process: SpawnedProcess,
  ready: ReadySignal,
  deps: { clock: Clock; fileSystem: CaptureFileSystem },
  options: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<StartOutcome> {
  return new Promise<StartOutcome>((resolve) => {
    let done = false;
    let poll: { cancel(): void } | undefined;
    const finish = (outcome: StartOutcome): void => {
      if (done) return;
      done = true;
      unsubscribe();
      timer.cancel();
      poll?.cancel();
      options.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const matches = (): boolean => ready.outputPattern !== undefined && ready.outputPattern.test(process.output());
    const unsubscribe = process.onOutput(() => {
      if (matches()) finish({ status: 'running' });
    });
    const onAbort = (): void => finish({ status: 'aborted', reason: options.signal?.reason });
    const timer = deps.clock.setTimer(options.timeoutMs, () => finish({ status: 'timeout' }));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    void process.exited.then((exit) => finish({ status: 'exited', exit }));
    if (options.signal?.aborted) onAbort();
    else if (matches()) finish({ status: 'running' });
    const file = ready.file;
    if (file !== undefined) {
      const check = (): void => {
        void deps.fileSystem.access(file, 'exists').then(
          (r) => {
            if (r === 'ok') finish({ status: 'running' });
            else if (!done) poll = deps.clock.setTimer(FILE_POLL_MS, check);
          },
          () => {
            if (!done) poll = deps.clock.setTimer(FILE_POLL_MS, check);
          },
        );
      };
      check();
    }
  });
}

export interface StopOutcome {
  /** Undefined when the process did not exit even after SIGKILL within the bound. */
  readonly exit: ProcessExit | undefined;
  /** SIGKILL was needed (the tool did not end within `graceMs` of the polite signal). */
  readonly killed: boolean;
}

/** Resolves with the exit, or undefined after `ms`. */
function exitWithin(process: SpawnedProcess, clock: Clock, ms: number): Promise<ProcessExit | undefined> {
  return new Promise((resolve) => {
    const t = clock.setTimer(ms, () => resolve(undefined));
    void process.exited.then((exit) => {
      t.cancel();
      resolve(exit);
    });
  });
}

/**
 * Ends `process`: `signal` (SIGTERM lets dumpcap flush and close its file), up to `graceMs` for it to
 * exit, then SIGKILL and up to `killWaitMs` more. `abort` cuts the grace period short (straight to SIGKILL),
 * but the process is still reaped (bounded) before this rejects with AbortedError.
 * @throws AbortedError when `abort` fired.
 */
export async function stopCaptureProcess(
  process: SpawnedProcess,
  deps: { clock: Clock },
  options: { signal: 'SIGTERM' | 'SIGINT'; graceMs: number; killWaitMs: number; abort?: AbortSignal | undefined },
): Promise<StopOutcome> {
  const already = await exitWithin(process, deps.clock, 0);
  if (already !== undefined) return { exit: already, killed: false };
  process.kill(options.signal);
  let exit: ProcessExit | undefined;
  if (options.abort?.aborted !== true) {
    const aborted = new Promise<undefined>((resolve) => options.abort?.addEventListener('abort', () => resolve(undefined), { once: true }));
    exit = await Promise.race([exitWithin(process, deps.clock, options.graceMs), aborted]);
  }
  let killed = false;
  if (exit === undefined) {
    killed = process.kill('SIGKILL');
    exit = await exitWithin(process, deps.clock, options.killWaitMs);
  }
  if (options.abort?.aborted === true) throw new AbortedError('stopping the capture', options.abort.reason);
  return { exit, killed };
}
