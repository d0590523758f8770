/**
 * bulkLoopback: 1 MiB transfers, 4 queued, through the full simulated path (HostAgent bulk OUT → SimUsbHost
 * → bus → UFX → GenericUSBFn model → SimUsbFnPort → UsbFnClient → service → loopback function
 * TRANSFER_OUT → TRANSFER_IN → back to a host bulk IN), every byte verified; wall bytes per second. The
 * baseline, in the same run and interleaved with it: a plain loop copying as many bytes, 1 MiB at a time,
 * through a working set as large as the loopback's ({@link WORKING_SET_BUFFERS}).
 */
import { openBenchWorld } from './sim-world.js';
import { median, repeat } from './stats.js';
import { warmUntilSteady } from './warmup.js';

export { WARMUP_MAX_BATCHES, WARMUP_MIN_BATCHES, WARMUP_SETTLED, warmupDone } from './warmup.js';

export const MiB = 1024 * 1024;

/** Transfers per warm-up batch (bench/warmup.ts: batches until the speed is steady). */
export const WARMUP_BATCH = 1024;

/**
 * The 1 MiB buffers the loopback cycles through in steady state (bulk-loopback.test.ts counts them): the
 * host's pattern (the OUT data and the expected echo), the loopback function's 4 TRANSFER_OUT buffers (each
 * echoed from itself) and the host's 4 receive buffers (4 reads queued, each ended by the echo's ZLP). The
 * baseline copies through as many buffers: a copy between two 1 MiB buffers is served from a 2 MiB L2 where
 * a core has one, while 9 MiB never is, so a two-buffer baseline measures the cache size as much as the
 * simulator.
 */
export const WORKING_SET_BUFFERS = 9;

/**
 * Each run alternates loopback and baseline in this many slices: both see the same neighbours on a shared
 * machine (a run measured in one piece and its baseline in another moved the per-run ratio by ±20 % on a
 * loaded 2-core VM).
 */
export const SLICES_PER_RUN = 8;

export interface BulkLoopbackFigures {
  readonly transferBytes: number;
  readonly queued: number;
  /** Median over runs. */
  readonly bytesPerSecond: number;
  /** Median over runs. */
  readonly copyLoopBytesPerSecond: number;
  /** Median of the per-run ratios loopback / copy. */
  readonly ratio: number;
  readonly runs: number;
  readonly transfersPerRun: number;
  /** Transfers run before the measured runs (bench/warmup.ts). */
  readonly warmupTransfers: number;
}

/**
 * The baseline: copies 1 MiB at a time round a ring of buffers (each copy reads the buffer the previous one
 * wrote and writes the next), continuing where the last call stopped.
 */
export class CopyLoop {
  readonly #buffers: Uint8Array[];
  #at = 0;

  /** @throws RangeError for fewer than 2 buffers. */
  constructor(buffers = WORKING_SET_BUFFERS, bufferBytes = MiB) {
    if (!Number.isInteger(buffers) || buffers < 2) throw new RangeError(`a copy loop needs at least 2 buffers, got ${buffers}`);
    this.#buffers = Array.from({ length: buffers }, (_, i) => new Uint8Array(bufferBytes).fill(i + 1));
  }

  /** The ring (for tests). */
  get buffers(): readonly Uint8Array[] {
    return this.#buffers;
  }

  /** Copies `bytes` (whole buffers, rounded up); returns the wall milliseconds it took. */
  copyMs(bytes: number): number {
    const b = this.#buffers;
    const n = b.length;
    const count = Math.ceil(bytes / b[0]!.length);
    let at = this.#at;
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const next = at + 1 === n ? 0 : at + 1;
      b[next]!.set(b[at]!);
      at = next;
    }
    const ms = performance.now() - t0;
    this.#at = at;
    return ms;
  }
}

/**
 * @throws Error when a run does not come back byte-exact (a simulator or agent bug, not a slow run).
 */
export async function measureBulkLoopback(options: { runs: number; transfersPerRun: number; queued?: number }): Promise<BulkLoopbackFigures> {
  const queued = options.queued ?? 4;
  const world = await openBenchWorld({ timeoutMs: 60_000 });
  const copy = new CopyLoop();
  const loopback = async (count: number, what: string): Promise<number> => {
    const r = await world.agent.loopbackPipelined(MiB, count, queued);
    if (!r.ok) throw new Error(`bulk loopback ${what} was not byte-exact: ${JSON.stringify(r)}`);
    return r.bytesRead;
  };
  try {
    // Warm-up: JIT, heap sizing, the receive-buffer pool and the pattern cache.
    const batches = await warmUntilSteady(async () => void (await loopback(WARMUP_BATCH, 'warm-up')));
    copy.copyMs(64 * MiB);
    const results = await repeat(options.runs, async () => {
      let loopMs = 0;
      let copyMs = 0;
      let bytes = 0;
      for (let s = 0; s < SLICES_PER_RUN; s++) {
        const count = Math.floor(options.transfersPerRun / SLICES_PER_RUN) + (s < options.transfersPerRun % SLICES_PER_RUN ? 1 : 0);
        if (count === 0) continue;
        const t0 = performance.now();
        const read = await loopback(count, 'run');
        loopMs += performance.now() - t0;
        bytes += read;
        copyMs += copy.copyMs(read);
      }
      const loop = bytes / (loopMs / 1000);
      const base = bytes / (copyMs / 1000);
      return { loop, copy: base, ratio: loop / base };
    });
    return {
      transferBytes: MiB,
      queued,
      bytesPerSecond: median(results.map((r) => r.loop)),
      copyLoopBytesPerSecond: median(results.map((r) => r.copy)),
      ratio: median(results.map((r) => r.ratio)),
      runs: options.runs,
      transfersPerRun: options.transfersPerRun,
      warmupTransfers: batches * WARMUP_BATCH,
    };
  } finally {
    await world.close();
  }
}
