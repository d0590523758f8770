import { describe, expect, it } from 'vitest';
import { LibusbError } from '../../../core/index.js';
import type { UrbEvent } from '../../capture/index.js';
import { UfxAbort } from '../link-contract.js';
import { bulkThroughputLimit } from './bus-timing.js';
import { type SimLinkOptions, startSimLink } from '../testing/index.js';

/** A link whose bulk endpoints the test drives by hand from both ends. */
async function manual(options: SimLinkOptions = {}) {
  const link = await startSimLink({ driver: { loopback: false }, ...options });
  const dev = await link.host.open(link.info!);
  await dev.claimInterface(0);
  const fn = link.ufx.link(0);
  return { ...link, dev, fn };
}

const bytes = (n: number, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

/** Settles pending microtasks and clock turns without advancing past `ms` of virtual time. */
async function runFor(clock: { setTimer(ms: number, cb: () => void): unknown }, ms: number): Promise<void> {
  await new Promise<void>((resolve) => clock.setTimer(ms, resolve));
}

describe('bulk IN packet rules (device → host)', () => {
  it('ends a host IN at a short packet', async () => {
    const { dev, fn } = await manual();
    const sent = fn.transferIn(0x81, bytes(700), false);
    const got = await dev.bulkIn(0x81, 4096);
    expect(got.status).toBe('ok');
    expect(got.data).toEqual(bytes(700));
    await expect(sent.result).resolves.toBe(700);
  });

  it('ends a host IN when its buffer is full and gives the rest to the next URB', async () => {
    const { dev, fn } = await manual();
    const sent = fn.transferIn(0x81, bytes(1024), false);
    const [a, b] = await Promise.all([dev.bulkIn(0x81, 512), dev.bulkIn(0x81, 512)]);
    expect(a.data).toEqual(bytes(1024).subarray(0, 512));
    expect(b.data).toEqual(bytes(1024).subarray(512));
    await expect(sent.result).resolves.toBe(1024);
  });

  it('appends a zero-length packet only when the length is an exact multiple of wMaxPacketSize (APPEND_ZERO_PKT)', async () => {
    const { dev, fn, clock, bus } = await manual();
    // 1024 = 2 × 512: the ZLP ends the host's larger URB.
    fn.transferIn(0x81, bytes(1024), true);
    const exact = await dev.bulkIn(0x81, 4096);
    expect(exact.data.length).toBe(1024);
    expect(bus.endpointState(0x81).queuedDevice).toBe(0);
    // 1000 is not a multiple: the short packet ends it and no ZLP follows for the next URB.
    fn.transferIn(0x81, bytes(1000), true);
    expect((await dev.bulkIn(0x81, 4096)).data.length).toBe(1000);
    const next = dev.bulkIn(0x81, 64, { timeoutMs: 50 });
    await expect(next).rejects.toMatchObject({ libusbName: 'LIBUSB_TRANSFER_TIMED_OUT', actualLength: 0 });
    void clock;
  });

  it('sends no ZLP without the flag: an exact multiple leaves the host URB waiting for more', async () => {
    const { dev, fn } = await manual();
    const pending = dev.bulkIn(0x81, 4096);
    await expect(fn.transferIn(0x81, bytes(512), false).result).resolves.toBe(512);
    fn.transferIn(0x81, bytes(100, 9), false);
    const got = await pending;
    expect(got.data.length).toBe(612);
    expect(got.data.subarray(512)).toEqual(bytes(100, 9));
  });

  it('sends a single ZLP for a 0-byte TRANSFER_IN', async () => {
    const { dev, fn } = await manual();
    fn.transferIn(0x81, new Uint8Array(0), false);
    const got = await dev.bulkIn(0x81, 512);
    expect(got).toMatchObject({ status: 'ok' });
    expect(got.data.length).toBe(0);
  });

  it('NAKs a host IN until the device queues data', async () => {
    const { dev, fn, clock } = await manual();
    let done = false;
    const pending = dev.bulkIn(0x81, 64).then((r) => ((done = true), r));
    await runFor(clock, 1000);
    expect(done).toBe(false);
    fn.transferIn(0x81, bytes(10), false);
    expect((await pending).data).toEqual(bytes(10));
  });

  it('reports babble when a packet is larger than the space left in the host URB', async () => {
    const { dev, fn } = await manual();
    const sent = fn.transferIn(0x81, bytes(512), false);
    const got = await dev.bulkIn(0x81, 100);
    expect(got.status).toBe('babble');
    expect(got.data).toEqual(bytes(512).subarray(0, 100));
    // ASSUMPTION(link-babble): the device's packet counts as sent.
    await expect(sent.result).resolves.toBe(512);
  });

  it('keeps several host URBs in flight per endpoint in FIFO order', async () => {
    const { dev, fn } = await manual();
    const urbs = [dev.bulkIn(0x81, 64), dev.bulkIn(0x81, 64), dev.bulkIn(0x81, 64)];
    for (let i = 0; i < 3; i++) fn.transferIn(0x81, bytes(10, i), false);
    const got = await Promise.all(urbs);
    expect(got.map((g) => g.data)).toEqual([bytes(10, 0), bytes(10, 1), bytes(10, 2)]);
  });
});

describe('bulk OUT packet rules (host → device)', () => {
  it('ends a device OUT buffer at a short packet', async () => {
    const { dev, fn } = await manual();
    const buf = new Uint8Array(4096);
    const recv = fn.transferOut(0x01, buf);
    await dev.bulkOut(0x01, bytes(700));
    await expect(recv.result).resolves.toBe(700);
    expect(buf.subarray(0, 700)).toEqual(bytes(700));
  });

  it('adds a ZLP after an exact multiple only with zeroLengthPacket, ending the device buffer', async () => {
    const { dev, fn, clock } = await manual();
    const withZlp = fn.transferOut(0x01, new Uint8Array(4096));
    await dev.bulkOut(0x01, bytes(1024), { zeroLengthPacket: true });
    await expect(withZlp.result).resolves.toBe(1024);
    const without = fn.transferOut(0x01, new Uint8Array(4096));
    let settled = false;
    void without.result.then(() => (settled = true));
    await dev.bulkOut(0x01, bytes(1024));
    await runFor(clock, 100);
    expect(settled).toBe(false);
    await dev.bulkOut(0x01, bytes(1));
    await expect(without.result).resolves.toBe(1025);
  });

  it('NAKs the host OUT until the device queues a buffer', async () => {
    const { dev, fn, clock } = await manual();
    let done = false;
    const sending = dev.bulkOut(0x01, bytes(10)).then((r) => ((done = true), r));
    await runFor(clock, 1000);
    expect(done).toBe(false);
    fn.transferOut(0x01, new Uint8Array(64));
    await expect(sending).resolves.toEqual({ status: 'ok', bytesWritten: 10 });
  });

  it('ends the device request with UfxAbort overflow when a packet exceeds the buffer left', async () => {
    const { dev, fn } = await manual();
    const recv = fn.transferOut(0x01, new Uint8Array(100));
    const sent = await dev.bulkOut(0x01, bytes(512));
    expect(sent.status).toBe('ok');
    const err: unknown = await recv.result.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UfxAbort);
    expect(err).toMatchObject({ reason: 'overflow', bytesTransferred: 100 });
  });
});

