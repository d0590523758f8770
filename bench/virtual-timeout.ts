/**
 * virtualTimeout: a whole scenario (fresh simulated world, enumerate, configure, open) whose host bulk IN
 * waits for data the device never queues and times out after 30 s of scenario time; wall milliseconds
 * of the scenario. On the virtual clock the 30 s cost one event-loop turn.
 */
import { isTimeout } from '../core/index.js';
import { openBenchWorld } from './sim-world.js';
import { median, repeat } from './stats.js';

export const VIRTUAL_TIMEOUT_MS = 30_000;

export interface VirtualTimeoutFigures {
  readonly timeoutMs: number;
  /** Median wall ms of the whole scenario (world set-up and tear-down included). */
  readonly wallMs: number;
  /** Median wall ms of the timed-out IN alone. */
  readonly inWallMs: number;
  readonly runs: number;
}

async function scenario(): Promise<{ wallMs: number; inWallMs: number }> {
  const t0 = performance.now();
  const world = await openBenchWorld();
  let inWallMs: number;
  try {
    const v0 = world.simulation.clock.now();
    const t1 = performance.now();
    // The loopback function queues IN data only as an echo: without an OUT the IN NAKs until its timeout.
    const outcome = await world.handle.bulkIn(world.agent.bulkInEndpoint, 512, { timeoutMs: VIRTUAL_TIMEOUT_MS }).then(
      (r) => ({ error: undefined, result: r }),
      (error: unknown) => ({ error, result: undefined }),
    );
    inWallMs = performance.now() - t1;
    const elapsed = world.simulation.clock.now() - v0;
    if (!isTimeout(outcome.error)) throw new Error(`the IN did not time out: ${outcome.error === undefined ? JSON.stringify(outcome.result) : String(outcome.error)}`);
    if (elapsed < VIRTUAL_TIMEOUT_MS) throw new Error(`the IN timed out after ${elapsed} ms of scenario time, expected ${VIRTUAL_TIMEOUT_MS}`);
  } finally {
    await world.close();
  }
  return { wallMs: performance.now() - t0, inWallMs };
}

/** @throws Error when the IN does not time out, or not after 30 s of scenario time. */
export async function measureVirtualTimeout(options: { runs: number }): Promise<VirtualTimeoutFigures> {
  await scenario(); // warm-up (module JIT)
  const runs = await repeat(options.runs, scenario);
  return {
    timeoutMs: VIRTUAL_TIMEOUT_MS,
    wallMs: median(runs.map((r) => r.wallMs)),
    inWallMs: median(runs.map((r) => r.inWallMs)),
    runs: options.runs,
  };
}
