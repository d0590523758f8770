/**
 * The server's session, fed bytes directly (MemoryUsbIpTransport) with a scripted device behind it
 * (FakeUsbHost): what each CMD_SUBMIT becomes on the UsbHost seam, the statuses outcomes map to, unlink in
 * both orders, isochronous refusal, and that every protocol violation ends the connection with its reason.
 */
import { describe, expect, it } from 'vitest';
import { RealClock } from '../../core/index.js';
import { LIBUSB_TRANSFER, libusbError } from '../libusb-error.js';
import { FakeUsbHost, MemoryUsbIpTransport, pendingUntilAborted, type FakeUsbResponse } from '../testing/index.js';
import { UsbIpExports } from './usbip-exports.js';
import { decodeDeviceRecord, decodeInterfaceRecord, decodeOpCommon, encodeOpCommon, encodeOpReqDevlist, encodeOpReqImport } from './usbip-op-codec.js';
import { URB_FLAG, USBIP_BYTES, USBIP_COMMAND, USBIP_OP, USBIP_ST } from './usbip-protocol.js';
import { DEFAULT_USBIP_LIMITS, UsbIpSession, type UsbIpLimits, type UsbIpLogEntry } from './usbip-session.js';
import { usbipStatus } from './usbip-status.js';
import { decodeUrbHeader, encodeCmdSubmit, encodeCmdUnlink, encodeRetSubmit, type UsbIpRetSubmit, type UsbIpRetUnlink } from './usbip-urb-codec.js';

const DEVID = (3 << 16) | 7;

/** Lets promise chains and immediate callbacks run until `cond` holds (bounded). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setImmediate(r));
  if (!cond()) throw new Error(`never happened: ${what}`);
}

interface Rig {
  readonly host: FakeUsbHost;
  readonly transport: MemoryUsbIpTransport;
  readonly session: UsbIpSession;
  readonly log: UsbIpLogEntry[];
  /** Replies after the import reply, parsed; IN seqnums carry data. */
  replies(): (UsbIpRetSubmit & { data: Uint8Array } | UsbIpRetUnlink)[];
  submit(h: Partial<Parameters<typeof encodeCmdSubmit>[0]> & { seqnum: number; ep: number; direction: number }, payload?: Uint8Array): void;
}

function open(
  limits: Partial<UsbIpLimits> = {},
  host = new FakeUsbHost(),
  exports = new UsbIpExports(host, {}, 1000),
): { host: FakeUsbHost; transport: MemoryUsbIpTransport; session: UsbIpSession; log: UsbIpLogEntry[]; exports: UsbIpExports } {
  const transport = new MemoryUsbIpTransport();
  const log: UsbIpLogEntry[] = [];
  const session = new UsbIpSession({ id: 1, transport, exports, clock: new RealClock(), limits: { ...DEFAULT_USBIP_LIMITS, ...limits }, log: (e) => log.push(e) });
  return { host, transport, session, log, exports };
}

async function imported(limits: Partial<UsbIpLimits> = {}, exports?: UsbIpExports): Promise<Rig & { exports: UsbIpExports }> {
  const o = open(limits, (exports?.host as FakeUsbHost | undefined) ?? new FakeUsbHost(), exports);
  o.session.receive(encodeOpReqImport('3-1'));
  await until(() => o.transport.written.length > 0, 'the import reply');
  const reply = o.transport.bytes();
  expect(decodeOpCommon(reply)).toEqual({ version: 0x0111, code: USBIP_OP.OP_REP_IMPORT, status: USBIP_ST.ST_OK });
  const skip = reply.length;
  const inSeqnums = new Set<number>();
  return {
    ...o,
    submit(h, payload) {
      if (h.direction === 1) inSeqnums.add(h.seqnum);
      const header = encodeCmdSubmit({
        devid: DEVID,
        transferFlags: 0,
        transferBufferLength: payload?.length ?? 0,
        startFrame: 0,
        numberOfPackets: 0,
        interval: 0,
        setup: new Uint8Array(8),
        ...h,
      });
      o.session.receive(payload === undefined ? header : Uint8Array.from([...header, ...payload]));
    },
    replies() {
      const all = o.transport.bytes().subarray(skip);
      const out: (UsbIpRetSubmit & { data: Uint8Array } | UsbIpRetUnlink)[] = [];
      for (let at = 0; at < all.length; ) {
        const h = decodeUrbHeader(all, at);
        at += USBIP_BYTES.HEADER;
        if (h.command === USBIP_COMMAND.USBIP_RET_SUBMIT) {
          const n = inSeqnums.has(h.seqnum) ? h.actualLength : 0;
          out.push({ ...h, data: all.slice(at, at + n) });
          at += n;
        } else if (h.command === USBIP_COMMAND.USBIP_RET_UNLINK) out.push(h);
        else throw new Error(`unexpected ${h.command}`);
      }
      return out;
    },
  };
}

