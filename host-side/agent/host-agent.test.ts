import { describe, expect, it } from 'vitest';
import { type Clock, type ClockTimer, encodeTestCounters, patternByte, TEST_REQUEST } from '../../core/index.js';
import { buildSetup, encodeSetup } from '../setup-packet.js';
import type { UsbControlSetup, UsbDeviceHandle, UsbInResult, UsbOutResult, UsbTransferOptions, UsbBulkOutOptions } from '../usb-host.js';
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

/** A tiny in-memory device: a loopback FIFO on 0x01→0x81 and a control log. */
class FakeFunctionHandle implements UsbDeviceHandle {
  readonly info = { id: 'fake', busNumber: 1, deviceAddress: 1, vendorId: 0x1209, productId: 1, deviceVersion: 0, speed: 'high' as const, interfaces: [] };
  readonly controls: { setup: Uint8Array; data?: Uint8Array; options?: UsbTransferOptions }[] = [];
  readonly outs: { endpoint: number; length: number; zlp: boolean | undefined }[] = [];
  fifo: number[] = [];
  corruptAt = -1;
  inReply: Uint8Array = new Uint8Array(0);
  stallControl = false;
  inFlight = 0;
  maxInFlight = 0;
  constructor(readonly clock: StepClock) {}

  async controlIn(setup: UsbControlSetup, length: number, options?: UsbTransferOptions): Promise<UsbInResult> {
    this.controls.push({ setup: encodeSetup(buildSetup(setup, 'in', length)), options });
    if (this.stallControl) return { status: 'stall', data: new Uint8Array(0) };
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
    this.#pump();
    return { status: 'ok', bytesWritten: data.length };
  }
  /** Bytes already handed to reads (so `corruptAt` is a stream offset). */
  taken = 0;
  readonly #readers: { length: number; resolve: (r: UsbInResult) => void }[] = [];
  async bulkIn(_endpoint: number, length: number): Promise<UsbInResult> {
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
      const n = Math.min(reader.length, 700, this.fifo.length);
      this.taken += n;
      reader.resolve({ status: 'ok', data: Uint8Array.from(this.fifo.splice(0, n)) });
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
  const agent = new HostAgent({ handle, interfaceNumber: opts.interfaceNumber ?? 2, clock, timeoutMs: 1234 });
  return { clock, handle, agent };
}
const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');

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
