import { describe, expect, it } from 'vitest';
import { type Clock, type ClockTimer, encodeTestCounters, patternByte, TEST_REQUEST, USB_REQUEST, UsageError } from '../../core/index.js';
import { buildSetup, encodeSetup } from '../setup-packet.js';
import type { UsbBulkInOptions, UsbBulkOutOptions, UsbControlSetup, UsbDeviceHandle, UsbInResult, UsbOutResult, UsbTransferOptions } from '../usb-host.js';
import { HostAgent } from './host-agent.js';
import { TestProtocolError } from './test-protocol-error.js';

/** Time advances 1 ms per bulk transfer completion. */
class StepClock implements Clock {
  t = 0;
  now(): number {
    return this.t;
  }
  setTimer(_d: number, _cb: () => void): ClockTimer {
    return { cancel: () => undefined };
  }
}

/** A zero-length packet queued in the fake's IN FIFO. */
const ZLP = -1;

/**
 * A tiny in-memory device: a loopback FIFO on 0x01→0x81 and a control log. With `appendZlp` the echo of an
 * empty write or of a multiple of 512 is followed by a zero-length packet, which ends a read that asked for
 * more (USB 2.0 §5.8.3) and is otherwise the next read's.
 */
class FakeFunctionHandle implements UsbDeviceHandle {
  readonly info = { id: 'fake', busNumber: 1, deviceAddress: 1, vendorId: 0x1209, productId: 1, deviceVersion: 0, speed: 'high' as const, interfaces: [] };
  readonly controls: { setup: Uint8Array; data?: Uint8Array; options?: UsbTransferOptions }[] = [];
  readonly outs: { endpoint: number; length: number; zlp: boolean | undefined }[] = [];
  /** Bytes of the IN pipe, and {@link ZLP} markers. */
  fifo: number[] = [];
  corruptAt = -1;
  inReply: Uint8Array = new Uint8Array(0);
  /** What GET_DESCRIPTOR(CONFIGURATION) returns (truncated to wLength). */
  configuration: Uint8Array = new Uint8Array(0);
  stallControl = false;
  appendZlp = false;
  /** Most bytes one read gets (short transfers). */
  chunkBytes = 700;
  inFlight = 0;
  maxInFlight = 0;
  /** The length each bulk IN asked for, in order. */
  readonly readLengths: number[] = [];
  constructor(readonly clock: StepClock) {}