const setup = (...b: number[]): Uint8Array => Uint8Array.from(b);
const ends = (log: UsbIpLogEntry[]): UsbIpLogEntry[] => log.filter((e) => e.event === 'end');

describe('UsbIpSession: operations', () => {
  it('answers OP_REQ_DEVLIST with the device record at the documented offsets, then closes', async () => {
    const { transport, session, log } = open();
    session.receive(encodeOpReqDevlist());
    await session.done;
    const r = transport.bytes();
    expect(decodeOpCommon(r)).toEqual({ version: 0x0111, code: USBIP_OP.OP_REP_DEVLIST, status: 0 });
    expect(new DataView(r.buffer).getUint32(8)).toBe(1);
    expect(r.length).toBe(12 + 312 + 4);
    const d = decodeDeviceRecord(r, 0x0c);
    expect(d).toMatchObject({ busid: '3-1', busnum: 3, devnum: 7, speed: 3, idVendor: 0x1209, idProduct: 0x0001, bcdDevice: 0x0100 });
    expect(d).toMatchObject({ bDeviceClass: 0xef, bDeviceSubClass: 0x02, bDeviceProtocol: 0x01, bConfigurationValue: 1, bNumConfigurations: 1, bNumInterfaces: 1 });
    expect(decodeInterfaceRecord(r, 0x144)).toEqual({ bInterfaceClass: 0xff, bInterfaceSubClass: 0x01, bInterfaceProtocol: 0x02 });
    expect(transport.ended).toBe(true);
    expect(ends(log).map((e) => e.message)).toEqual(['device list sent']);
    // The fake device has an isochronous endpoint: the list says it is refused.
    expect(log.find((e) => e.level === 'warn' && e.event === 'devlist')?.message).toMatch(/3-1: isochronous endpoint\(s\) 0x03 are not supported.*-EOPNOTSUPP/);
  });

  it('refuses an import of an unknown busid with ST_NODEV and a second import with ST_DEV_BUSY', async () => {
    const a = open();
    a.session.receive(encodeOpReqImport('9-9'));
    await a.session.done;
    expect(decodeOpCommon(a.transport.bytes())).toMatchObject({ code: USBIP_OP.OP_REP_IMPORT, status: USBIP_ST.ST_NODEV });
    expect(a.transport.bytes().length).toBe(8);

    const first = await imported();
    const shared = open(undefined, first.host, first.exports);
    shared.session.receive(encodeOpReqImport('3-1'));
    await shared.session.done;
    expect(decodeOpCommon(shared.transport.bytes())).toMatchObject({ status: USBIP_ST.ST_DEV_BUSY });
    expect(ends(shared.log)[0]!.message).toMatch(/another connection has imported it/);
  });

  it('claims every interface on import and releases them when the connection ends', async () => {
    const r = await imported();
    expect(r.host.claims.has(0)).toBe(true);
    r.session.inputEnded();
    await r.session.done;
    expect(r.host.claims.size).toBe(0);
    expect(r.host.calls.at(-1)).toEqual({ op: 'close' });
    expect(ends(r.log).map((e) => e.message)).toEqual(['the client closed the connection']);
  });
});

