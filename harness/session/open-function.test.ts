import { describe, expect, it } from 'vitest';
import { delay, isTimeout } from '../../core/index.js';
import type { UsbDeviceFilter, UsbDeviceHandle, UsbDeviceInfo, UsbHost } from '../../host-side/index.js';
import { VirtualClock } from '../../simulator/index.js';
import { openFunctionHandle } from './open-function.js';

const INFO: UsbDeviceInfo = { id: 'fake-1-1', busNumber: 1, deviceAddress: 1, vendorId: 0x1209, productId: 0x0001, deviceVersion: 0x0100, speed: 'high', interfaces: [] };

/** A host whose device shows up after `foundAfterMs` and opens after `openMs` (virtual time); it records what it saw. */
function slowHost(clock: VirtualClock, foundAfterMs: number, openMs: number) {
  const seen = { waitTimeoutMs: -1, openTimeoutMs: -1, closed: 0 };
  const handle = {
    info: INFO,
    claimInterface: async () => undefined,
    close: async () => {
      seen.closed++;
    },
  } as unknown as UsbDeviceHandle;
  const host = {
    backend: 'fake',
    async waitForDevice(_filter: UsbDeviceFilter, options: { timeoutMs: number; signal?: AbortSignal }): Promise<UsbDeviceInfo> {
      seen.waitTimeoutMs = options.timeoutMs;
      await delay(clock, foundAfterMs, options.signal);
      return INFO;
    },
    async open(_info: UsbDeviceInfo, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<UsbDeviceHandle> {
      seen.openTimeoutMs = options.timeoutMs ?? -1;
      await delay(clock, openMs, options.signal);
      return handle;
    },
  } as unknown as UsbHost;
  return { host, seen };
}

describe('openFunctionHandle', () => {
  it('spends one deadline over all steps: a 2 s open whose device appears at 122 ms ends at 2 s, not 2.122 s', async () => {
    const clock = new VirtualClock();
    const { host, seen } = slowHost(clock, 122, 5);
    const device = { whenConfigured: (o: { timeoutMs?: number; signal?: AbortSignal } = {}) => delay(clock, 60_000, o.signal) };
    const err = await openFunctionHandle({ host, device, filter: { vendorId: 0x1209 }, interfaceNumber: 0, clock, timeoutMs: 2_000 }).catch((e: unknown) => e);
    expect(isTimeout(err)).toBe(true);
    expect((err as Error).message).toMatch(/within 2000 ms: still at step 'wait until the device side is configured'/);
    expect(clock.now()).toBe(2_000);
    // Each step was bounded by what was left, and the handle nobody will get was closed.
    expect(seen).toEqual({ waitTimeoutMs: 2_000, openTimeoutMs: 2_000 - 122, closed: 1 });
  });

  it('hands back the claimed handle when every step fits', async () => {
    const clock = new VirtualClock();
    const { host, seen } = slowHost(clock, 122, 5);
    const device = { whenConfigured: () => delay(clock, 50) };
    const handle = await openFunctionHandle({ host, device, filter: {}, interfaceNumber: 0, clock, timeoutMs: 2_000 });
    expect(handle.info).toBe(INFO);
    expect(clock.now()).toBe(177);
    expect(seen.closed).toBe(0);
  });
});
