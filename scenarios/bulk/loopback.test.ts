/**
 * Bulk loopback: what the host writes to bulk OUT comes back byte-exact on bulk IN, at the packet-size
 * edges of the world's speed (0, 1, max-1, max, max+1), and for large transfers (64 KiB, 1 MiB).
 * @see Microsoft HLK "Windows USB Device" loopback tests (full, max, short packet); Linux usbtest bulk cases
 * @see USB 2.0 §5.8.3 (bulk packet sizes), §5.3.2 (short packet ends a transfer)
 */
import { describe, expect, param, phase, test } from '../../harness/index.js';

test('echoes 512 bytes byte-exact', async ({ agent }) => {
  await param('bytes', 512);
  const result = await phase('loop back', () => agent.loopback(512, { seed: 1 }));
  expect(result).toMatchObject({ ok: true, bytesRead: 512, firstMismatch: -1 });
});

describe('high speed (wMaxPacketSize 512)', () => {
  test('reports 512-byte bulk packets', async ({ agent }) => {
    expect(agent.maxPacketSize).toBe(512);
  });

  test('echoes a zero-length transfer as a zero-length packet', async ({ agent }) => {
    await param('bytes', 0);
    const w = await phase('write a zero-length packet', () => agent.handle.bulkOut(agent.bulkOutEndpoint, new Uint8Array(0)));
    expect(w).toEqual({ status: 'ok', bytesWritten: 0 });
    const r = await phase('read the echo', () => agent.handle.bulkIn(agent.bulkInEndpoint, 512));
    expect(r.status).toBe('ok');
    expect(r.data.length).toBe(0);
    const counters = await agent.getCounters();
    expect(counters.bulkOutTransfers).toBe(1);
    expect(counters.bulkInTransfers).toBe(1);
  });

  test.for([1, 511, 512, 513])('echoes a %i-byte transfer byte-exact', async (bytes, { agent }) => {
    await param('bytes', bytes);
    const result = await phase('loop back', () => agent.loopback(bytes, { seed: bytes }));
    expect(result).toMatchObject({ ok: true, bytesWritten: bytes, bytesRead: bytes, firstMismatch: -1 });
  });

  test('echoes 64 KiB byte-exact', async ({ agent }) => {
    await param('bytes', 64 * 1024);
    const result = await phase('loop back', () => agent.loopback(64 * 1024, { seed: 64 }));
    expect(result).toMatchObject({ ok: true, bytesRead: 64 * 1024, firstMismatch: -1 });
  });

  test('echoes 1 MiB byte-exact', async ({ agent }) => {
    await param('bytes', 1024 * 1024);
    const result = await phase('loop back', () => agent.loopback(1024 * 1024, { seed: 1024 }));
    expect(result).toMatchObject({ ok: true, bytesRead: 1024 * 1024, firstMismatch: -1 });
    // An exact multiple of wMaxPacketSize: the echo (TRANSFER_IN_APPEND_ZERO_PKT) ends with a zero-length
    // packet, which the loopback read as well: the device's TRANSFER_IN completed, and the pipe holds nothing.
    const counters = await agent.getCounters();
    expect(counters.bulkInTransfers).toBe(1);
    expect(counters.bulkOutBytes).toBe(BigInt(1024 * 1024));
    expect(counters.bulkInBytes).toBe(BigInt(1024 * 1024));
    const next = await phase('loop back 3 bytes with the raw handle', async () => {
      await agent.handle.bulkOut(agent.bulkOutEndpoint, Uint8Array.of(1, 2, 3));
      return agent.handle.bulkIn(agent.bulkInEndpoint, 512);
    });
    expect(next).toMatchObject({ status: 'ok', data: Uint8Array.of(1, 2, 3) });
  });
});

describe('full speed (wMaxPacketSize 64)', () => {
  test.override({ world: { speed: 'full' } });

  test('enumerates at full speed with 64-byte bulk packets', async ({ agent }) => {
    expect(agent.handle.info.speed).toBe('full');
    expect(agent.maxPacketSize).toBe(64);
  });

  test('echoes a zero-length transfer as a zero-length packet', async ({ agent }) => {
    await param('bytes', 0);
    await agent.handle.bulkOut(agent.bulkOutEndpoint, new Uint8Array(0));
    const r = await phase('read the echo', () => agent.handle.bulkIn(agent.bulkInEndpoint, 64));
    expect(r).toMatchObject({ status: 'ok' });
    expect(r.data.length).toBe(0);
  });

  test.for([1, 63, 64, 65, 4096])('echoes a %i-byte transfer byte-exact', async (bytes, { agent }) => {
    await param('bytes', bytes);
    const result = await phase('loop back', () => agent.loopback(bytes, { seed: bytes }));
    expect(result).toMatchObject({ ok: true, bytesWritten: bytes, bytesRead: bytes, firstMismatch: -1 });
  });
});