describe('halt and data toggle', () => {
  it('stalls host URBs on a halted endpoint and holds device transfers until CLEAR_FEATURE(ENDPOINT_HALT)', async () => {
    const { dev, fn, bus } = await manual();
    fn.setEndpointHalt(0x81, true);
    const held = fn.transferIn(0x81, bytes(20), false);
    expect(await dev.bulkIn(0x81, 64)).toEqual({ status: 'stall', data: new Uint8Array(0) });
    expect(bus.endpointState(0x81)).toMatchObject({ halted: true, queuedDevice: 1 });
    await dev.clearHalt(0x81);
    expect(fn.isEndpointHalted(0x81)).toBe(false);
    expect((await dev.bulkIn(0x81, 64)).data).toEqual(bytes(20));
    await expect(held.result).resolves.toBe(20);
  });

  it('flips the toggle per packet and resets it to DATA0 on clear-halt', async () => {
    const { dev, fn, bus } = await manual();
    fn.transferIn(0x81, bytes(1100), false); // 512 + 512 + 76: three packets
    await dev.bulkIn(0x81, 2048);
    expect(bus.endpointState(0x81).toggle).toBe(1);
    await dev.clearHalt(0x81);
    expect(bus.endpointState(0x81).toggle).toBe(0);
  });

  it('lets the device un-halt with SET_PIPE_STATE(FALSE), resetting the toggle', async () => {
    const { dev, fn, bus } = await manual();
    fn.transferIn(0x81, bytes(10), false);
    await dev.bulkIn(0x81, 64);
    fn.setEndpointHalt(0x81, true);
    fn.setEndpointHalt(0x81, false);
    expect(bus.endpointState(0x81)).toMatchObject({ halted: false, toggle: 0 });
  });
});