describe('UsbIpSession: URBs on the UsbHost seam', () => {
  it('runs a control IN as controlIn and returns its data', async () => {
    const r = await imported();
    r.host.respond = async () => ({ status: 'ok', data: Uint8Array.of(1, 2, 3) });
    r.submit({ seqnum: 5, ep: 0, direction: 1, transferBufferLength: 8, setup: setup(0xc1, 0x42, 0x34, 0x12, 0x00, 0x00, 8, 0) });
    await until(() => r.replies().length === 1, 'RET_SUBMIT');
    expect(r.host.calls.at(-1)).toMatchObject({ op: 'controlIn', setup: { requestType: 'vendor', recipient: 'interface', request: 0x42, value: 0x1234, index: 0 }, length: 8 });
    expect(r.replies()[0]).toMatchObject({ command: USBIP_COMMAND.USBIP_RET_SUBMIT, seqnum: 5, status: 0, actualLength: 3, devid: 0, direction: 0, ep: 0, data: Uint8Array.of(1, 2, 3) });
  });

  it('runs the standard requests Linux stub handles itself as their seam calls', async () => {
    const r = await imported();
    r.submit({ seqnum: 1, ep: 0, direction: 0, setup: setup(0x02, 0x01, 0, 0, 0x81, 0, 0, 0) }); // CLEAR_FEATURE(ENDPOINT_HALT) 0x81
    r.submit({ seqnum: 2, ep: 0, direction: 0, setup: setup(0x01, 0x0b, 1, 0, 0, 0, 0, 0) }); // SET_INTERFACE(0, 1)
    r.submit({ seqnum: 3, ep: 0, direction: 0, setup: setup(0x23, 0x03, 4, 0, 1, 0, 0, 0) }); // SET_FEATURE(PORT_RESET)
    r.submit({ seqnum: 4, ep: 0, direction: 0, setup: setup(0x00, 0x05, 9, 0, 0, 0, 0, 0) }); // SET_ADDRESS: answered locally
    r.submit({ seqnum: 5, ep: 0, direction: 0, setup: setup(0x00, 0x09, 1, 0, 0, 0, 0, 0) }); // SET_CONFIGURATION(1)
    await until(() => r.replies().length === 5, 'five RET_SUBMITs');
    // Run one at a time, in order (stub_rx.c runs them synchronously before it reads the next PDU).
    expect(r.replies().map((x) => [x.seqnum, x.status])).toEqual([[1, 0], [2, 0], [3, 0], [4, 0], [5, 0]]);
    const ops = r.host.calls.filter((c) => c.op !== 'claimInterface' && c.op !== 'close').map((c) => [c.op, c.endpoint ?? c.value]);
    expect(ops).toEqual([
      ['clearHalt', 0x81],
      ['selectAlternate', [0, 1]],
      ['reset', undefined],
      ['releaseInterface', [0]],
      ['selectConfiguration', [1]],
    ]);
    expect(r.host.claims.has(0)).toBe(true); // re-claimed after SET_CONFIGURATION
  });

  it('follows the alternate setting: after SET_INTERFACE(0, 1) endpoint 0x04 exists and 0x01 does not', async () => {
    const r = await imported();
    r.submit({ seqnum: 1, ep: 0, direction: 0, setup: setup(0x01, 0x0b, 1, 0, 0, 0, 0, 0) });
    await until(() => r.replies().length === 1, 'SET_INTERFACE answered');
    r.submit({ seqnum: 2, ep: 4, direction: 0 }, Uint8Array.of(9, 9));
    await until(() => r.replies().length === 2, 'bulk OUT 0x04 answered');
    expect(r.host.calls.at(-1)).toMatchObject({ op: 'bulkOut', endpoint: 0x04, data: Uint8Array.of(9, 9) });
    r.submit({ seqnum: 3, ep: 1, direction: 0 }, Uint8Array.of(1));
    await r.session.done;
    expect(ends(r.log)[0]!.message).toMatch(/protocol violation: CMD_SUBMIT seqnum 3: the device has no endpoint 0x01/);
  });

  it('passes URB_ZERO_PACKET to a bulk OUT as zeroLengthPacket, and turns a short IN with URB_SHORT_NOT_OK into -EREMOTEIO', async () => {
    const r = await imported();
    r.host.respond = async (c): Promise<FakeUsbResponse> => (c.op === 'bulkIn' ? { status: 'ok', data: new Uint8Array(100).fill(7) } : { status: 'ok', bytesWritten: c.data!.length });
    r.submit({ seqnum: 1, ep: 1, direction: 0, transferFlags: URB_FLAG.URB_ZERO_PACKET }, new Uint8Array(512));
    r.submit({ seqnum: 2, ep: 1, direction: 1, transferFlags: URB_FLAG.URB_SHORT_NOT_OK | URB_FLAG.URB_DIR_IN, transferBufferLength: 512 });
    r.submit({ seqnum: 3, ep: 1, direction: 1, transferFlags: URB_FLAG.URB_DIR_IN, transferBufferLength: 512 });
    await until(() => r.replies().length === 3, 'three RET_SUBMITs');
    expect(r.host.calls.find((c) => c.op === 'bulkOut')?.options?.zeroLengthPacket).toBe(true);
    const byseq = new Map(r.replies().map((x) => [x.seqnum, x]));
    expect(byseq.get(1)).toMatchObject({ status: 0, actualLength: 512 });
    expect(byseq.get(2)).toMatchObject({ status: usbipStatus('EREMOTEIO'), actualLength: 100 });
    expect((byseq.get(2) as { data: Uint8Array }).data.length).toBe(100);
    expect(byseq.get(3)).toMatchObject({ status: 0, actualLength: 100 });
  });

  it.each([
    ['a stall', 'EPIPE', async (): Promise<FakeUsbResponse> => ({ status: 'stall', data: new Uint8Array(0) })],
    ['a babble', 'EOVERFLOW', async (): Promise<FakeUsbResponse> => ({ status: 'babble', data: new Uint8Array(64) })],
    ['a vanished device', 'ENODEV', async (): Promise<FakeUsbResponse> => Promise.reject(libusbError('bulkIn', LIBUSB_TRANSFER.LIBUSB_TRANSFER_NO_DEVICE))],
    ['a host timeout', 'ETIMEDOUT', async (): Promise<FakeUsbResponse> => Promise.reject(libusbError('bulkIn', LIBUSB_TRANSFER.LIBUSB_TRANSFER_TIMED_OUT))],
    ['a bus error', 'EPROTO', async (): Promise<FakeUsbResponse> => Promise.reject(libusbError('bulkIn', LIBUSB_TRANSFER.LIBUSB_TRANSFER_ERROR))],
  ] as const)('reports %s as -%s, as a Linux host controller does', async (_what, errno, respond) => {
    const r = await imported();
    r.host.respond = respond;
    r.submit({ seqnum: 11, ep: 1, direction: 1, transferBufferLength: 64 });
    await until(() => r.replies().length === 1, 'RET_SUBMIT');
    expect(r.replies()[0]).toMatchObject({ seqnum: 11, status: usbipStatus(errno) });
  });

  it('refuses an isochronous URB with -EOPNOTSUPP and keeps the stream in step past its packet descriptors', async () => {
    const r = await imported();
    const iso = encodeCmdSubmit({ seqnum: 1, devid: DEVID, direction: 0, ep: 3, transferFlags: URB_FLAG.URB_ISO_ASAP, transferBufferLength: 4, startFrame: 0, numberOfPackets: 2, interval: 1, setup: new Uint8Array(8) });
    r.session.receive(Uint8Array.from([...iso, 1, 2, 3, 4, ...new Uint8Array(32)]));
    r.submit({ seqnum: 2, ep: 0, direction: 1, transferBufferLength: 2, setup: setup(0x80, 0x00, 0, 0, 0, 0, 2, 0) });
    await until(() => r.replies().length === 2, 'two RET_SUBMITs');
    expect(r.replies()[0]).toMatchObject({ seqnum: 1, status: usbipStatus('EOPNOTSUPP'), actualLength: 0, numberOfPackets: 0 });
    expect(r.replies()[1]).toMatchObject({ seqnum: 2, status: 0 });
    expect(r.host.calls.some((c) => c.endpoint === 0x03)).toBe(false);
  });
});

