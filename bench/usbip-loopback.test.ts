/**
 * The USB/IP loopback benchmark, small: it runs byte-exact through the whole path (a wrong byte throws),
 * and its verdict follows the 100 MB/s target. The speed itself is judged by `npm run bench`, not here.
 */
import { describe, expect, it } from 'vitest';
import { measureUsbIpLoopback, usbipLoopbackEntry } from './usbip-loopback.js';

describe('usbipLoopback', () => {
  it('loops 1 MiB transfers byte-exact through USB/IP and the simulation', async () => {
    const f = await measureUsbIpLoopback({ runs: 1, transfersPerRun: 8, warmupTransfers: 4 });
    expect(f).toMatchObject({ transferBytes: 1024 * 1024, queued: 4, runs: 1, transfersPerRun: 8 });
    expect(f.bytesPerSecond).toBeGreaterThan(0);
  });

  it('passes at 115 MB/s (the 15 % margin), is thin at 100 MB/s and fails below, beside the in-process figure', () => {
    const figures = { transferBytes: 1 << 20, queued: 4, runs: 3, transfersPerRun: 512, warmupTransfers: 512 };
    expect(usbipLoopbackEntry({ ...figures, bytesPerSecond: 115e6 }, 1.2e9).row).toEqual(['usbipLoopback.bytesPerSecond', '115 MB/s', '≥ 100 MB/s', '1.15×', 'pass']);
    expect(usbipLoopbackEntry({ ...figures, bytesPerSecond: 100e6 }, 1.2e9).row[4]).toBe('thin');
    expect(usbipLoopbackEntry({ ...figures, bytesPerSecond: 99e6 }, 1.2e9).row[4]).toBe('FAIL');
    expect(usbipLoopbackEntry({ ...figures, bytesPerSecond: 200e6 }, 1.2e9).note).toMatch(/in process 1200 MB\/s \(× 6\.0\)/);
  });
});