describe('bus-time model', () => {
  async function throughput(speed: 'full' | 'high', total: number): Promise<number> {
    const { dev, fn, clock } = await manual({ speed });
    const chunk = 64 * 1024;
    for (let i = 0; i < 4; i++) fn.transferIn(0x81, new Uint8Array(chunk), false);
    let queued = 4 * chunk;
    const refill = (): void => {
      if (queued < total) {
        queued += chunk;
        fn.transferIn(0x81, new Uint8Array(chunk), false).result.then(refill, () => undefined);
      }
    };
    const t0 = clock.now();
    let received = 0;
    let submitted = 0;
    const reader = async (): Promise<void> => {
      while (submitted < total) {
        submitted += chunk;
        const r = await dev.bulkIn(0x81, chunk, { timeoutMs: 60_000 });
        received += r.data.length;
        refill();
      }
    };
    await Promise.all([reader(), reader()]);
    return received / ((clock.now() - t0) / 1000);
  }

  it('moves bulk data at high speed within 2 % of 53.248 MB/s and never above', async () => {
    const bps = await throughput('high', 4 * 1024 * 1024);
    expect(bulkThroughputLimit('high')).toBe(53_248_000);
    expect(bps).toBeGreaterThan(53_248_000 * 0.98);
    expect(bps).toBeLessThanOrEqual(53_248_000 * (1 + 1e-12)); // float rounding of the clock only
  });

  it('moves bulk data at full speed within 2 % of 1.216 MB/s and never above', async () => {
    const bps = await throughput('full', 256 * 1024);
    expect(bulkThroughputLimit('full')).toBe(1_216_000);
    expect(bps).toBeGreaterThan(1_216_000 * 0.98);
    expect(bps).toBeLessThanOrEqual(1_216_000 * (1 + 1e-12));
  });

  it('charges a short packet or ZLP a full slot', async () => {
    const { dev, fn, bus } = await manual();
    fn.transferIn(0x81, new Uint8Array(0), false);
    const before = bus.busyUntilMs;
    await dev.bulkIn(0x81, 64);
    expect((bus.busyUntilMs - before) * 1000).toBeCloseTo(125 / 13, 6);
  });
});