describe('UsbIpSession: unlink', () => {
  it('answers an unlinked URB with RET_UNLINK -ECONNRESET and no RET_SUBMIT', async () => {
    const r = await imported();
    r.host.respond = pendingUntilAborted;
    r.submit({ seqnum: 7, ep: 1, direction: 1, transferBufferLength: 64 });
    await until(() => r.host.calls.some((c) => c.op === 'bulkIn'), 'the bulk IN reached the device');
    r.session.receive(encodeCmdUnlink({ seqnum: 8, devid: DEVID, direction: 0, ep: 0, unlinkSeqnum: 7 }));
    await until(() => r.replies().length === 1, 'RET_UNLINK');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.replies()).toEqual([expect.objectContaining({ command: USBIP_COMMAND.USBIP_RET_UNLINK, seqnum: 8, status: usbipStatus('ECONNRESET') })]);
  });

  it('answers an unlink of a URB that completed first with its RET_SUBMIT, then RET_UNLINK 0', async () => {
    const r = await imported();
    let finish!: (v: FakeUsbResponse) => void;
    r.host.respond = () => new Promise((resolve) => (finish = resolve));
    r.submit({ seqnum: 7, ep: 1, direction: 1, transferBufferLength: 64 });
    await until(() => finish !== undefined, 'the bulk IN reached the device');
    finish({ status: 'ok', data: Uint8Array.of(5, 6) }); // completes; the session hears of it a microtask later
    r.session.receive(encodeCmdUnlink({ seqnum: 8, devid: DEVID, direction: 0, ep: 0, unlinkSeqnum: 7 }));
    await until(() => r.replies().length === 2, 'RET_SUBMIT and RET_UNLINK');
    expect(r.replies()).toEqual([
      expect.objectContaining({ command: USBIP_COMMAND.USBIP_RET_SUBMIT, seqnum: 7, status: 0, data: Uint8Array.of(5, 6) }),
      expect.objectContaining({ command: USBIP_COMMAND.USBIP_RET_UNLINK, seqnum: 8, status: 0 }),
    ]);
  });

  it('answers an unlink of an unknown seqnum with status 0 and keeps the connection', async () => {
    const r = await imported();
    r.session.receive(encodeCmdUnlink({ seqnum: 3, devid: DEVID, direction: 0, ep: 0, unlinkSeqnum: 999 }));
    await until(() => r.replies().length === 1, 'RET_UNLINK');
    expect(r.replies()[0]).toMatchObject({ command: USBIP_COMMAND.USBIP_RET_UNLINK, seqnum: 3, status: 0 });
    expect(r.session.closed).toBe(false);
  });
});

