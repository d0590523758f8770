/**
 * `HostAgent`: what scenarios and users do from the host, identical over `NodeUsbHost` and `SimUsbHost`
 * (issue 5): class requests to the function's interface, the device test protocol
 * (device-side/functions/test-protocol.ts), bulk loopback with a seeded pattern and byte-exact
 * verification, source/sink reads and writes, and throughput with N queued transfers on the harness clock.
 */
import { type Clock, ECHO_MAX_BYTES, STALL_MODE, TEST_COUNTERS_BYTES, TEST_REQUEST, ZLP_POLICY, decodeTestCounters, type SetupPacket, type TestCounters, type TestRequestName } from '../../core/index.js';
import { classInterface, decodeSetup } from '../setup-packet.js';
import type { UsbDeviceHandle, UsbInResult, UsbOutResult, UsbTransferStatus } from '../usb-host.js';
import type { BulkOptions, LoopbackResult, PipelinedLoopbackOptions, PipelinedLoopbackResult, SourceReadResult, ThroughputOptions, ThroughputResult } from './bulk-results.js';
import { readFunctionEndpoints } from './function-endpoints.js';
import { PatternCache } from './pattern-cache.js';
import { ReceiveBufferPool } from './receive-buffer-pool.js';
import { TestProtocolError } from './test-protocol-error.js';

/**
 * Options of the constructor: every endpoint value explicit (unit tests with a fake handle). On a device,
 * use {@link HostAgent.open}, which reads them from the device.
 */
export interface HostAgentOptions {
  readonly handle: UsbDeviceHandle;
  /** bInterfaceNumber of the function (wIndex low byte of every class request). */
  readonly interfaceNumber: number;
  /** bEndpointAddress of the function's bulk OUT endpoint. */
  readonly bulkOutEndpoint: number;
  /** bEndpointAddress of the function's bulk IN endpoint. */
  readonly bulkInEndpoint: number;
  /** wMaxPacketSize (bits 10..0) of the bulk IN endpoint at the speed the device runs at. */
  readonly maxPacketSize: number;
  /** The harness clock: throughput is measured on it (virtual in sim, real in lab). */
  readonly clock: Clock;
  /** Per-transfer timeout (default 5000 ms). */
  readonly timeoutMs?: number | undefined;
}

/** Options of {@link HostAgent.open}: the endpoints come from the device's configuration descriptor. */
export interface HostAgentOpenOptions {
  /** The opened device, its interface claimed. */
  readonly handle: UsbDeviceHandle;
  /** bInterfaceNumber of the function. */
  readonly interfaceNumber: number;
  /** The alternate setting whose bulk pair the agent uses (default 0, the setting after SET_CONFIGURATION). */
  readonly alternateSetting?: number | undefined;
  readonly clock: Clock;
  /** Per-transfer timeout of the agent's operations (default 5000 ms). */
  readonly timeoutMs?: number | undefined;
  /** Bound on each GET_DESCRIPTOR of the open (default `timeoutMs`): pass what is left of a caller's deadline. */
  readonly readTimeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
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

/** What GET_LAST_ERROR reports. */
export interface TestLastError {
  readonly win32: number;
  /** USBFN IOCTL function code of the failed call (0 = none). */
  readonly ioctlFunction: number;
  readonly name: string;
}

const DEFAULT_TIMEOUT_MS = 5000;

/**
 * The host-side operations on one opened function.
 *
 * Bulk helpers leave the IN pipe as they found it: a loopback also reads the zero-length packet that ends
 * its echo. The agent knows whether one follows from the ZLP policy it last set with {@link setZlpPolicy};
 * until then, and after {@link resetState}, it takes the built-in test functions' default,
 * APPEND_ON_MULTIPLE. A policy another agent set on the same device is not known to this one (a wrong guess
 * shows as a loopback that times out waiting for the ZLP, never as silently wrong data).
 *
 * @example
 * const agent = await HostAgent.open({ handle, interfaceNumber: 0, clock });
 * await agent.resetState();
 * const r = await agent.loopback(4096, { seed: 7 });
 * expect(r.ok).toBe(true);
 */
export class HostAgent {
  readonly handle: UsbDeviceHandle;
  readonly interfaceNumber: number;
  readonly bulkOutEndpoint: number;
  readonly bulkInEndpoint: number;
  /** wMaxPacketSize of the bulk IN endpoint at the device's current speed. */
  readonly maxPacketSize: number;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  /** The seeded pattern, generated once per seed (OUT data and verification). */
  readonly #patterns = new PatternCache();
  /** Receive buffers of loopback reads, which are verified and dropped. */
  readonly #rxPool = new ReceiveBufferPool();
  /** The device's ZLP policy as this agent last set it (SET_ZLP_POLICY; RESET_STATE restores the default). */
  #zlpPolicy: number = ZLP_POLICY.APPEND_ON_MULTIPLE;