describe('timeouts, cancel, detach, reset and faults', () => {
  it('times a host IN out on the virtual clock: 30 s cost no wall time', async () => {
    const { dev, clock } = await manual();
    const wall = performance.now();
    const t0 = clock.now();
    const err: unknown = await dev.bulkIn(0x81, 64, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibusbError);
    expect(err).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_TIMED_OUT', errno: 2, actualLength: 0, endpoint: 0x81 });
    expect(clock.now() - t0).toBe(30_000);
    expect(performance.now() - wall).toBeLessThan(500);
  });

  it('reports actualLength on timeout after a partial transfer', async () => {
    const { dev, fn } = await manual();
    fn.transferIn(0x81, bytes(512), false);
    await expect(dev.bulkIn(0x81, 1024, { timeoutMs: 10 })).rejects.toMatchObject({ libusbName: 'LIBUSB_TRANSFER_TIMED_OUT', actualLength: 512 });
  });

  it('cancels a pending transfer through its AbortSignal', async () => {
    const { dev } = await manual();
    const ac = new AbortController();
    const p = dev.bulkIn(0x81, 64, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ libusbName: 'LIBUSB_TRANSFER_CANCELLED', errno: 3 });
  });

  it('purges on detach: host URBs end NO_DEVICE, device transfers UfxAbort purged, then the detach event', async () => {
    const { dev, fn, bus, driver } = await manual();
    const hostIn = dev.bulkIn(0x81, 64);
    const devOut = fn.transferOut(0x01, new Uint8Array(64));
    bus.detach();
    await expect(hostIn).rejects.toMatchObject({ libusbName: 'LIBUSB_TRANSFER_NO_DEVICE' });
    await expect(devOut.result).rejects.toMatchObject({ reason: 'purged' });
    await Promise.resolve();
    expect(driver!.events.at(-1)).toEqual({ type: 'detach' });
    await expect(dev.bulkIn(0x81, 64)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NO_DEVICE' });
  });

  it('purges on host reset, cancels the host URBs and keeps the handle valid after re-enumeration', async () => {
    const { dev, fn, driver } = await manual();
    const hostIn = dev.bulkIn(0x81, 64);
    const devOut = fn.transferOut(0x01, new Uint8Array(64));
    const resetting = dev.reset();
    await expect(hostIn).rejects.toMatchObject({ libusbName: 'LIBUSB_TRANSFER_CANCELLED' });
    await expect(devOut.result).rejects.toMatchObject({ reason: 'purged' });
    await resetting;
    expect(driver!.events.map((e) => e.type)).toEqual(expect.arrayContaining(['reset', 'configured']));
    fn.transferIn(0x81, bytes(5), false);
    expect((await dev.bulkIn(0x81, 64)).data).toEqual(bytes(5));
  });

  it('suspends after 3 ms without SOF and resumes, holding transfers meanwhile', async () => {
    const { dev, fn, bus, driver, clock } = await manual();
    bus.suspend();
    await runFor(clock, 5);
    expect(driver!.events.at(-1)).toEqual({ type: 'suspend' });
    fn.transferIn(0x81, bytes(8), false);
    let done = false;
    const p = dev.bulkIn(0x81, 64).then((r) => ((done = true), r));
    await runFor(clock, 50);
    expect(done).toBe(false);
    bus.resume();
    expect((await p).data).toEqual(bytes(8));
    expect(driver!.events.at(-1)).toEqual({ type: 'resume' });
  });

  it('drops the next URB on an endpoint so that it times out (host timeout fault)', async () => {
    const { dev, fn, bus } = await manual();
    bus.dropNextUrb(0x81);
    fn.transferIn(0x81, bytes(8), false);
    await expect(dev.bulkIn(0x81, 64, { timeoutMs: 100 })).rejects.toMatchObject({ libusbName: 'LIBUSB_TRANSFER_TIMED_OUT' });
    expect((await dev.bulkIn(0x81, 64)).data).toEqual(bytes(8));
  });

  it('unplugs when the Nth matching URB is submitted', async () => {
    const { dev, fn, bus } = await manual();
    bus.unplugOnUrb({ transferType: 'bulk', endpoint: 0x01 }, 2);
    fn.transferOut(0x01, new Uint8Array(64)).result.catch(() => undefined);
    await dev.bulkOut(0x01, bytes(4));
    await expect(dev.bulkOut(0x01, bytes(4))).rejects.toMatchObject({ libusbName: 'LIBUSB_TRANSFER_NO_DEVICE' });
    expect(bus.connected).toBe(false);
  });
});