  async controlIn(setup: UsbControlSetup, length: number, options?: UsbTransferOptions): Promise<UsbInResult> {
    this.controls.push({ setup: encodeSetup(buildSetup(setup, 'in', length)), options });
    if (this.stallControl) return { status: 'stall', data: new Uint8Array(0) };
    if (setup.requestType === 'standard' && setup.request === USB_REQUEST.GET_DESCRIPTOR && setup.value >> 8 === 0x02) {
      return { status: 'ok', data: this.configuration.subarray(0, length) };
    }
    return { status: 'ok', data: this.inReply.subarray(0, length) };
  }
  async controlOut(setup: UsbControlSetup, data = new Uint8Array(0), options?: UsbTransferOptions): Promise<UsbOutResult> {
    this.controls.push({ setup: encodeSetup(buildSetup(setup, 'out', data.length)), data: data.slice(), options });
    if (this.stallControl) return { status: 'stall', bytesWritten: 0 };
    return { status: 'ok', bytesWritten: data.length };
  }
  async bulkOut(endpoint: number, data: Uint8Array, options?: UsbBulkOutOptions): Promise<UsbOutResult> {
    this.outs.push({ endpoint, length: data.length, zlp: options?.zeroLengthPacket });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setImmediate(r));
    this.inFlight--;
    this.clock.t += 1;
    for (let i = 0; i < data.length; i++) this.fifo.push(this.fifo.length + this.taken === this.corruptAt ? (data[i]! ^ 0xff) : data[i]!);
    if (this.appendZlp && data.length % 512 === 0) this.fifo.push(ZLP);
    this.#pump();
    return { status: 'ok', bytesWritten: data.length };
  }
  /** Bytes already handed to reads (so `corruptAt` is a stream offset). */
  taken = 0;
  readonly #readers: { length: number; resolve: (r: UsbInResult) => void }[] = [];
  async bulkIn(_endpoint: number, length: number, _options?: UsbBulkInOptions): Promise<UsbInResult> {
    this.readLengths.push(length);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    // Wait for data like a NAKing device, queued reads served in order as on one endpoint; deliver at
    // most one 700-byte chunk per call (short transfers).
    const r = await new Promise<UsbInResult>((resolve) => {
      this.#readers.push({ length, resolve });
      this.#pump();
    });
    this.inFlight--;
    this.clock.t += 1;
    return r;
  }
  #pump(): void {
    while (this.#readers.length > 0 && this.fifo.length > 0) {
      const reader = this.#readers.shift()!;
      const zlpAt = this.fifo.indexOf(ZLP);
      const n = Math.min(reader.length, this.chunkBytes, zlpAt < 0 ? this.fifo.length : zlpAt);
      this.taken += n;
      const data = Uint8Array.from(this.fifo.splice(0, n));
      // A ZLP right behind the data ends a read that asked for more; a full read leaves it queued.
      if (this.fifo[0] === ZLP && n < reader.length) this.fifo.shift();
      reader.resolve({ status: 'ok', data });
    }
  }
  async claimInterface(): Promise<void> {}
  async releaseInterface(): Promise<void> {}
  async selectAlternate(): Promise<void> {}
  async selectConfiguration(): Promise<void> {}
  async clearHalt(): Promise<void> {}
  async reset(): Promise<void> {}
  async close(): Promise<void> {}
  async [Symbol.asyncDispose](): Promise<void> {}
}

