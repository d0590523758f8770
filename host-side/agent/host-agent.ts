/**
 * `HostAgent`: what scenarios and users do from the host, identical over `NodeUsbHost` and `SimUsbHost`
 * (issue 5): class requests to the function's interface, the device test protocol
 * (device-side/functions/test-protocol.ts), bulk loopback with a seeded pattern and byte-exact
 * verification, source/sink reads and writes, and throughput with N queued transfers on the harness clock.
 */
import type { Clock } from '../../harness/clock.js';
import {
  ECHO_MAX_BYTES,
  STALL_MODE,
  TEST_COUNTERS_BYTES,
  TEST_REQUEST,
  ZLP_POLICY,
  decodeTestCounters,
  fillPattern,
  findPatternMismatch,
} from '../../device-side/functions/test-protocol.js';
import type { TestCounters, TestRequestName } from '../../device-side/functions/test-protocol.js';
import { classInterface, decodeSetup } from '../setup-packet.js';
import type { SetupPacket } from '../setup-packet.js';
import type { UsbDeviceHandle, UsbInResult, UsbOutResult, UsbTransferStatus } from '../usb-host.js';
import { TestProtocolError } from './test-protocol-error.js';

export interface HostAgentOptions {
  readonly handle: UsbDeviceHandle;
  /** bInterfaceNumber of the function (wIndex low byte of every class request). */
  readonly interfaceNumber: number;
  /** Bulk OUT endpoint of the function (default 0x01). */
  readonly bulkOutEndpoint?: number | undefined;
  /** Bulk IN endpoint of the function (default 0x81). */
  readonly bulkInEndpoint?: number | undefined;
  /** wMaxPacketSize of the bulk endpoints at the current speed (default 512, high speed). */
  readonly maxPacketSize?: number | undefined;
  /** The harness clock: throughput is measured on it (virtual in sim, real in lab). */
  readonly clock: Clock;
  /** Per-transfer timeout (default 5000 ms). */
  readonly timeoutMs?: number | undefined;
}