  /**
   * An agent with explicit endpoint values (unit tests); {@link HostAgent.open} reads them from the device.
   * @throws RangeError for an endpoint address of the wrong direction or a wMaxPacketSize that is not 1..2047.
   */
  constructor(options: HostAgentOptions) {
    if ((options.bulkOutEndpoint & 0x80) !== 0 || (options.bulkInEndpoint & 0x80) === 0) {
      throw new RangeError(
        `bulk endpoints 0x${options.bulkOutEndpoint.toString(16)} (OUT) and 0x${options.bulkInEndpoint.toString(16)} (IN) have the wrong direction bit: OUT addresses are 0x01..0x0f, IN 0x81..0x8f`,
      );
    }
    if (!Number.isInteger(options.maxPacketSize) || options.maxPacketSize < 1 || options.maxPacketSize > 0x7ff) {
      throw new RangeError(`maxPacketSize ${options.maxPacketSize} is not a wMaxPacketSize (1..2047): pass the bulk IN endpoint's, or use HostAgent.open`);
    }
    this.handle = options.handle;
    this.interfaceNumber = options.interfaceNumber;
    this.bulkOutEndpoint = options.bulkOutEndpoint;
    this.bulkInEndpoint = options.bulkInEndpoint;
    this.maxPacketSize = options.maxPacketSize;
    this.#clock = options.clock;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /**
   * An agent on an opened, claimed function whose bulk endpoints and wMaxPacketSize come from the device:
   * one GET_DESCRIPTOR(CONFIGURATION) (header, then wTotalLength), as the device reports it at its current speed.
   * @throws TestProtocolError when the descriptor request stalls or the interface has no bulk OUT / IN pair;
   * UsageError INVALID_ARGUMENT (no such interface) or DECODE (malformed descriptors); LibusbError on timeouts,
   * cancellation or device loss.
   * @see USB 2.0 §9.4.3, §9.6.6
   */
  static async open(options: HostAgentOpenOptions): Promise<HostAgent> {
    const endpoints = await readFunctionEndpoints(options.handle, options.interfaceNumber, {
      alternateSetting: options.alternateSetting,
      timeoutMs: options.readTimeoutMs ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      signal: options.signal,
    });
    return new HostAgent({
      handle: options.handle,
      interfaceNumber: options.interfaceNumber,
      bulkOutEndpoint: endpoints.bulkOutEndpoint,
      bulkInEndpoint: endpoints.bulkInEndpoint,
      maxPacketSize: endpoints.bulkInMaxPacketSize,
      clock: options.clock,
      timeoutMs: options.timeoutMs,
    });
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
    this.#zlpPolicy = ZLP_POLICY.APPEND_ON_MULTIPLE;
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
    this.#zlpPolicy = ZLP_POLICY[policy];
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
   * the IN endpoint, then checks every byte. The zero-length packet that ends the echo (an empty echo, or a
   * multiple of wMaxPacketSize under APPEND_ON_MULTIPLE) is read too, so the IN pipe is left empty.
   * @throws LibusbError on timeouts, cancellation or device loss.
   */
  async loopback(length: number, options: BulkOptions & { seed?: number | undefined } = {}): Promise<LoopbackResult> {
    const seed = options.seed ?? 1;
    const out = this.#patterns.view(seed, 0, length);
    const rx = this.#rxPool.acquire(this.#readCapacity(length));
    const reading = this.#readAll(length, options, rx, this.#echoEndsWithZlp(length));
    reading.catch(() => undefined); // awaited below; a write failure must not leave it unhandled
    try {
      const w = await this.handle.bulkOut(this.bulkOutEndpoint, out, { timeoutMs: options.timeoutMs ?? this.#timeoutMs, signal: options.signal, zeroLengthPacket: true });
      if (w.status !== 'ok') return { status: w.status, bytesWritten: w.bytesWritten, bytesRead: 0, firstMismatch: -1, ok: false };
      const r = await reading;
      const firstMismatch = this.#patterns.mismatch(r.data, seed, 0);
      return {
        status: r.status,
        bytesWritten: w.bytesWritten,
        bytesRead: r.data.length,
        firstMismatch,
        ok: r.status === 'ok' && r.data.length === length && firstMismatch === -1,
      };
    } finally {
      // Back to the pool only once the read settled: a URB still pending writes into it.
      const release = (): void => this.#rxPool.release(rx);
      void reading.then(release, release);
    }
  }

  /**
   * Loopback of `count` transfers of `transferBytes` each with `depth` OUT transfers and up to `depth` IN
   * transfers queued on the host at once (HLK loopback stress, usbtest queued bulk): every transfer carries
   * the seeded pattern from offset 0 and every byte read back is checked. The IN side reads the echo as one
   * ordered stream, skipping the zero-length packets that end exact-multiple transfers, never leaves a read
   * queued behind the last transfer, and reads the zero-length packet that ends the last echo (so the IN
   * pipe is left empty; more bytes there end the run with status `babble`).
   * @throws RangeError for non-positive sizes or counts; LibusbError on timeouts, cancellation or device loss
   * (the other queued transfers are cancelled first).
   */
  async loopbackPipelined(transferBytes: number, count: number, depth = 4, options: PipelinedLoopbackOptions = {}): Promise<PipelinedLoopbackResult> {
    for (const [name, v] of [['transferBytes', transferBytes], ['count', count], ['depth', depth]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new RangeError(`loopbackPipelined needs a positive integer ${name}, got ${v}`);
    }
    const seed = options.seed ?? 1;
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const stop = new AbortController();
    const signal = options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
    const out = this.#patterns.view(seed, 0, transferBytes);
    const outOptions = { timeoutMs, signal, zeroLengthPacket: true };
    const total = transferBytes * count;
    const mps = this.maxPacketSize;
    const urbBytes = Math.ceil(transferBytes / mps) * mps;
    // As loopback() does: when each echo ends with a ZLP, a read asks for one packet more, so that the ZLP
    // ends it (one read per transfer, and none left on the pipe after the last) instead of completing a read
    // of its own. Reads never fill up then: the stream holds at most urbBytes before each ZLP.
    const readBytes = this.#echoEndsWithZlp(transferBytes) ? urbBytes + mps : urbBytes;
    const start = this.#clock.now();
    let status: UsbTransferStatus = 'ok';
    let failure: unknown;
    let issued = 0;
    let transfers = 0;
    let written = 0;
    let read = 0;
    let firstMismatch = -1;
    const fail = (e: unknown): void => {
      // After a stall/babble ended the run, the cancellations of the other queued transfers are expected.
      if (status !== 'ok' && stop.signal.aborted) return;
      failure ??= e;
      stop.abort(e);
    };

    const writer = async (): Promise<void> => {
      while (failure === undefined && status === 'ok' && issued < count) {
        issued++;
        const w = await this.handle.bulkOut(this.bulkOutEndpoint, out, outOptions);
        written += w.bytesWritten;
        if (w.status !== 'ok') {
          status = w.status;
          stop.abort(new TestProtocolError(`loopbackPipelined(0x${this.bulkOutEndpoint.toString(16)})`, `bulk OUT ended with status ${w.status}`));
          return;
        }
        transfers++;
      }
    };

    // The IN stream: reads complete in queue order, so they are consumed in that order from a ring
    // (two fixed arrays and a head index: no object per read).
    const reader = async (): Promise<void> => {
      const promises: (Promise<UsbInResult> | undefined)[] = new Array<Promise<UsbInResult> | undefined>(depth);
      const buffers: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(depth);
      let head = 0;
      let queued = 0;
      // Never more reads than the bytes still due could need (each brings at most one echo, urbBytes): every
      // queued read then gets data or a ZLP, and none is left waiting once the last byte arrived.
      const refill = (): void => {
        while (queued < depth && queued < Math.ceil((total - read) / urbBytes) && failure === undefined && status === 'ok') {
          const buffer = this.#rxPool.acquire(readBytes);
          const promise = this.handle.bulkIn(this.bulkInEndpoint, readBytes, { timeoutMs, signal, buffer });
          promise.catch(noop); // consumed in order below
          const slot = (head + queued) % depth;
          promises[slot] = promise;
          buffers[slot] = buffer;
          queued++;
        }
      };
      try {
        refill();
        while (queued > 0) {
          const r = await promises[head]!;
          const buffer = buffers[head]!;
          promises[head] = undefined;
          buffers[head] = undefined;
          head = (head + 1) % depth;
          queued--;
          const n = r.data.length;
          if (n > 0) {
            const bad = this.#checkStream(r.data, read, transferBytes, seed);
            if (bad >= 0 && firstMismatch < 0) firstMismatch = bad;
            read += n;
          }
          this.#rxPool.release(buffer);
          if (r.status !== 'ok') {
            status = r.status;
            stop.abort(new TestProtocolError(`loopbackPipelined(0x${this.bulkInEndpoint.toString(16)})`, `bulk IN ended with status ${r.status}`));
            break;
          }
          refill();
        }
      } finally {
        // Reads still queued after a failure settle (cancelled) before their buffers go back to the pool.
        for (; queued > 0; queued--, head = (head + 1) % depth) {
          await promises[head]!.then(noop, noop);
          this.#rxPool.release(buffers[head]!);
          promises[head] = undefined;
          buffers[head] = undefined;
        }
      }
    };

    const lanes: Promise<void>[] = [reader().catch(fail)];
    for (let i = 0; i < Math.min(depth, count); i++) lanes.push(writer().catch(fail));
    await Promise.all(lanes);
    if (failure !== undefined) throw failure;
    return {
      status,
      transfers,
      bytesWritten: written,
      bytesRead: read,
      firstMismatch,
      ok: status === 'ok' && read === total && firstMismatch === -1,
      elapsedMs: this.#clock.now() - start,
    };
  }

  /** Reads `length` bytes from the source (IN endpoint) and checks them against the pattern from `offset`. */
  async sourceRead(length: number, options: BulkOptions & { seed: number; offset?: number | undefined }): Promise<SourceReadResult> {
    // The source streams on its own: what follows these bytes belongs to the next read, so none is drained.
    const r = await this.#readAll(length, options);
    return { status: r.status, bytesRead: r.data.length, firstMismatch: this.#patterns.mismatch(r.data, options.seed, options.offset ?? 0), data: r.data };
  }

  /** Writes `length` bytes of the pattern (from `offset`) to the sink (OUT endpoint). */
  sinkWrite(length: number, options: BulkOptions & { seed: number; offset?: number | undefined; zeroLengthPacket?: boolean | undefined }): Promise<UsbOutResult> {
    const out = this.#patterns.view(options.seed, options.offset ?? 0, length);
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
    const outBuf = options.direction === 'out' ? this.#patterns.view(options.seed ?? 1, 0, transferBytes) : undefined;
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

  /** The device ends the echo of `length` bytes with a ZLP: an empty transfer is one, and APPEND_ON_MULTIPLE adds one after a multiple. */
  #echoEndsWithZlp(length: number): boolean {
    return length === 0 || (length % this.maxPacketSize === 0 && this.#zlpPolicy === ZLP_POLICY.APPEND_ON_MULTIPLE);
  }

  /** Receive bytes `#readAll` may need for `length`: whole packets past a short read, plus one for a ZLP. */
  #readCapacity(length: number): number {
    return length + 2 * this.maxPacketSize;
  }

  /**
   * Reads until `length` bytes arrived (skipping zero-length packets before them) or a non-ok status, into
   * `target` (at least `#readCapacity(length)` bytes) or a fresh buffer. With `endsWithZlp` the last read asks for
   * one packet more, so the device's closing ZLP ends it instead of staying queued on the pipe.
   */
  async #readAll(length: number, options: BulkOptions, target?: Uint8Array, endsWithZlp = false): Promise<{ status: UsbTransferStatus; data: Uint8Array }> {
    const mps = this.maxPacketSize;
    const buf = target ?? new Uint8Array(this.#readCapacity(length));
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const zlpRoom = endsWithZlp ? mps : 0;
    let got = 0;
    let ended = !endsWithZlp;
    while (got < length || !ended) {
      // Ask for whole packets so a device that rounds up cannot babble.
      const want = Math.ceil((length - got) / mps) * mps + zlpRoom;
      const dst = buf.subarray(got, got + want);
      const r = await this.handle.bulkIn(this.bulkInEndpoint, want, { timeoutMs, signal: options.signal, buffer: dst });
      const n = Math.min(r.data.length, length - got);
      // A handle that ignored the receive buffer returned its own: copy from it.
      if (n > 0 && (r.data.buffer !== buf.buffer || r.data.byteOffset !== dst.byteOffset)) buf.set(r.data.subarray(0, n), got);
      got += n;
      if (r.status !== 'ok') return { status: r.status, data: buf.subarray(0, got) };
      if (r.data.length > n) return { status: 'babble', data: buf.subarray(0, got) };
      // A read that ends short of its request ends the device's transfer (USB 2.0 §5.8.3): with every byte
      // in, that short packet or ZLP closed the echo.
      if (got === length && r.data.length < want) ended = true;
    }
    return { status: 'ok', data: buf.subarray(0, length) };
  }

  /**
   * Checks `data`, which starts at byte `position` of a stream of back-to-back transfers of `transferBytes`
   * each carrying the pattern from offset 0; returns the stream offset of the first wrong byte or -1.
   */
  #checkStream(data: Uint8Array, position: number, transferBytes: number, seed: number): number {
    let at = 0;
    while (at < data.length) {
      const within = (position + at) % transferBytes;
      const n = Math.min(data.length - at, transferBytes - within);
      const bad = this.#patterns.mismatch(at === 0 && n === data.length ? data : data.subarray(at, at + n), seed, within);
      if (bad >= 0) return position + at + bad;
      at += n;
    }
    return -1;
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

function noop(): void {}
