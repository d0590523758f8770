import { describe, expect, it } from 'vitest';
import { type Clock, type ClockTimer, isCancelled, isTimeout, LibusbError, TimeoutError } from '../../core/index.js';
import { classInterface } from '../setup-packet.js';
import type { UsbHotplugEvent } from '../usb-host.js';
import { FakeDevice, FakeLibUSBException, FakeUsbModule, loopbackInterface } from './fake-usb-module.js';
import { NodeUsbHost, speedFromDescriptors } from './node-usb-host.js';

/** A clock the test advances by hand. */
class ManualClock implements Clock {
  t = 0;
  timers: { at: number; cb: () => void; live: boolean }[] = [];
  now(): number {
    return this.t;
  }
  setTimer(delayMs: number, cb: () => void): ClockTimer {
    const timer = { at: this.t + delayMs, cb, live: true };
    this.timers.push(timer);
    return { cancel: () => (timer.live = false) };
  }
  advance(ms: number): void {
    this.t += ms;
    for (const tm of this.timers.filter((x) => x.live && x.at <= this.t)) {
      tm.live = false;
      tm.cb();
    }
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function setup(opts: { platform?: string; device?: FakeDevice } = {}) {
  const device = opts.device ?? new FakeDevice();
  const usb = new FakeUsbModule([device]);
  const clock = new ManualClock();
  const host = await NodeUsbHost.create({ usbModule: usb, clock, platform: opts.platform ?? 'linux' });
  const [info] = await host.listDevices({ vendorId: 0x1209 });
  if (info === undefined) throw new Error('fake device not listed');
  const handle = await host.open(info);
  return { device, usb, clock, host, info, handle };
}

describe('NodeUsbHost listing', () => {
  it('lists devices with descriptors, strings, interfaces and a port-path id', async () => {
    const host = await NodeUsbHost.create({ usbModule: new FakeUsbModule([new FakeDevice({ portNumbers: [1, 4] })]) });
    expect(await host.listDevices()).toEqual([
      {
        id: '1-1.4',
        busNumber: 1,
        deviceAddress: 2,
        vendorId: 0x1209,
        productId: 0x0001,
        deviceVersion: 0x0100,
        speed: 'high',
        manufacturer: 'usbfn-hil',
        product: 'Loopback',
        serialNumber: 'SN-0001',
        interfaces: [{ interfaceNumber: 0, interfaceClass: 0xff }],
      },
    ]);
  });

  it('filters by VID, PID, serial, interface class and number', async () => {
    const a = new FakeDevice({ deviceAddress: 2 });
    const b = new FakeDevice({ deviceAddress: 3, descriptor: { idProduct: 2 }, strings: { 1: 'x', 2: 'y', 3: 'SN-B' }, interfaces: [loopbackInterface(3)] });
    const host = await NodeUsbHost.create({ usbModule: new FakeUsbModule([a, b]) });
    const addrs = async (f: Parameters<typeof host.listDevices>[0]) => (await host.listDevices(f)).map((d) => d.deviceAddress);
    expect(await addrs({ vendorId: 0x1209 })).toEqual([2, 3]);
    expect(await addrs({ productId: 2 })).toEqual([3]);
    expect(await addrs({ serialNumber: 'SN-B' })).toEqual([3]);
    expect(await addrs({ interfaceNumber: 3 })).toEqual([3]);
    expect(await addrs({ interfaceClass: 0x08 })).toEqual([]);
    expect(await addrs({ vendorId: 0x1234 })).toEqual([]);
  });

  it('lists a device it may not open without strings', async () => {
    const host = await NodeUsbHost.create({ usbModule: new FakeUsbModule([new FakeDevice({ openErrno: -3 })]) });
    const [d] = await host.listDevices();
    expect(d).toMatchObject({ vendorId: 0x1209, manufacturer: undefined, serialNumber: undefined });
  });

  it('infers the speed from descriptors', () => {
    expect(speedFromDescriptors(new FakeDevice({ interfaces: [loopbackInterface(0, 64)] }))).toBe('full');
    expect(speedFromDescriptors(new FakeDevice())).toBe('high');
    expect(speedFromDescriptors(new FakeDevice({ descriptor: { bcdUSB: 0x0320, bMaxPacketSize0: 9 }, interfaces: [loopbackInterface(0, 1024)] }))).toBe('super');
  });
});

describe('NodeUsbHost open', () => {
  it('maps open failures to LibusbError with the libusb name', async () => {
    const usb = new FakeUsbModule([new FakeDevice({ openErrno: -3 })]);
    const host = await NodeUsbHost.create({ usbModule: usb });
    const [info] = await host.listDevices();
    await expect(host.open(info!)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_ACCESS', errno: -3 });
    usb.devices = [];
    await expect(host.open(info!)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NO_DEVICE' });
  });
});

describe('NodeUsbDeviceHandle control transfers', () => {
  it('sends the SETUP bytes with the per-call timeout and returns IN data', async () => {
    const { device, handle } = await setup();
    const p = handle.controlIn(classInterface(0, 0x01), 48, { timeoutMs: 250 });
    const t = device.last();
    expect(t.endpoint).toBe(0);
    expect(t.type).toBe(0);
    expect(t.timeout).toBe(250);
    expect(Array.from(t.buffer!.subarray(0, 8))).toEqual([0xa1, 0x01, 0, 0, 0, 0, 48, 0]);
    expect(t.buffer!.length).toBe(56);
    t.complete(undefined, 3, Uint8Array.from([7, 8, 9]));
    const r = await p;
    expect(r.status).toBe('ok');
    expect(Array.from(r.data)).toEqual([7, 8, 9]);
  });

  it('sends OUT data after the SETUP and reports bytes written; default timeout 5000', async () => {
    const { device, handle } = await setup();
    const p = handle.controlOut(classInterface(0, 0x07), Uint8Array.from([1, 2, 3, 4]));
    const t = device.last();
    expect(t.timeout).toBe(5000);
    expect(Array.from(t.buffer!)).toEqual([0x21, 0x07, 0, 0, 0, 0, 4, 0, 1, 2, 3, 4]);
    t.complete(undefined, 4);
    expect(await p).toEqual({ status: 'ok', bytesWritten: 4 });
  });

  it('resolves a stalled control transfer with status stall', async () => {
    const { device, handle } = await setup();
    const p = handle.controlIn(classInterface(0, 0x42), 8);
    device.last().complete(new FakeLibUSBException(4), 0);
    expect(await p).toEqual({ status: 'stall', data: new Uint8Array(0) });
  });

  it('rejects a timed-out control transfer with LIBUSB_TRANSFER_TIMED_OUT', async () => {
    const { device, handle } = await setup();
    const p = handle.controlIn(classInterface(0, 0x01), 8, { timeoutMs: 10 });
    device.last().complete(new FakeLibUSBException(2), 0);
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibusbError);
    expect(err).toMatchObject({ op: 'controlIn', libusbName: 'LIBUSB_TRANSFER_TIMED_OUT', endpoint: 0x80, actualLength: 0 });
    expect(isTimeout(err)).toBe(true);
  });

  it('rejects bad setup fields before submitting anything', async () => {
    const { device, handle } = await setup();
    await expect(handle.controlIn({ ...classInterface(0, 1), value: 0x10000 }, 0)).rejects.toThrow(/wValue/);
    expect(device.submitted).toHaveLength(0);
  });
});

describe('NodeUsbDeviceHandle bulk transfers', () => {
  it('requires a claimed interface (LIBUSB_ERROR_NOT_FOUND) and checks direction', async () => {
    const { handle } = await setup();
    await expect(handle.bulkIn(0x81, 512)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NOT_FOUND', endpoint: 0x81 });
    await handle.claimInterface(0);
    await expect(handle.bulkIn(0x01, 512)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_INVALID_PARAM' });
    await expect(handle.bulkIn(0x82, 512)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NOT_FOUND' });
  });

  it('detaches an active kernel driver on Linux and reattaches it on release', async () => {
    const { device, handle } = await setup({ platform: 'linux' });
    const iface = device.interfaces![0]!;
    iface.kernelDriverActive = true;
    await handle.claimInterface(0);
    await handle.releaseInterface(0);
    expect(iface.calls).toEqual(['detachKernelDriver', 'claim', 'release', 'attachKernelDriver']);
  });

  it('still claims when the kernel-driver query fails (LIBUSB_ERROR_OTHER), but not when the device is gone', async () => {
    const { device, handle } = await setup({ platform: 'linux' });
    const iface = device.interfaces![0]!;
    iface.driverQueryErrno = -99;
    await handle.claimInterface(0);
    expect(iface.calls).toEqual(['claim']);
    await handle.releaseInterface(0);
    iface.driverQueryErrno = -4;
    await expect(handle.claimInterface(0)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NO_DEVICE' });
  });

  it('does not detach on other platforms (claim then fails BUSY)', async () => {
    const { device, handle } = await setup({ platform: 'darwin' });
    device.interfaces![0]!.kernelDriverActive = true;
    await expect(handle.claimInterface(0)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_BUSY' });
    await expect(handle.claimInterface(7)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NOT_FOUND' });
  });

  it('keeps several IN transfers in flight and completes them independently', async () => {
    const { device, handle } = await setup();
    await handle.claimInterface(0);
    const ps = [0, 1, 2].map(() => handle.bulkIn(0x81, 512, { timeoutMs: 100 }));
    expect(device.submitted).toHaveLength(3);
    device.submitted[2]!.complete(undefined, 1, Uint8Array.from([3]));
    device.submitted[0]!.complete(undefined, 1, Uint8Array.from([1]));
    device.submitted[1]!.complete(new FakeLibUSBException(6), 512);
    const [a, b, c] = await Promise.all(ps);
    expect([a?.status, Array.from(a?.data ?? [])]).toEqual(['ok', [1]]);
    expect(b?.status).toBe('babble');
    expect([c?.status, Array.from(c?.data ?? [])]).toEqual(['ok', [3]]);
  });

  it('maps stall to a status and every other failure to LibusbError with actualLength', async () => {
    const { device, handle } = await setup();
    await handle.claimInterface(0);
    const s = handle.bulkIn(0x81, 64);
    device.last().complete(new FakeLibUSBException(4), 0);
    expect(await s).toEqual({ status: 'stall', data: new Uint8Array(0) });
    const g = handle.bulkOut(0x01, new Uint8Array(1024));
    device.last().complete(new FakeLibUSBException(5), 512);
    await expect(g).rejects.toMatchObject({ op: 'bulkOut', libusbName: 'LIBUSB_TRANSFER_NO_DEVICE', endpoint: 0x01, actualLength: 512 });
    const t = handle.bulkIn(0x81, 1024);
    device.last().complete(new FakeLibUSBException(2), 512);
    await expect(t).rejects.toMatchObject({ libusbName: 'LIBUSB_TRANSFER_TIMED_OUT', actualLength: 512 });
    device.submitError = new FakeLibUSBException(-4);
    await expect(handle.bulkIn(0x81, 8)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NO_DEVICE' });
  });

  it('cancels on abort (LIBUSB_TRANSFER_CANCELLED) and does not submit when already aborted', async () => {
    const { device, handle } = await setup();
    await handle.claimInterface(0);
    const ac = new AbortController();
    const p = handle.bulkIn(0x81, 512, { signal: ac.signal });
    ac.abort();
    const err = await p.catch((e: unknown) => e);
    expect(device.last().cancelled).toBe(true);
    expect(err).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_CANCELLED' });
    expect(isCancelled(err)).toBe(true);
    const n = device.submitted.length;
    await expect(handle.bulkOut(0x01, new Uint8Array(4), { signal: ac.signal })).rejects.toMatchObject({ libusbName: 'LIBUSB_TRANSFER_CANCELLED' });
    expect(device.submitted).toHaveLength(n);
  });

  it('queues a zero-length transfer only behind a non-zero multiple of wMaxPacketSize', async () => {
    const { device, handle } = await setup();
    await handle.claimInterface(0);
    const data = new Uint8Array(1024);
    const p = handle.bulkOut(0x01, data, { zeroLengthPacket: true });
    expect(device.submitted.map((t) => t.buffer!.length)).toEqual([1024, 0]);
    // No copy: the transfer buffer is a view over the caller's bytes.
    expect(device.submitted[0]!.buffer!.buffer).toBe(data.buffer);
    device.submitted[0]!.complete(undefined, 1024);
    device.submitted[1]!.complete(undefined, 0);
    expect(await p).toEqual({ status: 'ok', bytesWritten: 1024 });
    const q = handle.bulkOut(0x01, new Uint8Array(1000), { zeroLengthPacket: true });
    expect(device.submitted).toHaveLength(3);
    device.last().complete(undefined, 1000);
    expect(await q).toEqual({ status: 'ok', bytesWritten: 1000 });
    void handle.bulkOut(0x01, new Uint8Array(512)).catch(() => undefined);
    expect(device.submitted).toHaveLength(4);
  });

  it.each([
    ['stalls', () => new FakeLibUSBException(4), 'resolves'],
    ['times out', () => new FakeLibUSBException(2), 'rejects'],
    ['loses the device', () => new FakeLibUSBException(5), 'rejects'],
  ] as const)('cancels the queued zero-length transfer when the payload %s, before reporting', async (_what, error, settles) => {
    const { device, handle } = await setup();
    await handle.claimInterface(0);
    const p = handle.bulkOut(0x01, new Uint8Array(512), { zeroLengthPacket: true }).catch((e: unknown) => e);
    const [payload, zlp] = device.submitted;
    expect(zlp!.buffer!.length).toBe(0);
    payload!.complete(error(), 0);
    const r = await p;
    expect(zlp!.cancelled).toBe(true);
    expect(zlp!.pending).toBe(false); // completed (cancelled) before the result was reported
    if (settles === 'resolves') expect(r).toEqual({ status: 'stall', bytesWritten: 0 });
    else expect(r).toBeInstanceOf(Error);
  });

  it('cancels the payload and its zero-length transfer when the caller aborts', async () => {
    const { device, handle } = await setup();
    await handle.claimInterface(0);
    const ac = new AbortController();
    const p = handle.bulkOut(0x01, new Uint8Array(512), { zeroLengthPacket: true, signal: ac.signal }).catch((e: unknown) => e);
    ac.abort();
    await expect(p).resolves.toMatchObject({ libusbName: 'LIBUSB_TRANSFER_CANCELLED' });
    expect(device.submitted.map((t) => [t.cancelled, t.pending])).toEqual([
      [true, false],
      [true, false],
    ]);
  });

  it.each([
    ['times out', 2, 'LIBUSB_TRANSFER_TIMED_OUT'],
    ['is cancelled', 3, 'LIBUSB_TRANSFER_CANCELLED'],
  ] as const)('keeps the bytes a bulk IN received before it %s as receivedData (not in the JSON)', async (_what, errno, name) => {
    const { device, handle } = await setup();
    await handle.claimInterface(0);
    const p = handle.bulkIn(0x81, 1024).catch((e: unknown) => e);
    device.last().complete(new FakeLibUSBException(errno), 3, Uint8Array.of(7, 8, 9));
    const err = (await p) as LibusbError;
    expect(err).toMatchObject({ libusbName: name, actualLength: 3 });
    expect([...err.receivedData!]).toEqual([7, 8, 9]);
    expect(JSON.stringify(err)).not.toContain('receivedData');
    // Nothing received: no view.
    const q = handle.bulkIn(0x81, 64).catch((e: unknown) => e);
    device.last().complete(new FakeLibUSBException(errno), 0);
    expect(((await q) as LibusbError).receivedData).toBeUndefined();
  });

  it('clears a halt through the endpoint and maps its failure', async () => {
    const { device, handle } = await setup();
    await handle.claimInterface(0);
    await handle.clearHalt(0x81);
    const ep = device.interfaces![0]!.endpoints[1]!;
    expect(ep.clearHaltCalls).toBe(1);
    ep.clearHaltError = new FakeLibUSBException(-4);
    await expect(handle.clearHalt(0x81)).rejects.toMatchObject({ op: 'clearHalt', libusbName: 'LIBUSB_ERROR_NO_DEVICE', endpoint: 0x81 });
  });

  it('maps a reset failure and selects alternates on claimed interfaces only', async () => {
    const { device, handle } = await setup();
    device.resetError = new FakeLibUSBException(-5);
    await expect(handle.reset()).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NOT_FOUND' });
    await expect(handle.selectAlternate(0, 1)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NOT_FOUND' });
    await handle.claimInterface(0);
    await handle.selectAlternate(0, 1);
    expect(device.interfaces![0]!.calls).toContain('setAltSetting(1)');
    await expect(handle.selectConfiguration(1)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_BUSY' });
  });

  it('close cancels in-flight transfers, releases, closes once; later calls fail NO_DEVICE', async () => {
    const { device, handle, host } = await setup();
    await handle.claimInterface(0);
    const p = handle.bulkIn(0x81, 512);
    p.catch(() => undefined);
    await handle.close();
    await handle.close();
    await host.close();
    expect(device.last().cancelled).toBe(true);
    await expect(p).rejects.toMatchObject({ libusbName: 'LIBUSB_TRANSFER_CANCELLED' });
    expect(device.interfaces).toBeUndefined();
    expect(device.isOpen).toBe(false);
    await expect(handle.controlIn(classInterface(0, 1), 1)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NO_DEVICE' });
  });
});

describe('NodeUsbHost waiting and hotplug', () => {
  it('resolves waitForDevice when a matching device attaches', async () => {
    const usb = new FakeUsbModule([]);
    const clock = new ManualClock();
    const host = await NodeUsbHost.create({ usbModule: usb, clock });
    const p = host.waitForDevice({ vendorId: 0x1209, serialNumber: 'SN-0001' }, { timeoutMs: 1000 });
    await tick();
    usb.attach(new FakeDevice({ descriptor: { idVendor: 0x1234 } }));
    usb.attach(new FakeDevice({ deviceAddress: 9 }));
    const info = await p;
    expect(info.deviceAddress).toBe(9);
    expect(usb.listenerCount('attach')).toBe(0);
  });

  it('finds a device already attached, and times out on the host clock otherwise', async () => {
    const usb = new FakeUsbModule([new FakeDevice()]);
    const clock = new ManualClock();
    const host = await NodeUsbHost.create({ usbModule: usb, clock });
    expect((await host.waitForDevice({ productId: 1 }, { timeoutMs: 10 })).productId).toBe(1);
    const p = host.waitForDevice({ productId: 2 }, { timeoutMs: 3000 });
    await tick();
    clock.advance(3000);
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toContain('PID 0x0002');
    expect(usb.listenerCount('attach')).toBe(0);
  });

  it('streams attach/detach events until the signal aborts', async () => {
    const usb = new FakeUsbModule([]);
    const host = await NodeUsbHost.create({ usbModule: usb });
    const ac = new AbortController();
    const seen: UsbHotplugEvent[] = [];
    const done = (async () => {
      for await (const ev of host.hotplugEvents({ signal: ac.signal })) seen.push(ev);
    })();
    const d = new FakeDevice({ deviceAddress: 5 });
    usb.attach(d);
    usb.detach(d);
    await tick();
    ac.abort();
    await done;
    expect(seen.map((e) => [e.type, e.device.deviceAddress])).toEqual([['attach', 5], ['detach', 5]]);
    expect(usb.listenerCount('attach') + usb.listenerCount('detach')).toBe(0);
  });
});

// Found by the UsbHost contract on real libusb (umockdev tier): node-usb keeps one libusb handle per
// device object, so two UsbDeviceHandles of one device must share it without sharing claims.
describe('NodeUsbHost handles of one device', () => {
  it('opens the libusb handle once, rejects a second claim with LIBUSB_ERROR_BUSY, closes on the last close', async () => {
    const { device, host, info, handle } = await setup();
    const opened = device.openCount;
    const other = await host.open(info);
    expect(device.openCount).toBe(opened);
    await handle.claimInterface(0);
    await expect(other.claimInterface(0)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_BUSY' });
    await other.close();
    expect(device.isOpen).toBe(true);
    const p = handle.bulkIn(0x81, 64);
    device.last().complete(undefined, 2, Uint8Array.of(5, 6));
    expect((await p).data).toEqual(Uint8Array.of(5, 6));
    await handle.close();
    expect(device.isOpen).toBe(false);
  });

  it('lets another handle claim an interface once its owner released it', async () => {
    const { host, info, handle } = await setup();
    const other = await host.open(info);
    await handle.claimInterface(0);
    await handle.releaseInterface(0);
    await expect(other.claimInterface(0)).resolves.toBeUndefined();
    await other.close();
    await handle.close();
  });

  it('returns IN data as a plain Uint8Array, not a Buffer', async () => {
    const { device, handle } = await setup();
    const c = handle.controlIn(classInterface(0, 0x01), 8);
    device.last().complete(undefined, 2, Uint8Array.of(1, 2));
    const r = await c;
    expect(r.data.constructor).toBe(Uint8Array);
    expect(r.data).toEqual(Uint8Array.of(1, 2));
  });
});