/** Options of one class request. */
export interface ClassRequestOptions {
  /** wValue (default 0). */
  readonly value?: number | undefined;
  /** wIndex high byte (default 0); the low byte is the interface number. */
  readonly indexHigh?: number | undefined;
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface BulkOptions {
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** What GET_LAST_ERROR reports. */
export interface TestLastError {
  readonly win32: number;
  /** USBFN IOCTL function code of the failed call (0 = none). */
  readonly ioctlFunction: number;
  readonly name: string;
}

export interface LoopbackResult {
  /** 'ok' when every transfer completed; otherwise the first stall/babble seen. */
  readonly status: UsbTransferStatus;
  readonly bytesWritten: number;
  readonly bytesRead: number;
  /** Offset of the first byte that differs from the pattern, or -1 (also -1 when nothing was read). */
  readonly firstMismatch: number;
  /** Byte-exact: status ok, all bytes back, no mismatch. */
  readonly ok: boolean;
}

export interface SourceReadResult {
  readonly status: UsbTransferStatus;
  readonly bytesRead: number;
  readonly firstMismatch: number;
  /** The bytes read (for a scenario that wants to look). */
  readonly data: Uint8Array;
}

export interface ThroughputOptions extends BulkOptions {
  readonly direction: 'in' | 'out';
  /** Total bytes to move. */
  readonly totalBytes: number;
  /** Bytes per transfer (default 64 KiB). */
  readonly transferBytes?: number | undefined;
  /** Transfers kept in flight (default 4). */
  readonly queueDepth?: number | undefined;
  /** Pattern seed for OUT data (default 1). */
  readonly seed?: number | undefined;
}

export interface ThroughputResult {
  readonly direction: 'in' | 'out';
  readonly bytes: number;
  readonly transfers: number;
  /** On the harness clock. */
  readonly elapsedMs: number;
  /** bytes / elapsed seconds on the harness clock (Infinity if no time passed). */
  readonly bytesPerSecond: number;
}

const DEFAULT_TIMEOUT_MS = 5000;

/**
 * The host-side operations on one opened function.
 *
 * @example
 * const agent = new HostAgent({ handle, interfaceNumber: 0, clock });
 * await agent.resetState();
 * const r = await agent.loopback(4096, { seed: 7 });
 * expect(r.ok).toBe(true);
 */
export class HostAgent {
  readonly handle: UsbDeviceHandle;
  readonly interfaceNumber: number;
  readonly bulkOutEndpoint: number;
  readonly bulkInEndpoint: number;
  readonly maxPacketSize: number;
  readonly #clock: Clock;
  readonly #timeoutMs: number;

  constructor(options: HostAgentOptions) {
    this.handle = options.handle;
    this.interfaceNumber = options.interfaceNumber;
    this.bulkOutEndpoint = options.bulkOutEndpoint ?? 0x01;
    this.bulkInEndpoint = options.bulkInEndpoint ?? 0x81;
    this.maxPacketSize = options.maxPacketSize ?? 512;
    this.#clock = options.clock;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  // ---- class requests to the function's interface -------------------------------------------

  /** A class IN request to the function's interface (bmRequestType 0xA1). Stall resolves as a status. */
  classIn(request: number, length: number, options: ClassRequestOptions = {}): Promise<UsbInResult> {
    return this.handle.controlIn(classInterface(this.interfaceNumber, request, options.value ?? 0, options.indexHigh ?? 0), length, this.#t(options));
  }

  /** A class OUT request with a data stage (bmRequestType 0x21). */
  classOut(request: number, data: Uint8Array, options: ClassRequestOptions = {}): Promise<UsbOutResult> {
    return this.handle.controlOut(classInterface(this.interfaceNumber, request, options.value ?? 0, options.indexHigh ?? 0), data, this.#t(options));
  }

  /** A class request without a data stage. */
  classNoData(request: number, options: ClassRequestOptions = {}): Promise<UsbOutResult> {
    return this.classOut(request, new Uint8Array(0), options);
  }

  // ---- the test protocol --------------------------------------------------------------------

  /** GET_COUNTERS. @throws TestProtocolError when it stalls or returns fewer than 48 bytes. */
  async getCounters(options: ClassRequestOptions = {}): Promise<TestCounters> {
    const r = await this.#in('GET_COUNTERS', TEST_COUNTERS_BYTES, options);
    if (r.length < TEST_COUNTERS_BYTES) throw new TestProtocolError(this.#name('GET_COUNTERS'), `returned ${r.length} bytes, expected ${TEST_COUNTERS_BYTES}`);
    return decodeTestCounters(r);
  }

  /** GET_LAST_ERROR: u32 win32, u32 ioctl function, UTF-8 name. */
  async getLastError(maxLength = 256, options: ClassRequestOptions = {}): Promise<TestLastError> {
    const r = await this.#in('GET_LAST_ERROR', maxLength, options);
    if (r.length < 8) throw new TestProtocolError(this.#name('GET_LAST_ERROR'), `returned ${r.length} bytes, expected at least 8`);
    const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
    return { win32: v.getUint32(0, true), ioctlFunction: v.getUint32(4, true), name: new TextDecoder().decode(r.subarray(8)) };
  }

  /** SET_NEXT_IN_LENGTH: the length of the next IN transfer the source queues (`undefined` = default). */
  async setNextInLength(length: number | undefined, options: ClassRequestOptions = {}): Promise<void> {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, length === undefined ? 0xffffffff : length, true);
    await this.#out('SET_NEXT_IN_LENGTH', b, options);
  }

  /** ECHO_LAST_SETUP: the previous class request the function saw. */
  async echoLastSetup(options: ClassRequestOptions = {}): Promise<SetupPacket> {
    const r = await this.#in('ECHO_LAST_SETUP', 8, options);
    if (r.length !== 8) throw new TestProtocolError(this.#name('ECHO_LAST_SETUP'), `returned ${r.length} bytes, expected 8`);
    return decodeSetup(r);
  }

  /** RESET_STATE: counters, last error, echo buffer, stall rules and policies. */
  async resetState(options: ClassRequestOptions = {}): Promise<void> {
    await this.#out('RESET_STATE', undefined, options);
  }

  /** SET_STALL_POLICY for `bRequest`. */
  async setStallPolicy(bRequest: number, mode: keyof typeof STALL_MODE, options: ClassRequestOptions = {}): Promise<void> {
    await this.#out('SET_STALL_POLICY', Uint8Array.from([bRequest & 0xff, STALL_MODE[mode], 0, 0]), options);
  }

  /** ECHO_WRITE: stores up to 4096 bytes on the device (control write). */
  async echoWrite(data: Uint8Array, options: ClassRequestOptions = {}): Promise<UsbOutResult> {
    if (data.length > ECHO_MAX_BYTES) {
      throw new RangeError(`ECHO_WRITE takes at most ${ECHO_MAX_BYTES} bytes, got ${data.length}: split the payload`);
    }
    return this.classOut(TEST_REQUEST.ECHO_WRITE, data, options);
  }

  /** ECHO_READ: reads back the stored payload (truncated to `length`). Stall resolves as a status. */
  echoRead(length: number, options: ClassRequestOptions = {}): Promise<UsbInResult> {
    return this.classIn(TEST_REQUEST.ECHO_READ, length, options);
  }

  /** SET_ZLP_POLICY for IN transfers that are a multiple of wMaxPacketSize. */
  async setZlpPolicy(policy: keyof typeof ZLP_POLICY, options: ClassRequestOptions = {}): Promise<void> {
    await this.#out('SET_ZLP_POLICY', undefined, { ...options, value: ZLP_POLICY[policy] });
  }

  /** READ_PATTERN: `length` bytes of the seeded pattern from `offset` (wValue). */
  readPattern(offset: number, length: number, options: ClassRequestOptions = {}): Promise<UsbInResult> {
    return this.classIn(TEST_REQUEST.READ_PATTERN, length, { ...options, value: offset });
  }

  /** SET_ENDPOINT_HALT: the device halts (or un-halts) one of its endpoints via SET_PIPE_STATE. */
  async setEndpointHalt(endpoint: number, halted: boolean, options: ClassRequestOptions = {}): Promise<void> {
    await this.#out('SET_ENDPOINT_HALT', undefined, { ...options, value: halted ? 1 : 0, indexHigh: endpoint });
  }

  // ---- bulk ---------------------------------------------------------------------------------

  /**
   * Loopback: writes `length` bytes of the seeded pattern to the OUT endpoint (ending with a ZLP when the
   * length is a multiple of wMaxPacketSize, so the device's read completes) while reading them back from
   * the IN endpoint, then checks every byte.
   * @throws LibusbError on timeouts, cancellation or device loss.
   */
  async loopback(length: number, options: BulkOptions & { seed?: number | undefined } = {}): Promise<LoopbackResult> {
    const seed = options.seed ?? 1;
    const out = new Uint8Array(length);
    fillPattern(out, seed, 0);
    const reading = this.#readAll(length, options);
    reading.catch(() => undefined); // awaited below; a write failure must not leave it unhandled
    const w = await this.handle.bulkOut(this.bulkOutEndpoint, out, { ...this.#t(options), zeroLengthPacket: true });
    if (w.status !== 'ok') return { status: w.status, bytesWritten: w.bytesWritten, bytesRead: 0, firstMismatch: -1, ok: false };
    const r = await reading;
    const firstMismatch = findPatternMismatch(r.data, seed, 0);
    return {
      status: r.status,
      bytesWritten: w.bytesWritten,
      bytesRead: r.data.length,
      firstMismatch,
      ok: r.status === 'ok' && r.data.length === length && firstMismatch === -1,
    };
  }

  /** Reads `length` bytes from the source (IN endpoint) and checks them against the pattern from `offset`. */
  async sourceRead(length: number, options: BulkOptions & { seed: number; offset?: number | undefined }): Promise<SourceReadResult> {
    const r = await this.#readAll(length, options);
    return { status: r.status, bytesRead: r.data.length, firstMismatch: findPatternMismatch(r.data, options.seed, options.offset ?? 0), data: r.data };
  }

  /** Writes `length` bytes of the pattern (from `offset`) to the sink (OUT endpoint). */
  sinkWrite(length: number, options: BulkOptions & { seed: number; offset?: number | undefined; zeroLengthPacket?: boolean | undefined }): Promise<UsbOutResult> {
    const out = new Uint8Array(length);
    fillPattern(out, options.seed, options.offset ?? 0);
    return this.handle.bulkOut(this.bulkOutEndpoint, out, { ...this.#t(options), zeroLengthPacket: options.zeroLengthPacket });
  }

  /**
   * Moves `totalBytes` with `queueDepth` transfers of `transferBytes` in flight and measures the time on
   * the harness clock. OUT reuses one pattern buffer; IN data is counted, not kept.
   * @throws TestProtocolError when a transfer stalls or babbles; LibusbError on failures.
   */
  async throughput(options: ThroughputOptions): Promise<ThroughputResult> {
    const transferBytes = options.transferBytes ?? 64 * 1024;
    const depth = Math.max(1, options.queueDepth ?? 4);
    if (!Number.isInteger(options.totalBytes) || options.totalBytes <= 0 || !Number.isInteger(transferBytes) || transferBytes <= 0) {
      throw new RangeError(`throughput needs positive integer totalBytes and transferBytes, got ${options.totalBytes} and ${transferBytes}`);
    }
    const outBuf = options.direction === 'out' ? new Uint8Array(transferBytes) : undefined;
    if (outBuf !== undefined) fillPattern(outBuf, options.seed ?? 1, 0);
    const t = this.#t(options);
    let issued = 0;
    let moved = 0;
    let transfers = 0;
    let failure: unknown;
    const start = this.#clock.now();

    const one = async (): Promise<void> => {
      while (failure === undefined && issued < options.totalBytes) {
        const n = Math.min(transferBytes, options.totalBytes - issued);
        issued += n;
        let status: UsbTransferStatus;
        let got: number;
        if (outBuf !== undefined) {
          const r = await this.handle.bulkOut(this.bulkOutEndpoint, n === transferBytes ? outBuf : outBuf.subarray(0, n), t);
          status = r.status;
          got = r.bytesWritten;
        } else {
          const r = await this.handle.bulkIn(this.bulkInEndpoint, n, t);
          status = r.status;
          got = r.data.length;
        }
        if (status !== 'ok') {
          const ep = outBuf !== undefined ? this.bulkOutEndpoint : this.bulkInEndpoint;
          throw new TestProtocolError(`throughput(${options.direction}, 0x${ep.toString(16)})`, `ended with status ${status} after ${moved} bytes`);
        }
        moved += got;
        transfers++;
      }
    };
    const lanes: Promise<void>[] = [];
    for (let i = 0; i < depth; i++) {
      lanes.push(
        one().catch((e: unknown) => {
          failure ??= e;
        }),
      );
    }
    await Promise.all(lanes);
    if (failure !== undefined) throw failure;
    const elapsedMs = this.#clock.now() - start;
    return {
      direction: options.direction,
      bytes: moved,
      transfers,
      elapsedMs,
      bytesPerSecond: elapsedMs > 0 ? (moved * 1000) / elapsedMs : Infinity,
    };
  }

  // ---- internals ----------------------------------------------------------------------------

  /** Reads until `length` bytes arrived (skipping zero-length packets) or a non-ok status. */
  async #readAll(length: number, options: BulkOptions): Promise<{ status: UsbTransferStatus; data: Uint8Array }> {
    const buf = new Uint8Array(length);
    let got = 0;
    const mps = this.maxPacketSize;
    while (got < length) {
      // Ask for whole packets so a device that rounds up cannot babble.
      const want = Math.ceil((length - got) / mps) * mps;
      const r = await this.handle.bulkIn(this.bulkInEndpoint, want, this.#t(options));
      const n = Math.min(r.data.length, length - got);
      buf.set(r.data.subarray(0, n), got);
      got += n;
      if (r.status !== 'ok') return { status: r.status, data: buf.subarray(0, got) };
      if (r.data.length > n) return { status: 'babble', data: buf.subarray(0, got) };
    }
    return { status: 'ok', data: buf };
  }

  async #in(name: TestRequestName, length: number, options: ClassRequestOptions): Promise<Uint8Array> {
    const r = await this.classIn(TEST_REQUEST[name], length, options);
    if (r.status !== 'ok') throw new TestProtocolError(this.#name(name), `ended with status ${r.status}: is the test function running on interface ${this.interfaceNumber}?`);
    return r.data;
  }

  async #out(name: TestRequestName, data: Uint8Array | undefined, options: ClassRequestOptions): Promise<void> {
    const r = await this.classOut(TEST_REQUEST[name], data ?? new Uint8Array(0), options);
    if (r.status !== 'ok') throw new TestProtocolError(this.#name(name), `ended with status ${r.status}: is the test function running on interface ${this.interfaceNumber}?`);
  }

  #name(name: TestRequestName): string {
    return `${name}(interface ${this.interfaceNumber})`;
  }

  #t(options: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined }): { timeoutMs: number; signal: AbortSignal | undefined } {
    return { timeoutMs: options.timeoutMs ?? this.#timeoutMs, signal: options.signal };
  }
}
