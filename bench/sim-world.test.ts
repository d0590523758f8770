import { describe, expect, it } from 'vitest';
import { isTimeout } from '../core/index.js';
import { openBenchWorld } from './sim-world.js';

describe('bench world (full simulated path)', () => {
  it('loops back pipelined transfers byte-exact, exact multiples (ZLP-ended) and short ones, leaving no read queued', async () => {
    await using world = await openBenchWorld();
    const multiple = await world.agent.loopbackPipelined(64 * 1024, 12, 4, { seed: 3 });
    expect(multiple).toMatchObject({ status: 'ok', transfers: 12, bytesRead: 12 * 64 * 1024, firstMismatch: -1, ok: true });
    const short = await world.agent.loopbackPipelined(1000, 9, 4, { seed: 4 });
    expect(short).toMatchObject({ transfers: 9, bytesRead: 9000, ok: true });
    // The echo stream is still in step: a plain loopback after both comes back intact.
    expect(await world.agent.loopback(777, { seed: 5 })).toMatchObject({ ok: true, bytesRead: 777 });
    // On the scenario clock the bus carried both directions at no more than the high-speed ceiling.
    expect(((multiple.bytesWritten + multiple.bytesRead) * 1000) / multiple.elapsedMs).toBeLessThanOrEqual(53_248_000);
  });

  it('receives bulk IN data into a caller-supplied buffer, and rejects one that is too small', async () => {
    await using world = await openBenchWorld();
    const payload = Uint8Array.from({ length: 100 }, (_, i) => i);
    const rx = new Uint8Array(1024);
    const reading = world.handle.bulkIn(0x81, 512, { buffer: rx });
    await world.handle.bulkOut(0x01, payload);
    const r = await reading;
    expect(r.data.buffer).toBe(rx.buffer);
    expect([...r.data]).toEqual([...payload]);
    await expect(world.handle.bulkIn(0x81, 512, { buffer: new Uint8Array(100) })).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_INVALID_PARAM' });
  });

  it('times out a 30-second IN in virtual time', async () => {
    await using world = await openBenchWorld();
    const v0 = world.simulation.clock.now();
    const err = await world.handle.bulkIn(0x81, 512, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(isTimeout(err)).toBe(true);
    expect(world.simulation.clock.now() - v0).toBeGreaterThanOrEqual(30_000);
  });
});
