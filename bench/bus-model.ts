/**
 * busModel: throughput on the scenario clock with both sides keeping transfers queued (the host agent's
 * pipelined loopback: 4 OUT and up to 4 IN transfers queued on the host, 4 OUT buffers and the echo on the
 * device), at high and full speed. Loopback moves every byte twice over the half-duplex bus, so the bus
 * carries bytesWritten + bytesRead. The bus-time model must approach and never exceed the USB 2.0 bulk
 * ceilings: 53.248 MB/s (high) and 1.216 MB/s (full).
 */
import { openBenchWorld } from './sim-world.js';
import { median, repeat } from './stats.js';

export interface BusModelFigures {
  readonly highSpeedBytesPerSecond: number;
  readonly fullSpeedBytesPerSecond: number;
  readonly runs: number;
}

async function onBusClock(speed: 'high' | 'full', transferBytes: number, count: number): Promise<number> {
  const world = await openBenchWorld({ speed, timeoutMs: 600_000 });
  try {
    const r = await world.agent.loopbackPipelined(transferBytes, count, 4);
    if (!r.ok) throw new Error(`bus model run at ${speed} speed was not byte-exact: ${JSON.stringify(r)}`);
    return ((r.bytesWritten + r.bytesRead) * 1000) / r.elapsedMs;
  } finally {
    await world.close();
  }
}

/** @throws Error when a run is not byte-exact. */
export async function measureBusModel(options: { runs: number }): Promise<BusModelFigures> {
  const runs = await repeat(options.runs, async () => ({
    high: await onBusClock('high', 1024 * 1024, 32),
    full: await onBusClock('full', 64 * 1024, 16),
  }));
  return {
    highSpeedBytesPerSecond: median(runs.map((r) => r.high)),
    fullSpeedBytesPerSecond: median(runs.map((r) => r.full)),
    runs: options.runs,
  };
}
