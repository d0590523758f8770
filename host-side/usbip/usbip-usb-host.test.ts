/**
 * `UsbIpUsbHost` against a scripted USB/IP server on 127.0.0.1 (raw bytes through the codec, no server
 * logic): how the client reads each status, unlinks on timeout and abort, survives the race of a
 * completion with its unlink, keeps several URBs in flight, and what it does when the server misbehaves
 * or goes away. The full behaviour against the real server and the simulation is the UsbHost contract
 * (simulator/usbip/usbip-usb-host.contract.test.ts).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isCancelled, isGone, isTimeout, TimeoutError, UsageError } from '../../core/index.js';
import { fakeDeviceDescriptors } from '../testing/index.js';
import { ByteQueue } from './byte-queue.js';
import { decodeImportBusid, decodeOpCommon, encodeOpCommon, encodeOpRepDevlist, encodeOpRepImport, type UsbIpExportedDevice } from './usbip-op-codec.js';
import { USBIP_BYTES, USBIP_COMMAND, USBIP_OP, USBIP_ST } from './usbip-protocol.js';
import { usbipStatus } from './usbip-status.js';
import { decodeUrbHeader, encodeRetSubmit, encodeRetUnlink, type UsbIpCmdSubmit, type UsbIpCmdUnlink } from './usbip-urb-codec.js';
import type { UsbIpTraceEvent } from './usbip-urb-client.js';
import { UsbIpUsbHost } from './usbip-usb-host.js';

const DEVICE: UsbIpExportedDevice = {
  path: '/scripted/3-1',
  busid: '3-1',
  busnum: 3,
  devnum: 7,
  speed: 3,
  idVendor: 0x1209,
  idProduct: 0x0001,
  bcdDevice: 0x0100,
  bDeviceClass: 0xef,
  bDeviceSubClass: 2,
  bDeviceProtocol: 1,
  bConfigurationValue: 1,
  bNumConfigurations: 1,
  bNumInterfaces: 1,
  interfaces: [{ bInterfaceClass: 0xff, bInterfaceSubClass: 1, bInterfaceProtocol: 2 }],
};

/** How the script answers a URB that is not a descriptor read: it writes replies itself. */
type OnUrb = (h: UsbIpCmdSubmit | UsbIpCmdUnlink, payload: Uint8Array, reply: ScriptedConnection) => void;

interface ScriptedConnection {
  retSubmit(seqnum: number, status: number, actualLength: number, data?: Uint8Array): void;
  retUnlink(seqnum: number, status: number): void;
  raw(bytes: Uint8Array): void;
  close(): void;
}

