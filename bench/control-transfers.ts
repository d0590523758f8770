/**
 * controlTransfers: class IN requests with a 64-byte data stage (the test protocol's READ_PATTERN) answered
 * by the device-side service over the simulator (SETUP → UFX → GenericUSBFn bus event → service →
 * TRANSFER_IN on pipe 0 → HANDSHAKE_OUT), one after another; wall transfers per second.
 */
import { openBenchWorld } from './sim-world.js';
import { median, repeat } from './stats.js';
import { warmUntilSteady } from './warmup.js';

/** Transfers per warm-up batch (bench/warmup.ts: batches until the speed is steady, at least 4). */
export const CONTROL_WARMUP_BATCH = 2000;

export interface ControlTransferFigures {
  /** Median over runs. */
  readonly perSecond: number;
  readonly runs: number;
  readonly transfersPerRun: number;
  /** Transfers run before the measured runs. */
  readonly warmupTransfers: number;
}

/** @throws Error when an answer is not 64 bytes (a bug, not a slow run). */
export async function measureControlTransfers(options: { runs: number; transfersPerRun: number }): Promise<ControlTransferFigures> {
  const world = await openBenchWorld();
  try {
    const one = async (count: number): Promise<number> => {
      const t0 = performance.now();
      for (let i = 0; i < count; i++) {
        const r = await world.agent.readPattern(i & 0xff, 64);
        if (r.status !== 'ok' || r.data.length !== 64) throw new Error(`READ_PATTERN ${i} ended ${r.status} with ${r.data.length} bytes, expected 64`);
      }
      return count / ((performance.now() - t0) / 1000);
    };
    const batches = await warmUntilSteady(async () => void (await one(CONTROL_WARMUP_BATCH)), 4);
    const rates = await repeat(options.runs, () => one(options.transfersPerRun));
    return { perSecond: median(rates), runs: options.runs, transfersPerRun: options.transfersPerRun, warmupTransfers: batches * CONTROL_WARMUP_BATCH };
  } finally {
    await world.close();
  }
}