describe('UsbIpSession: hostile input ends the connection, never the process', () => {
  const header = (over: Partial<Parameters<typeof encodeCmdSubmit>[0]>): Uint8Array =>
    encodeCmdSubmit({ seqnum: 1, devid: DEVID, direction: 1, ep: 1, transferFlags: 0, transferBufferLength: 8, startFrame: 0, numberOfPackets: 0, interval: 0, setup: new Uint8Array(8), ...over });
  it.each([
    ['a devid of another device', header({ devid: 0x00010001 }), /devid 0x00010001 is not the imported device's 0x00030007/],
    ['a direction that is neither 0 nor 1', header({ direction: 2 }), /direction 2 is neither/],
    ['an endpoint number over 15', header({ ep: 16 }), /endpoint number 16 is not 0\.\.15/],
    ['an OUT on an IN-only endpoint (wrong direction)', header({ direction: 0, ep: 2, transferBufferLength: 0 }), /no endpoint 0x02/],
    ['an IN on an OUT-only endpoint', header({ direction: 1, ep: 3 }), /no endpoint 0x83/],
    ['a transfer_buffer_length over the limit', header({ transferBufferLength: 0x7fffffff }), /exceeds the server's limit/],
    ['a control URB whose length contradicts wLength', header({ ep: 0, transferBufferLength: 4, setup: setup(0x80, 6, 0, 1, 0, 0, 18, 0) }), /differs from the setup's wLength 18/],
    ['a control URB whose direction contradicts bmRequestType', header({ ep: 0, direction: 1, transferBufferLength: 2, setup: setup(0x00, 7, 0, 1, 0, 0, 2, 0) }), /contradicts bmRequestType 0x00/],
    ['a reply sent by the client', encodeRetSubmit({ seqnum: 1, devid: DEVID, direction: 0, ep: 0, status: 0, actualLength: 0, startFrame: 0, numberOfPackets: 0, errorCount: 0 }), /only a server sends replies/],
    ['an unknown command', Uint8Array.from([0, 0, 0, 9, ...new Uint8Array(44)]), /malformed message: \[USBIP_PROTOCOL\] unknown usbip_header command 0x00000009/],
  ] as const)('ends it on %s', async (_what, bytes, reason) => {
    const r = await imported({ maxTransferBytes: 1024 * 1024 });
    r.session.receive(bytes);
    await r.session.done;
    expect(r.transport.ended).toBe(true);
    const end = ends(r.log);
    expect(end).toHaveLength(1);
    expect(end[0]!.message).toMatch(reason);
    expect(r.host.claims.size).toBe(0);
  });

  it('ends it on a seqnum already in flight', async () => {
    const r = await imported();
    r.host.respond = pendingUntilAborted;
    r.submit({ seqnum: 4, ep: 1, direction: 1, transferBufferLength: 8 });
    r.submit({ seqnum: 4, ep: 1, direction: 1, transferBufferLength: 8 });
    await r.session.done;
    expect(ends(r.log)[0]!.message).toMatch(/seqnum 4: that seqnum is already in flight/);
    // The first URB was aborted and the device released.
    expect(r.host.claims.size).toBe(0);
  });

  it('ends it on a wrong version or an unknown operation', async () => {
    const a = open();
    a.session.receive(Uint8Array.of(0x01, 0x06, 0x80, 0x05, 0, 0, 0, 0));
    await a.session.done;
    expect(ends(a.log)[0]!.message).toMatch(/version 0x0106 is not 0x0111/);
    const b = open();
    b.session.receive(encodeOpCommon(0x8006, 0));
    await b.session.done;
    expect(ends(b.log)[0]!.message).toMatch(/unknown operation code 0x8006/);
  });

  it('ends it when the client stops in the middle of a message, and when a message stays incomplete', async () => {
    const a = await imported();
    a.session.receive(header({}).subarray(0, 20));
    a.session.inputEnded();
    await a.session.done;
    expect(ends(a.log)[0]!.message).toMatch(/in the middle of a message: 20 of the 48 bytes of a usbip_header/);

    const b = await imported({ messageTimeoutMs: 30 });
    b.session.receive(header({ direction: 0, transferBufferLength: 100 }));
    b.session.receive(new Uint8Array(10));
    await b.session.done;
    expect(ends(b.log)[0]!.message).toMatch(/stayed incomplete for 30 ms: 10 of the 100 payload bytes of CMD_SUBMIT seqnum 1/);
  });

  it('ends it when no operation request arrives in time', async () => {
    const a = open({ requestTimeoutMs: 30 });
    a.session.receive(Uint8Array.of(0x01));
    await a.session.done;
    expect(ends(a.log)[0]!.message).toMatch(/no complete operation request within 30 ms \(1 bytes received\)/);
  });

  it('stops reading while the client does not read its replies, and resumes on drain', async () => {
    const r = await imported();
    r.transport.congested = true;
    r.submit({ seqnum: 1, ep: 0, direction: 1, transferBufferLength: 2, setup: setup(0x80, 0x00, 0, 0, 0, 0, 2, 0) });
    await until(() => r.transport.paused, 'input paused');
    r.transport.congested = false;
    r.session.drained();
    expect(r.transport.paused).toBe(false);
  });

  it('answers what is in flight and closes when the device detaches', async () => {
    const r = await imported({ closeGraceMs: 50 });
    r.host.respond = pendingUntilAborted;
    r.submit({ seqnum: 1, ep: 1, direction: 1, transferBufferLength: 8 });
    await until(() => r.host.calls.some((c) => c.op === 'bulkIn'), 'the bulk IN reached the device');
    r.session.deviceDetached();
    r.submit({ seqnum: 2, ep: 1, direction: 1, transferBufferLength: 8 });
    await until(() => r.replies().length === 1, 'the URB after detach answered');
    expect(r.replies()[0]).toMatchObject({ seqnum: 2, status: usbipStatus('ENODEV') });
    // seqnum 1 never ends on its own: the grace period ends the connection, which aborts it and releases the device.
    await r.session.done;
    expect(ends(r.log)[0]!.message).toBe('the exported device detached');
    expect(r.host.claims.size).toBe(0);
  });
});