function make(opts: { interfaceNumber?: number } = {}) {
  const clock = new StepClock();
  const handle = new FakeFunctionHandle(clock);
  const agent = new HostAgent({ handle, interfaceNumber: opts.interfaceNumber ?? 2, bulkOutEndpoint: 0x01, bulkInEndpoint: 0x81, maxPacketSize: 512, clock, timeoutMs: 1234 });
  return { clock, handle, agent };
}
const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');
const bytes = (s: string): Uint8Array => Uint8Array.from(s.replace(/#[^\n]*/g, '').replace(/\s+/g, '').match(/../g) ?? [], (h) => parseInt(h, 16));

/** A full-speed configuration: interface 2 with an interrupt IN 0x81, bulk OUT 0x02 and bulk IN 0x83 of 64 bytes. */
const FULL_SPEED_CONFIGURATION = bytes(`
  09 02 2700 01 01 00 80 32   # configuration: wTotalLength 39, 1 interface, value 1
  09 04 02 00 03 ff 00 00 00  # interface 2 alt 0, 3 endpoints, vendor
  07 05 81 03 0800 01         # EP 0x81 interrupt IN 8
  07 05 02 02 4000 00         # EP 0x02 bulk OUT 64
  07 05 83 02 4000 00         # EP 0x83 bulk IN 64
`);

describe('HostAgent.open: the endpoints come from the device', () => {
  it('reads GET_DESCRIPTOR(CONFIGURATION), header then wTotalLength, and takes the bulk pair of its interface', async () => {
    const clock = new StepClock();
    const handle = new FakeFunctionHandle(clock);
    handle.configuration = FULL_SPEED_CONFIGURATION;
    const agent = await HostAgent.open({ handle, interfaceNumber: 2, clock, readTimeoutMs: 321 });
    expect(agent).toMatchObject({ interfaceNumber: 2, bulkOutEndpoint: 0x02, bulkInEndpoint: 0x83, maxPacketSize: 64 });
    expect(handle.controls.map((c) => hex(c.setup))).toEqual(['800600020000' + '0900', '800600020000' + '2700']);
    expect(handle.controls.every((c) => c.options?.timeoutMs === 321)).toBe(true);
  });

  it('fails with a typed error when the request stalls, the interface is absent or has no bulk pair', async () => {
    const clock = new StepClock();
    const handle = new FakeFunctionHandle(clock);
    handle.configuration = FULL_SPEED_CONFIGURATION;
    await expect(HostAgent.open({ handle, interfaceNumber: 0, clock })).rejects.toMatchObject({ name: 'UsageError', code: 'INVALID_ARGUMENT' });
    await expect(HostAgent.open({ handle, interfaceNumber: 2, alternateSetting: 1, clock })).rejects.toBeInstanceOf(UsageError);
    handle.configuration = bytes(`09 02 1900 01 01 00 80 32  09 04 02 00 01 ff 00 00 00  07 05 02 02 4000 00`);
    await expect(HostAgent.open({ handle, interfaceNumber: 2, clock })).rejects.toThrow(/^\[TEST_PROTOCOL\] .*has no bulk IN endpoint/);
    handle.configuration = FULL_SPEED_CONFIGURATION.subarray(0, 20); // wTotalLength says 39
    await expect(HostAgent.open({ handle, interfaceNumber: 2, clock })).rejects.toMatchObject({ code: 'DECODE' });
    handle.stallControl = true;
    await expect(HostAgent.open({ handle, interfaceNumber: 2, clock })).rejects.toBeInstanceOf(TestProtocolError);
  });

  it('rejects explicit endpoint values that cannot be right', () => {
    const clock = new StepClock();
    const handle = new FakeFunctionHandle(clock);
    const base = { handle, interfaceNumber: 0, clock, bulkOutEndpoint: 0x01, bulkInEndpoint: 0x81, maxPacketSize: 512 };
    expect(() => new HostAgent({ ...base, bulkInEndpoint: 0x01 })).toThrow(RangeError);
    expect(() => new HostAgent({ ...base, bulkOutEndpoint: 0x81 })).toThrow(RangeError);
    expect(() => new HostAgent({ ...base, maxPacketSize: 0 })).toThrow(/wMaxPacketSize/);
  });
});

describe('HostAgent class requests and test protocol', () => {
  it('addresses class requests to the function interface with the agent timeout', async () => {
    const { handle, agent } = make();
    await agent.classIn(0x42, 4, { value: 0x1234, indexHigh: 0x81 });
    await agent.classNoData(0x43);
    expect(hex(handle.controls[0]?.setup)).toBe('a14234120281' + '0400');
    expect(hex(handle.controls[1]?.setup)).toBe('214300000200' + '0000');
    expect(handle.controls[0]?.options?.timeoutMs).toBe(1234);
  });

  it('encodes each test-protocol request per device-side/functions/test-protocol.ts', async () => {
    const { handle, agent } = make();
    await agent.setNextInLength(100);
    await agent.setNextInLength(undefined);
    await agent.resetState();
    await agent.setStallPolicy(0x42, 'ONCE');
    await agent.echoWrite(Uint8Array.from([9, 8]));
    await agent.setZlpPolicy('APPEND_ON_MULTIPLE');
    await agent.setEndpointHalt(0x81, true);
    await agent.readPattern(16, 32);
    await agent.echoRead(2);
    const rows = handle.controls.map((c) => [hex(c.setup), hex(c.data)]);
    expect(rows).toEqual([
      ['210300000200' + '0400', '64000000'],
      ['210300000200' + '0400', 'ffffffff'],
      ['210500000200' + '0000', ''],
      ['210600000200' + '0400', '42010000'],
      ['210700000200' + '0200', '0908'],
      ['210901000200' + '0000', ''],
      ['210b01000281' + '0000', ''],
      ['a10a10000200' + '2000', ''],
      ['a10800000200' + '0200', ''],
    ]);
    await expect(agent.echoWrite(new Uint8Array(4097))).rejects.toThrow(/at most 4096/);
  });

  it('decodes counters, last error and the echoed setup', async () => {
    const { handle, agent } = make();
    handle.inReply = encodeTestCounters({
      controlRequests: 5, stalledRequests: 1, bulkOutTransfers: 2, bulkInTransfers: 3, bulkOutBytes: 1024n, bulkInBytes: 2048n,
      patternErrors: 0, cancelledTransfers: 4, failedTransfers: 0, lastWin32Error: 995,
    });
    expect(await agent.getCounters()).toMatchObject({ controlRequests: 5, bulkInBytes: 2048n, lastWin32Error: 995 });
    handle.inReply = Uint8Array.from([0x1f, 0, 0, 0, 0x0a, 0, 0, 0, ...new TextEncoder().encode('ERROR_GEN_FAILURE')]);
    expect(await agent.getLastError()).toEqual({ win32: 31, ioctlFunction: 10, name: 'ERROR_GEN_FAILURE' });
    handle.inReply = Uint8Array.from([0xa1, 0x04, 0, 0, 2, 0, 8, 0]);
    expect(await agent.echoLastSetup()).toEqual({ bmRequestType: 0xa1, bRequest: TEST_REQUEST.ECHO_LAST_SETUP, wValue: 0, wIndex: 2, wLength: 8 });
  });

  it('fails with TestProtocolError when the function stalls or answers short', async () => {
    const { handle, agent } = make();
    handle.inReply = new Uint8Array(10);
    await expect(agent.getCounters()).rejects.toThrow(/returned 10 bytes, expected 48/);
    handle.stallControl = true;
    const err = await agent.resetState().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TestProtocolError);
    expect((err as Error).message).toMatch(/^\[TEST_PROTOCOL\] RESET_STATE\(interface 2\) ended with status stall/);
    // Plain class requests report the stall as data.
    expect((await agent.classIn(0x42, 1)).status).toBe('stall');
  });
});

describe('HostAgent bulk', () => {
  it('loops back a seeded pattern byte-exact across short reads, with a ZLP-terminated write', async () => {
    const { handle, agent } = make();
    const r = await agent.loopback(2048, { seed: 9 });
    expect(r).toEqual({ status: 'ok', bytesWritten: 2048, bytesRead: 2048, firstMismatch: -1, ok: true });
    expect(handle.outs).toEqual([{ endpoint: 0x01, length: 2048, zlp: true }]);
  });

  it('reads the ZLP that ends the echo of a multiple of wMaxPacketSize or of nothing, leaving the IN pipe empty', async () => {
    const { handle, agent } = make();
    handle.appendZlp = true;
    handle.chunkBytes = Infinity;
    for (const n of [4096, 512, 0]) {
      expect(await agent.loopback(n, { seed: n })).toMatchObject({ ok: true, bytesRead: n });
      expect(handle.fifo).toEqual([]);
    }
    // The next read on the pipe gets the next echo, not a leftover zero-length packet.
    await handle.bulkOut(0x01, Uint8Array.of(7, 8, 9));
    expect([...(await handle.bulkIn(0x81, 512)).data]).toEqual([7, 8, 9]);
  });

  it('asks for the exact length once the device appends no ZLP (SET_ZLP_POLICY NEVER), and again after RESET_STATE', async () => {
    const { handle, agent } = make();
    handle.chunkBytes = Infinity;
    const reads: number[] = [];
    const bulkIn = handle.bulkIn.bind(handle);
    handle.bulkIn = (endpoint, length, options) => {
      reads.push(length);
      return bulkIn(endpoint, length, options);
    };
    await agent.setZlpPolicy('NEVER');
    expect(await agent.loopback(1024, { seed: 1 })).toMatchObject({ ok: true });
    await agent.resetState();
    handle.appendZlp = true;
    expect(await agent.loopback(1024, { seed: 2 })).toMatchObject({ ok: true });
    expect(reads).toEqual([1024, 1024 + 512]);
    expect(handle.fifo).toEqual([]);
  });

  it('reports the first mismatching offset', async () => {
    const { handle, agent } = make();
    handle.corruptAt = 1000;
    const r = await agent.loopback(1500, { seed: 3 });
    expect(r).toMatchObject({ ok: false, firstMismatch: 1000, bytesRead: 1500 });
  });

  it('verifies source reads against the pattern at an offset and writes sink data', async () => {
    const { handle, agent } = make();
    handle.fifo = Array.from({ length: 300 }, (_, i) => patternByte(5, 100 + i));
    const r = await agent.sourceRead(300, { seed: 5, offset: 100 });
    expect(r).toMatchObject({ status: 'ok', bytesRead: 300, firstMismatch: -1 });
    const w = await agent.sinkWrite(64, { seed: 5 });
    expect(w.bytesWritten).toBe(64);
    expect(handle.fifo.slice(0, 4)).toEqual([0, 1, 2, 3].map((i) => patternByte(5, i)));
  });

  it('measures throughput on the harness clock with N transfers in flight', async () => {
    const { handle, agent } = make();
    const r = await agent.throughput({ direction: 'out', totalBytes: 10 * 4096, transferBytes: 4096, queueDepth: 4 });
    expect(r).toMatchObject({ direction: 'out', bytes: 40960, transfers: 10, elapsedMs: 10 });
    expect(r.bytesPerSecond).toBe(40960 * 100);
    expect(handle.maxInFlight).toBe(4);
    await expect(agent.throughput({ direction: 'in', totalBytes: 0 })).rejects.toThrow(RangeError);
  });
});

describe('HostAgent pipelined loopback', () => {
  it('keeps N transfers queued and verifies the echo as one stream across short reads', async () => {
    const { handle, agent } = make();
    const r = await agent.loopbackPipelined(1000, 5, 3, { seed: 4 });
    expect(r).toMatchObject({ status: 'ok', transfers: 5, bytesWritten: 5000, bytesRead: 5000, firstMismatch: -1, ok: true });
    expect(handle.outs).toHaveLength(5);
    expect(handle.outs.every((o) => o.length === 1000 && o.zlp === true)).toBe(true);
    expect(handle.maxInFlight).toBeGreaterThan(1);
    expect(handle.maxInFlight).toBeLessThanOrEqual(6);
    expect(handle.fifo).toHaveLength(0); // nothing was left unread
    expect(handle.inFlight).toBe(0); // and no read was left queued
  });

  it('reads the ZLP that ends the last echo of exact multiples, so nothing is left on the IN pipe', async () => {
    const { handle, agent } = make();
    handle.appendZlp = true;
    handle.chunkBytes = Infinity;
    const r = await agent.loopbackPipelined(1024, 5, 3, { seed: 6 });
    expect(r).toMatchObject({ status: 'ok', transfers: 5, bytesRead: 5 * 1024, ok: true });
    expect(handle.fifo).toEqual([]);
    expect(handle.inFlight).toBe(0);
  });

  it('asks each read for one packet more than an echo that ends with a ZLP, so the ZLP ends it: one read per transfer', async () => {
    const { handle, agent } = make();
    handle.appendZlp = true;
    handle.chunkBytes = Infinity;
    const r = await agent.loopbackPipelined(1024, 6, 4, { seed: 7 });
    expect(r).toMatchObject({ status: 'ok', transfers: 6, bytesRead: 6 * 1024, ok: true });
    expect(handle.readLengths).toEqual(Array.from({ length: 6 }, () => 1024 + 512));
    expect(handle.fifo).toEqual([]);
  });

  it('reports the stream offset of the first wrong byte', async () => {
    const { handle, agent } = make();
    handle.corruptAt = 2345; // transfer 2, byte 345
    const r = await agent.loopbackPipelined(1000, 4, 2, { seed: 4 });
    expect(r).toMatchObject({ ok: false, firstMismatch: 2345, bytesRead: 4000 });
  });

  it('rejects non-positive sizes', async () => {
    const { agent } = make();
    await expect(agent.loopbackPipelined(0, 1)).rejects.toThrow(/transferBytes/);
    await expect(agent.loopbackPipelined(10, 1, 0)).rejects.toThrow(/depth/);
  });
});