describe('capture tap (usbmon semantics)', () => {
  it('records control IN as S(setup, wLength) + C(data) and bulk OUT as S(data) + C(actual)', async () => {
    const events: UrbEvent[] = [];
    const { dev, fn } = await manual({ urbSink: { record: (e) => events.push({ ...e, data: e.data?.slice() }) } });
    events.length = 0;
    await dev.controlIn({ requestType: 'standard', recipient: 'device', request: 0x00, value: 0, index: 0 }, 2);
    fn.transferOut(0x01, new Uint8Array(64));
    await dev.bulkOut(0x01, bytes(3), { zeroLengthPacket: true });
    const [s1, c1, s2, c2] = events;
    expect(s1).toMatchObject({ kind: 'S', transferType: 'control', endpoint: 0x80, status: -115, length: 2, transferFlags: 0x200 });
    expect(s1!.setup).toEqual(Uint8Array.of(0x80, 0, 0, 0, 0, 0, 2, 0));
    expect(c1).toMatchObject({ kind: 'C', urbId: s1!.urbId, status: 0, length: 2, data: Uint8Array.of(1, 0) });
    expect(s2).toMatchObject({ kind: 'S', transferType: 'bulk', endpoint: 0x01, length: 3, data: bytes(3), transferFlags: 0x40 });
    expect(c2).toMatchObject({ kind: 'C', urbId: s2!.urbId, status: 0, length: 3, data: undefined });
    expect(c2!.timeUs).toBeGreaterThan(s2!.timeUs);
  });

  it('records a stall as -EPIPE and a detach as -ENODEV, and a submit to a gone device as E', async () => {
    const events: UrbEvent[] = [];
    const { dev, fn, bus } = await manual({ urbSink: { record: (e) => events.push(e) } });
    fn.setEndpointHalt(0x81, true);
    await dev.bulkIn(0x81, 64);
    expect(events.at(-1)).toMatchObject({ kind: 'C', status: -32 });
    fn.setEndpointHalt(0x81, false);
    const p = dev.bulkIn(0x81, 64).catch(() => undefined);
    bus.detach();
    await p;
    expect(events.at(-1)).toMatchObject({ kind: 'C', status: -19 });
  });
});

/**
 * docs/simulator-link.md#interrupting-data-in-flight: a matched run of packets is copied at once, but a fault
 * inside its bus time stops it where the bus time says. High-speed bulk: one 512-byte packet per 125/13 µs.
 */