/** A server that speaks only what each test scripts (import, descriptors, then `onUrb`). */
async function scriptedServer(onUrb: OnUrb, importStatus: number = USBIP_ST.ST_OK): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const { device, configuration } = fakeDeviceDescriptors();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const q = new ByteQueue();
    let phase: 'op' | 'urb' = 'op';
    let pending: UsbIpCmdSubmit | undefined;
    const conn: ScriptedConnection = {
      retSubmit: (seqnum, status, actualLength, data) => {
        socket.write(encodeRetSubmit({ seqnum, devid: 0, direction: 0, ep: 0, status, actualLength, startFrame: 0, numberOfPackets: 0, errorCount: 0 }));
        if (data !== undefined && data.length > 0) socket.write(data);
      },
      retUnlink: (seqnum, status) => socket.write(encodeRetUnlink({ seqnum, devid: 0, direction: 0, ep: 0, status })),
      raw: (bytes) => socket.write(bytes),
      close: () => socket.destroy(),
    };
    socket.on('data', (chunk: Buffer) => {
      q.push(chunk);
      for (;;) {
        if (phase === 'op') {
          if (q.length < 8) return;
          const op = decodeOpCommon(q.peek(8));
          if (op.code === USBIP_OP.OP_REQ_DEVLIST) {
            q.skip(8);
            socket.end(encodeOpRepDevlist([DEVICE]));
            return;
          }
          if (q.length < 40) return;
          q.skip(8);
          expect(decodeImportBusid(q.take(32))).toBe('3-1');
          socket.write(importStatus === USBIP_ST.ST_OK ? encodeOpRepImport(USBIP_ST.ST_OK, DEVICE) : encodeOpRepImport(importStatus));
          if (importStatus !== USBIP_ST.ST_OK) return void socket.end();
          phase = 'urb';
          continue;
        }
        if (pending === undefined) {
          if (q.length < USBIP_BYTES.HEADER) return;
          const h = decodeUrbHeader(q.take(USBIP_BYTES.HEADER));
          if (h.command === USBIP_COMMAND.USBIP_CMD_UNLINK) {
            onUrb(h, new Uint8Array(0), conn);
            continue;
          }
          if (h.command !== USBIP_COMMAND.USBIP_CMD_SUBMIT) throw new Error('unexpected command');
          pending = h;
        }
        const h = pending;
        const n = h.direction === 0 ? h.transferBufferLength : 0;
        if (q.length < n) return;
        const payload = q.take(n);
        pending = undefined;
        // Descriptor reads of the open: answered from the fake device; strings stall.
        if (h.ep === 0 && h.setup[0] === 0x80 && h.setup[1] === 0x06) {
          const type = h.setup[3];
          const bytes = type === 1 ? device : type === 2 ? configuration : undefined;
          if (bytes === undefined) conn.retSubmit(h.seqnum, usbipStatus('EPIPE'), 0);
          else {
            const data = bytes.subarray(0, h.transferBufferLength);
            conn.retSubmit(h.seqnum, 0, data.length, data);
          }
          continue;
        }
        onUrb(h, payload, conn);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, sockets };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function rig(onUrb: OnUrb, options: { importStatus?: number; unlinkTimeoutMs?: number } = {}) {
  const s = await scriptedServer(onUrb, options.importStatus);
  const trace: UsbIpTraceEvent[] = [];
  const host = new UsbIpUsbHost({ port: s.port, unlinkTimeoutMs: options.unlinkTimeoutMs, trace: (e) => trace.push(e), pollIntervalMs: 10 });
  closers.push(async () => {
    await host.close();
    for (const sock of s.sockets) sock.destroy();
    await new Promise((resolve) => s.server.close(resolve));
  });
  const [info] = await host.listDevices();
  return { ...s, host, info: info!, trace };
}

async function opened(onUrb: OnUrb, options?: { unlinkTimeoutMs?: number }) {
  const r = await rig(onUrb, options);
  const dev = await r.host.open(r.info);
  await dev.claimInterface(0);
  return { ...r, dev };
}

describe('UsbIpUsbHost: devices', () => {
  it('lists the exported device with the fields of its record', async () => {
    const { info } = await rig(() => undefined);
    expect(info).toEqual({ id: '3-1', busNumber: 3, deviceAddress: 7, vendorId: 0x1209, productId: 0x0001, deviceVersion: 0x0100, speed: 'high', interfaces: [{ interfaceNumber: 0, interfaceClass: 0xff }] });
  });

  it('fails to list with USBIP_UNREACHABLE when nothing listens, and waitForDevice times out saying why', async () => {
    const s = await scriptedServer(() => undefined);
    await new Promise((resolve) => s.server.close(resolve));
    const host = new UsbIpUsbHost({ port: s.port, pollIntervalMs: 10 });
    const err: unknown = await host.listDevices().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(err).toMatchObject({ code: 'USBIP_UNREACHABLE' });
    const wait: unknown = await host.waitForDevice({ vendorId: 0x1209 }, { timeoutMs: 60 }).catch((e: unknown) => e);
    expect(wait).toBeInstanceOf(TimeoutError);
    expect((wait as Error).message).toMatch(/cannot connect to the USB\/IP server/);
  });

  it.each([
    [USBIP_ST.ST_DEV_BUSY, 'LIBUSB_ERROR_BUSY'],
    [USBIP_ST.ST_NODEV, 'LIBUSB_ERROR_NO_DEVICE'],
    [USBIP_ST.ST_DEV_ERR, 'LIBUSB_ERROR_IO'],
  ] as const)('rejects open when the server refuses the import with status %i (%s)', async (status, name) => {
    const r = await rig(() => undefined, { importStatus: status });
    await expect(r.host.open(r.info)).rejects.toMatchObject({ libusbName: name });
  });

  it('reads the descriptors on open: interfaces from the configuration, claims checked locally', async () => {
    const { dev } = await opened(() => undefined);
    expect(dev.info.interfaces).toEqual([{ interfaceNumber: 0, interfaceClass: 0xff }]);
    await expect(dev.claimInterface(1)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NOT_FOUND' });
    // The isochronous endpoint of the fake device is refused before it reaches the wire.
    await expect(dev.bulkOut(0x03, new Uint8Array(4))).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NOT_SUPPORTED' });
  });
});

describe('UsbIpUsbHost: URBs', () => {
  it('reads -EOVERFLOW as babble, -EREMOTEIO as a completed short transfer, -ENODEV as LIBUSB_TRANSFER_NO_DEVICE', async () => {
    const answers = [
      (c: ScriptedConnection, seq: number) => c.retSubmit(seq, usbipStatus('EOVERFLOW'), 8, new Uint8Array(8).fill(1)),
      (c: ScriptedConnection, seq: number) => c.retSubmit(seq, usbipStatus('EREMOTEIO'), 3, Uint8Array.of(1, 2, 3)),
      (c: ScriptedConnection, seq: number) => c.retSubmit(seq, usbipStatus('ENODEV'), 0),
      (c: ScriptedConnection, seq: number) => c.retSubmit(seq, usbipStatus('EPROTO'), 0),
    ];
    const { dev } = await opened((h, _p, c) => answers.shift()!(c, h.seqnum));
    await expect(dev.bulkIn(0x81, 8)).resolves.toEqual({ status: 'babble', data: new Uint8Array(8).fill(1) });
    await expect(dev.bulkIn(0x81, 8)).resolves.toEqual({ status: 'ok', data: Uint8Array.of(1, 2, 3) });
    const gone: unknown = await dev.bulkIn(0x81, 8).catch((e: unknown) => e);
    expect(gone).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_NO_DEVICE', endpoint: 0x81 });
    expect(isGone(gone)).toBe(true);
    await expect(dev.bulkIn(0x81, 8)).rejects.toMatchObject({ libusbName: 'LIBUSB_TRANSFER_ERROR', message: expect.stringMatching(/-EPROTO\(-71\)/) });
  });

  it('keeps several URBs in flight and matches out-of-order replies by seqnum', async () => {
    const held: UsbIpCmdSubmit[] = [];
    let conn: ScriptedConnection | undefined;
    const { dev } = await opened((h, _p, c) => {
      conn = c;
      if (h.command === USBIP_COMMAND.USBIP_CMD_SUBMIT) held.push(h);
      if (held.length === 3) for (const x of [...held].reverse()) c.retSubmit(x.seqnum, 0, 2, Uint8Array.of(x.seqnum & 0xff, 0xaa));
    });
    const results = await Promise.all([dev.bulkIn(0x81, 2), dev.bulkIn(0x81, 2), dev.bulkIn(0x81, 2)]);
    expect(conn).toBeDefined();
    const seqnums = held.map((h) => h.seqnum);
    expect(results.map((r) => r.data[0])).toEqual(seqnums.map((s) => s & 0xff));
  });

  it('unlinks a URB whose timeout expires: LIBUSB_TRANSFER_TIMED_OUT once RET_UNLINK comes', async () => {
    const { dev, trace } = await opened((h, _p, c) => {
      if (h.command === USBIP_COMMAND.USBIP_CMD_UNLINK) c.retUnlink(h.seqnum, usbipStatus('ECONNRESET'));
    });
    const err: unknown = await dev.bulkIn(0x81, 64, { timeoutMs: 30 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_TIMED_OUT', endpoint: 0x81, actualLength: 0 });
    expect(isTimeout(err)).toBe(true);
    const sent = trace.filter((t) => t.direction === 'sent').map((t) => t.header);
    const submit = sent.at(-2)!;
    expect(sent.at(-1)).toMatchObject({ command: USBIP_COMMAND.USBIP_CMD_UNLINK, unlinkSeqnum: submit.seqnum, direction: 0, ep: 0 });
  });

  it('unlinks on abort (LIBUSB_TRANSFER_CANCELLED), and lets a completion that wins the race stand', async () => {
    let mode: 'unlink' | 'complete' = 'unlink';
    const held = new Map<number, UsbIpCmdSubmit>();
    const { dev } = await opened((h, _p, c) => {
      if (h.command === USBIP_COMMAND.USBIP_CMD_SUBMIT) return void held.set(h.seqnum, h);
      if (mode === 'unlink') return c.retUnlink(h.seqnum, usbipStatus('ECONNRESET'));
      // The URB completed before the unlink reached the device: RET_SUBMIT first, then RET_UNLINK 0.
      c.retSubmit(h.unlinkSeqnum, 0, 2, Uint8Array.of(4, 2));
      c.retUnlink(h.seqnum, 0);
    });
    const ac = new AbortController();
    const p = dev.bulkIn(0x81, 64, { signal: ac.signal });
    ac.abort();
    const err: unknown = await p.catch((e: unknown) => e);
    expect(err).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_CANCELLED' });
    expect(isCancelled(err)).toBe(true);
    mode = 'complete';
    const ac2 = new AbortController();
    const q = dev.bulkIn(0x81, 64, { signal: ac2.signal });
    ac2.abort();
    await expect(q).resolves.toEqual({ status: 'ok', data: Uint8Array.of(4, 2) });
  });

  it('gives up on a server that never answers an unlink: the transfer times out, the connection is dropped', async () => {
    const { dev } = await opened(() => undefined, { unlinkTimeoutMs: 40 });
    const first: unknown = await dev.bulkIn(0x81, 64, { timeoutMs: 20 }).catch((e: unknown) => e);
    expect(first).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_TIMED_OUT' });
    await expect(dev.bulkIn(0x81, 64)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NO_DEVICE', message: expect.stringMatching(/did not answer CMD_UNLINK/) });
  });

  it.each([
    ['a RET_SUBMIT for a seqnum not in flight', (_h: UsbIpCmdSubmit, c: ScriptedConnection) => c.retSubmit(999, 0, 0), /seqnum 999, which is not in flight/],
    ['an actual_length over the length asked for', (h: UsbIpCmdSubmit, c: ScriptedConnection) => c.retSubmit(h.seqnum, 0, 65, new Uint8Array(65)), /actual_length 65 exceeds the 64 bytes/],
    ['an unknown command', (_h: UsbIpCmdSubmit, c: ScriptedConnection) => c.raw(Uint8Array.from([0, 0, 0, 7, ...new Uint8Array(44)])), /unknown usbip_header command/],
    ['the connection closing', (_h: UsbIpCmdSubmit, c: ScriptedConnection) => c.close(), /closed/],
  ] as const)('ends the URBs in flight with LIBUSB_TRANSFER_NO_DEVICE on %s', async (_what, misbehave, reason) => {
    const { dev } = await opened((h, _p, c) => {
      if (h.command === USBIP_COMMAND.USBIP_CMD_SUBMIT) misbehave(h, c);
    });
    const err: unknown = await dev.bulkIn(0x81, 64).catch((e: unknown) => e);
    expect(err).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_NO_DEVICE', message: expect.stringMatching(reason) });
    await expect(dev.controlIn({ requestType: 'standard', recipient: 'device', request: 0, value: 0, index: 0 }, 2)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NO_DEVICE' });
  });

  it('sends the standard requests behind selectAlternate, clearHalt, selectConfiguration and reset, and maps a failure', async () => {
    const { dev, trace } = await opened((h, _p, c) => {
      if (h.command !== USBIP_COMMAND.USBIP_CMD_SUBMIT) return;
      const isClearHalt = h.setup[1] === 0x01;
      c.retSubmit(h.seqnum, isClearHalt ? usbipStatus('EPIPE') : 0, 0);
    });
    await expect(dev.clearHalt(0x81)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_PIPE' });
    await dev.selectAlternate(0, 1);
    // Alternate setting 1 has no 0x81: the handle knows it without asking the device.
    await expect(dev.bulkIn(0x81, 8)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NOT_FOUND' });
    await dev.releaseInterface(0);
    await dev.selectConfiguration(1);
    await dev.reset();
    const setups = trace.filter((t) => t.direction === 'sent' && t.header.command === USBIP_COMMAND.USBIP_CMD_SUBMIT).map((t) => [...(t.header as UsbIpCmdSubmit).setup]).slice(-4);
    expect(setups).toEqual([
      [0x02, 0x01, 0, 0, 0x81, 0, 0, 0], // CLEAR_FEATURE(ENDPOINT_HALT, 0x81)
      [0x01, 0x0b, 1, 0, 0, 0, 0, 0], // SET_INTERFACE(0, 1)
      [0x00, 0x09, 1, 0, 0, 0, 0, 0], // SET_CONFIGURATION(1)
      [0x23, 0x03, 4, 0, 1, 0, 0, 0], // SET_FEATURE(PORT_RESET) to port 1
    ]);
  });

  it('shares one import among the handles of a device and closes it with the last one', async () => {
    const r = await rig(() => undefined);
    const a = await r.host.open(r.info);
    const b = await r.host.open(r.info);
    expect(r.sockets.size).toBe(1);
    await a.claimInterface(0);
    await expect(b.claimInterface(0)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_BUSY' });
    await a.close();
    await b.claimInterface(0);
    await b.close();
    await expect(b.bulkIn(0x81, 1)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NO_DEVICE' });
    for (let i = 0; i < 100 && r.sockets.size > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(r.sockets.size).toBe(0);
  });
});

describe('UsbIpUsbHost: operation replies', () => {
  it('rejects a device list with the wrong version', async () => {
    const server = createServer((s) => s.resume().end(Uint8Array.from([...encodeOpCommon(0x0005, 0).fill(0x02, 0, 1)])));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const host = new UsbIpUsbHost({ port: (server.address() as AddressInfo).port });
    await expect(host.listDevices()).rejects.toMatchObject({ code: 'USBIP_PROTOCOL', message: expect.stringMatching(/version 0x0211, not 0x0111/) });
  });
});