describe('data in flight stops where the bus time says', () => {
  const MIB = 1024 * 1024;
  /** Bytes of whole 512-byte high-speed packets that fit in `ms` of bus time. */
  const hsBytesIn = (ms: number): number => Math.floor((ms * 1000) / (125 / 13)) * 512;

  it('an unplug 8 ms into a 1 MiB IN reports the ~426 KB the bus carried by then, on both ends and in the capture', async () => {
    const events: UrbEvent[] = [];
    const { dev, fn, clock, bus } = await manual({ urbSink: { record: (e) => events.push(e) } });
    const sent = fn.transferIn(0x81, bytes(MIB), true);
    const read = dev.bulkIn(0x81, MIB + 512, { timeoutMs: 5000 }).catch((e: unknown) => e);
    await runFor(clock, 8);
    events.length = 0;
    bus.detach();
    const expected = hsBytesIn(8);
    expect(expected).toBe(425_984);
    await expect(read).resolves.toMatchObject({ libusbName: 'LIBUSB_TRANSFER_NO_DEVICE', actualLength: expected });
    await expect(sent.result).rejects.toMatchObject({ reason: 'purged', bytesTransferred: expected });
    expect(events.find((e) => e.kind === 'C' && e.endpoint === 0x81)).toMatchObject({ status: -19, length: expected });
  });

  it('a port reset inside a run ends the host URB CANCELLED with the bytes moved so far', async () => {
    const { dev, fn, clock, bus } = await manual();
    fn.transferOut(0x01, new Uint8Array(MIB)).result.catch(() => undefined);
    const write = dev.bulkOut(0x01, bytes(MIB)).catch((e: unknown) => e);
    await runFor(clock, 3);
    bus.resetPort();
    await expect(write).resolves.toMatchObject({ libusbName: 'LIBUSB_TRANSFER_CANCELLED', actualLength: hsBytesIn(3) });
  });

  it('CancelIoEx of a device IN mid-run: the request ends cancelled with its bytes, the host URB NAKs until its timeout', async () => {
    const { dev, fn, clock } = await manual();
    const data = bytes(MIB);
    const sent = fn.transferIn(0x81, data, true);
    const read = dev.bulkIn(0x81, MIB + 512, { timeoutMs: 500 }).catch((e: unknown) => e);
    await runFor(clock, 1.5);
    expect(sent.cancel()).toBe(true);
    const moved = hsBytesIn(1.5);
    await expect(sent.result).rejects.toMatchObject({ reason: 'cancelled', bytesTransferred: moved });
    const err = (await read) as { libusbName: string; actualLength: number };
    expect(err).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_TIMED_OUT', actualLength: moved });
    // The next transfer starts at once: the bus time the stopped run had reserved was given back.
    const t = clock.now();
    fn.transferIn(0x81, bytes(512, 9), false);
    expect((await dev.bulkIn(0x81, 512)).data).toEqual(bytes(512, 9));
    expect(clock.now() - t).toBeLessThan(0.1);
  });

  it('CancelIoEx of a device OUT mid-run keeps what arrived; the host write waits (NAK) and goes on into the next buffer', async () => {
    const { dev, fn, clock } = await manual();
    const first = new Uint8Array(MIB);
    const t1 = fn.transferOut(0x01, first);
    const data = bytes(MIB, 5);
    const write = dev.bulkOut(0x01, data, { timeoutMs: 5000, zeroLengthPacket: true });
    await runFor(clock, 2);
    expect(t1.cancel()).toBe(true);
    const moved = hsBytesIn(2);
    await expect(t1.result).rejects.toMatchObject({ reason: 'cancelled', bytesTransferred: moved });
    expect(first.subarray(0, moved)).toEqual(data.subarray(0, moved));
    const second = new Uint8Array(MIB);
    const t2 = fn.transferOut(0x01, second);
    await expect(write).resolves.toEqual({ status: 'ok', bytesWritten: MIB });
    await expect(t2.result).resolves.toBe(MIB - moved);
    expect(second.subarray(0, MIB - moved)).toEqual(data.subarray(moved));
  });

  it('a host cancel mid-run ends the URB CANCELLED with a partial length; the device transfer keeps its place and the rest goes to the next URB', async () => {
    const { dev, fn, clock } = await manual();
    const data = bytes(MIB, 3);
    const sent = fn.transferIn(0x81, data, false);
    const ac = new AbortController();
    const read = dev.bulkIn(0x81, MIB, { signal: ac.signal }).catch((e: unknown) => e);
    await runFor(clock, 4);
    ac.abort();
    const moved = hsBytesIn(4);
    await expect(read).resolves.toMatchObject({ libusbName: 'LIBUSB_TRANSFER_CANCELLED', actualLength: moved });
    const rest = await dev.bulkIn(0x81, MIB - moved);
    expect(rest.data).toEqual(data.subarray(moved));
    await expect(sent.result).resolves.toBe(MIB);
  });

  it('a host timeout shorter than the run ends it TIMED_OUT with the bytes moved by then (no full transfer past its deadline)', async () => {
    const { dev, fn } = await manual();
    fn.transferIn(0x81, bytes(MIB), false).result.catch(() => undefined);
    await expect(dev.bulkIn(0x81, MIB, { timeoutMs: 10 })).rejects.toMatchObject({ libusbName: 'LIBUSB_TRANSFER_TIMED_OUT', actualLength: hsBytesIn(10) });
  });

  it('a transfer whose bus time has elapsed completes normally: a cancel then changes nothing', async () => {
    const { dev, fn, clock } = await manual();
    const sent = fn.transferIn(0x81, bytes(512), false);
    const read = dev.bulkIn(0x81, 512);
    await runFor(clock, 0.05);
    expect(sent.cancel()).toBe(false);
    await expect(sent.result).resolves.toBe(512);
    expect((await read).data.length).toBe(512);
  });
});
