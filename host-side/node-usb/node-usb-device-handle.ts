/**
 * An opened device over node-usb's legacy API (libusb_device_handle). Every transfer is one
 * `libusb_transfer` submitted asynchronously with its own timeout, so several may be in flight per
 * endpoint; abort = libusb_cancel_transfer. Stall and overflow resolve as statuses; every other outcome
 * rejects with {@link LibusbError} carrying the libusb name and the actual length.
 */
import { type Clock, withTimeout, type LibusbError } from '../../core/index.js';
import { encodeSetup, buildSetup } from '../setup-packet.js';
import type {
  UsbBulkInOptions,
  UsbBulkOutOptions,
  UsbControlSetup,
  UsbDeviceHandle,
  UsbDeviceInfo,
  UsbInResult,
  UsbOutResult,
  UsbTransferOptions,
} from '../usb-host.js';
import { LIBUSB_ERROR, LIBUSB_TRANSFER, hasLibusbErrno, libusbError, libusbErrorFrom, transferStatusOf } from '../libusb-error.js';
import { type DeviceLike, type EndpointLike, type InterfaceLike, type TransferCallback, type TransferLike, type UsbModuleLike, LIBUSB_TRANSFER_TYPE } from './usb-module.js';

/** Default per-transfer timeout (UsbTransferOptions.timeoutMs). */
export const DEFAULT_TRANSFER_TIMEOUT_MS = 5000;
const SETUP_BYTES = 8;
const EMPTY = new Uint8Array(0);

/**
 * `length` bytes of `buf` from `offset` as a plain Uint8Array view (no copy). The seam promises
 * Uint8Array, and a Buffer is not deep-equal to a Uint8Array with the same bytes (vitest's toEqual
 * compares the class), so results must not leak node-usb's Buffer subclass.
 */
function view(buf: Buffer, offset: number, length: number): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset + offset, length);
}

/**
 * What the open handles of one device share. node-usb keeps one `usb.Device` object (one
 * libusb_device_handle) per device, and `Device.open()` on an open device reuses that libusb handle: two
 * UsbDeviceHandles of one device are one libusb handle to libusb and usbfs, which then cannot tell their
 * claims apart (a second claim succeeds instead of LIBUSB_ERROR_BUSY), and closing one would close both.
 * So the host opens the device once, counts handles, and keeps claim ownership here.
 */
export interface SharedDeviceState {
  /** Handles open on the device; the libusb handle closes when the last one does. */
  opens: number;
  /** interface number → the handle that claimed it. */
  readonly claims: Map<number, NodeUsbDeviceHandle>;
}

export interface NodeUsbDeviceHandleOptions {
  readonly usb: UsbModuleLike;
  readonly device: DeviceLike;
  /** Shared with the other handles of `device` (the host counts this handle in `opens` already). */
  readonly shared?: SharedDeviceState | undefined;
  readonly info: UsbDeviceInfo;
  /** Bounds waits on callback-style calls (clearHalt, reset, release, set configuration/alternate). */
  readonly clock: Clock;
  /** `process.platform`; kernel drivers are detached only on Linux. */
  readonly platform: string;
  readonly defaultTimeoutMs?: number | undefined;
  /** Called once when the handle closes (the host forgets it). */
  readonly onClose?: (() => void) | undefined;
}

/** Outcome callback of one submitted transfer. */
type Done = (error: Error | undefined, actual: number) => void;

/**
 * @see https://libusb.sourceforge.io/api-1.0/group__libusb__asyncio.html
 */
export class NodeUsbDeviceHandle implements UsbDeviceHandle {
  readonly info: UsbDeviceInfo;
  readonly #usb: UsbModuleLike;
  readonly #device: DeviceLike;
  readonly #clock: Clock;
  readonly #platform: string;
  readonly #defaultTimeoutMs: number;
  readonly #onClose: (() => void) | undefined;
  readonly #shared: SharedDeviceState;
  /** Claimed interfaces by number. */
  readonly #claimed = new Map<number, InterfaceLike>();
  /** Interfaces whose kernel driver we detached (reattached on release). */
  readonly #detached = new Set<number>();
  /** Endpoints of claimed interfaces by address. */
  readonly #endpoints = new Map<number, EndpointLike>();
  /** Transfers submitted and not yet completed, with a waiter for close(). */
  readonly #inFlight = new Set<TransferLike>();
  #drained: (() => void) | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: NodeUsbDeviceHandleOptions) {
    this.#usb = options.usb;
    this.#device = options.device;
    this.info = options.info;
    this.#clock = options.clock;
    this.#platform = options.platform;
    this.#defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_TRANSFER_TIMEOUT_MS;
    this.#onClose = options.onClose;
    this.#shared = options.shared ?? { opens: 1, claims: new Map() };
  }

  // ---- control -------------------------------------------------------------------------------

  /** @throws LibusbError LIBUSB_TRANSFER_TIMED_OUT, LIBUSB_TRANSFER_NO_DEVICE, LIBUSB_TRANSFER_CANCELLED, ... */
  controlIn(setup: UsbControlSetup, length: number, options: UsbTransferOptions = {}): Promise<UsbInResult> {
    const op = 'controlIn';
    let buf: Buffer;
    try {
      this.#checkOpen(op, 0x80);
      const p = buildSetup(setup, 'in', length);
      buf = Buffer.allocUnsafe(SETUP_BYTES + length);
      encodeSetup(p, buf, 0);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<UsbInResult>((resolve, reject) => {
      const make = (cb: TransferCallback): TransferLike =>
        new this.#usb.Transfer(this.#device, 0, LIBUSB_TRANSFER_TYPE.CONTROL, this.#timeout(options), cb);
      this.#submit(op, 0x80, make, buf, options.signal, reject, (error, actual) => {
        const data = view(buf, SETUP_BYTES, actual);
        const outcome = this.#outcome(op, 0x80, error, actual);
        if (outcome === 'ok' || outcome === 'babble') resolve({ status: outcome, data });
        else if (outcome === 'stall') resolve({ status: 'stall', data: EMPTY });
        else reject(outcome);
      });
    });
  }

  /** @throws LibusbError as {@link controlIn}. */
  controlOut(setup: UsbControlSetup, data: Uint8Array = EMPTY, options: UsbTransferOptions = {}): Promise<UsbOutResult> {
    const op = 'controlOut';
    let buf: Buffer;
    try {
      this.#checkOpen(op, 0x00);
      const p = buildSetup(setup, 'out', data.length);
      buf = Buffer.allocUnsafe(SETUP_BYTES + data.length);
      encodeSetup(p, buf, 0);
      buf.set(data, SETUP_BYTES);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<UsbOutResult>((resolve, reject) => {
      const make = (cb: TransferCallback): TransferLike =>
        new this.#usb.Transfer(this.#device, 0, LIBUSB_TRANSFER_TYPE.CONTROL, this.#timeout(options), cb);
      this.#submit(op, 0x00, make, buf, options.signal, reject, (error, actual) => {
        const outcome = this.#outcome(op, 0x00, error, actual);
        if (typeof outcome === 'string') resolve({ status: outcome, bytesWritten: outcome === 'stall' ? 0 : actual });
        else reject(outcome);
      });
    });
  }

  // ---- interfaces ----------------------------------------------------------------------------

  /** @throws LibusbError LIBUSB_ERROR_NOT_FOUND, LIBUSB_ERROR_BUSY, LIBUSB_ERROR_ACCESS. */
  async claimInterface(interfaceNumber: number): Promise<void> {
    const op = 'claimInterface';
    this.#checkOpen(op);
    if (this.#claimed.has(interfaceNumber)) return;
    const iface = this.#findInterface(op, interfaceNumber);
    if (this.#shared.claims.has(interfaceNumber)) {
      // usbfs answers EBUSY to a claim through another file descriptor; here both handles are one libusb handle.
      throw libusbError(op, LIBUSB_ERROR.LIBUSB_ERROR_BUSY, {
        detail: `interface ${interfaceNumber} is claimed by another handle to ${this.info.id} in this process: release it or close that handle first`,
      });
    }
    try {
      // libusb_claim_interface fails with BUSY while a kernel driver is bound (Linux only has detach).
      if (this.#platform === 'linux' && this.#kernelDriverActive(iface)) {
        iface.detachKernelDriver();
        this.#detached.add(interfaceNumber);
      }
      iface.claim();
    } catch (e) {
      throw libusbErrorFrom(op, e, { detail: `interface ${interfaceNumber}` });
    }
    this.#claimed.set(interfaceNumber, iface);
    this.#shared.claims.set(interfaceNumber, this);
    this.#indexEndpoints(iface);
  }

  /** @throws LibusbError LIBUSB_ERROR_NOT_FOUND when not claimed. */
  async releaseInterface(interfaceNumber: number): Promise<void> {
    const op = 'releaseInterface';
    this.#checkOpen(op);
    const iface = this.#claimed.get(interfaceNumber);
    if (iface === undefined) {
      throw libusbError(op, LIBUSB_ERROR.LIBUSB_ERROR_NOT_FOUND, { detail: `interface ${interfaceNumber} is not claimed` });
    }
    await this.#release(iface);
  }

  /** SET_INTERFACE through libusb_set_interface_alt_setting (refreshes the endpoint map). */
  async selectAlternate(interfaceNumber: number, alternateSetting: number, options: UsbTransferOptions = {}): Promise<void> {
    const op = 'selectAlternate';
    this.#checkOpen(op);
    const iface = this.#claimed.get(interfaceNumber);
    if (iface === undefined) {
      throw libusbError(op, LIBUSB_ERROR.LIBUSB_ERROR_NOT_FOUND, {
        detail: `interface ${interfaceNumber} is not claimed: claimInterface(${interfaceNumber}) first`,
      });
    }
    await this.#callback(op, options, (cb) => iface.setAltSetting(alternateSetting, cb));
    this.#indexEndpoints(iface);
  }

  /** SET_CONFIGURATION through libusb_set_configuration; releases nothing (libusb requires no claims). */
  async selectConfiguration(configurationValue: number, options: UsbTransferOptions = {}): Promise<void> {
    const op = 'selectConfiguration';
    this.#checkOpen(op);
    if (this.#claimed.size > 0) {
      throw libusbError(op, LIBUSB_ERROR.LIBUSB_ERROR_BUSY, {
        detail: `interfaces ${[...this.#claimed.keys()].join(', ')} are claimed: release them before changing the configuration`,
      });
    }
    await this.#callback(op, options, (cb) => this.#device.setConfiguration(configurationValue, cb));
    this.#endpoints.clear();
  }

  // ---- bulk / interrupt ----------------------------------------------------------------------

  /**
   * @throws LibusbError LIBUSB_TRANSFER_TIMED_OUT / LIBUSB_TRANSFER_CANCELLED with `actualLength` and the bytes
   * received so far as `receivedData` (libusb keeps them valid; a stream protocol must not lose them),
   * LIBUSB_TRANSFER_NO_DEVICE, LIBUSB_ERROR_NOT_FOUND.
   */
  bulkIn(endpoint: number, length: number, options: UsbBulkInOptions = {}): Promise<UsbInResult> {
    const op = 'bulkIn';
    let ep: EndpointLike;
    const given = options.buffer;
    try {
      this.#checkOpen(op, endpoint);
      ep = this.#endpoint(op, endpoint, 'in');
      if (!Number.isInteger(length) || length < 0) {
        throw libusbError(op, LIBUSB_ERROR.LIBUSB_ERROR_INVALID_PARAM, { endpoint, detail: `length ${length} is not a non-negative integer` });
      }
      if (given !== undefined && given.length < length) {
        throw libusbError(op, LIBUSB_ERROR.LIBUSB_ERROR_INVALID_PARAM, {
          endpoint,
          detail: `the receive buffer holds ${given.length} bytes, less than the ${length} asked for`,
        });
      }
    } catch (e) {
      return Promise.reject(e);
    }
    // A Buffer view over the caller's receive buffer (no copy; node-usb requires a Buffer of the transfer's length).
    const buf = given === undefined ? Buffer.allocUnsafe(length) : Buffer.from(given.buffer, given.byteOffset, length);
    return new Promise<UsbInResult>((resolve, reject) => {
      const make = (cb: TransferCallback): TransferLike => ep.makeTransfer(this.#timeout(options), cb);
      this.#submit(op, endpoint, make, buf, options.signal, reject, (error, actual) => {
        const outcome = this.#outcome(op, endpoint, error, actual, actual > 0 ? view(buf, 0, actual) : undefined);
        if (outcome === 'stall') resolve({ status: 'stall', data: EMPTY });
        else if (typeof outcome === 'string') resolve({ status: outcome, data: view(buf, 0, actual) });
        else reject(outcome);
      });
    });
  }

  /**
   * Bulk OUT; with `zeroLengthPacket`, a zero-length transfer is queued right behind a payload that is a
   * non-zero multiple of wMaxPacketSize (what LIBUSB_TRANSFER_ADD_ZERO_PACKET does; node-usb exposes no
   * transfer flags). When the payload does not end `ok` (stall, babble, timeout, cancel, no device) the
   * queued zero-length transfer is cancelled before the result is reported, so no stray ZLP reaches the
   * device later (after a clearHalt, or ahead of the next payload).
   * @throws LibusbError as {@link bulkIn}.
   */
  bulkOut(endpoint: number, data: Uint8Array, options: UsbBulkOutOptions = {}): Promise<UsbOutResult> {
    const op = 'bulkOut';
    let ep: EndpointLike;
    try {
      this.#checkOpen(op, endpoint);
      ep = this.#endpoint(op, endpoint, 'out');
    } catch (e) {
      return Promise.reject(e);
    }
    // A Buffer view over the caller's bytes: no copy (node-usb requires a Buffer).
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const maxPacket = ep.descriptor.wMaxPacketSize & 0x7ff;
    const zlp = options.zeroLengthPacket === true && data.length > 0 && maxPacket > 0 && data.length % maxPacket === 0;
    const main = new Promise<UsbOutResult>((resolve, reject) => {
      const make = (cb: TransferCallback): TransferLike => ep.makeTransfer(this.#timeout(options), cb);
      this.#submit(op, endpoint, make, buf, options.signal, reject, (error, actual) => {
        const outcome = this.#outcome(op, endpoint, error, actual);
        if (typeof outcome === 'string') resolve({ status: outcome, bytesWritten: actual });
        else reject(outcome);
      });
    });
    if (!zlp) return main;
    // The trailer is cancelled by the caller's signal or when the payload does not end ok.
    const trailerAbort = new AbortController();
    const forward = (): void => trailerAbort.abort(options.signal?.reason);
    if (options.signal?.aborted) forward();
    else options.signal?.addEventListener('abort', forward, { once: true });
    const trailer = new Promise<UsbOutResult>((resolve, reject) => {
      const make = (cb: TransferCallback): TransferLike => ep.makeTransfer(this.#timeout(options), cb);
      this.#submit(op, endpoint, make, Buffer.alloc(0), trailerAbort.signal, reject, (error, actual) => {
        const outcome = this.#outcome(op, endpoint, error, actual);
        if (typeof outcome === 'string') resolve({ status: outcome, bytesWritten: 0 });
        else reject(outcome);
      });
    });
    // Both are queued on the endpoint now; the result is the payload's, then the ZLP's status if the payload went through.
    trailer.catch(() => undefined);
    const settled = trailer.then(
      () => undefined,
      () => undefined,
    );
    const cancelTrailer = async (): Promise<void> => {
      trailerAbort.abort();
      await settled;
    };
    return main
      .then(
        async (r) => {
          if (r.status !== 'ok') {
            await cancelTrailer();
            return r;
          }
          const z = await trailer;
          return z.status === 'ok' ? r : { status: z.status, bytesWritten: r.bytesWritten };
        },
        async (err: unknown) => {
          await cancelTrailer();
          throw err;
        },
      )
      .finally(() => options.signal?.removeEventListener('abort', forward));
  }

  /** libusb_clear_halt: CLEAR_FEATURE(ENDPOINT_HALT) and host toggle reset. */
  async clearHalt(endpoint: number, options: UsbTransferOptions = {}): Promise<void> {
    const op = 'clearHalt';
    this.#checkOpen(op, endpoint);
    const ep = this.#endpoints.get(endpoint);
    await this.#callback(op, options, (cb) => (ep !== undefined ? ep.clearHalt(cb) : this.#device.__clearHalt(endpoint, cb)), endpoint);
  }

  /** libusb_reset_device; claims are lost when the device re-enumerates differently (LIBUSB_ERROR_NOT_FOUND). */
  async reset(options: UsbTransferOptions = {}): Promise<void> {
    const op = 'reset';
    this.#checkOpen(op);
    await this.#callback(op, options, (cb) => this.#device.reset(cb));
  }

  /** Cancels in-flight transfers, releases claimed interfaces (reattaching kernel drivers) and closes. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#doClose();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- internals -----------------------------------------------------------------------------

  async #doClose(): Promise<void> {
    this.#closed = true;
    const errors: unknown[] = [];
    for (const t of this.#inFlight) {
      try {
        t.cancel();
      } catch (e) {
        errors.push(e);
      }
    }
    if (this.#inFlight.size > 0) {
      // libusb requires cancelled transfers to complete before the handle closes.
      const drained = new Promise<void>((resolve) => (this.#drained = resolve));
      await withTimeout(this.#clock, drained, `cancelling ${this.#inFlight.size} in-flight transfers on close`, 2000).catch((e: unknown) => errors.push(e));
    }
    for (const iface of [...this.#claimed.values()]) {
      await this.#release(iface).catch((e: unknown) => errors.push(e));
    }
    // The libusb handle is shared by every handle of this device: only the last one closes it.
    this.#shared.opens--;
    if (this.#shared.opens === 0) {
      try {
        this.#device.close();
      } catch (e) {
        errors.push(libusbErrorFrom('close', e));
      }
    }
    this.#onClose?.();
    if (errors.length > 0) {
      // Everything was attempted; report the first failure, chaining the rest.
      throw errors.length === 1 ? errors[0] : new AggregateError(errors, `closing ${this.info.id} failed ${errors.length} times`);
    }
  }

  async #release(iface: InterfaceLike): Promise<void> {
    const n = iface.interfaceNumber;
    for (const ep of iface.endpoints) this.#endpoints.delete(ep.address);
    this.#claimed.delete(n);
    if (this.#shared.claims.get(n) === this) this.#shared.claims.delete(n);
    await this.#callback('releaseInterface', {}, (cb) => iface.release(cb));
    if (this.#detached.delete(n)) {
      try {
        iface.attachKernelDriver();
      } catch (e) {
        // No driver to give the interface back to (e.g. a vendor-class interface): nothing to restore.
        if (!(hasLibusbErrno(e) && e.errno === LIBUSB_ERROR.LIBUSB_ERROR_NOT_FOUND)) throw libusbErrorFrom('attachKernelDriver', e);
      }
    }
  }

  /**
   * USBDEVFS_GETDRIVER. When the query itself fails for another reason than a lost device (some
   * usbfs emulations, e.g. umockdev's pcap replay, answer ENOTTY → LIBUSB_ERROR_OTHER), the claim is
   * tried anyway: it reports LIBUSB_ERROR_BUSY if a driver really holds the interface.
   */
  #kernelDriverActive(iface: InterfaceLike): boolean {
    try {
      return iface.isKernelDriverActive();
    } catch (e) {
      if (hasLibusbErrno(e) && e.errno === LIBUSB_ERROR.LIBUSB_ERROR_NO_DEVICE) throw e;
      return false;
    }
  }

  #indexEndpoints(iface: InterfaceLike): void {
    for (const [addr, ep] of this.#endpoints) if (iface.endpoints.includes(ep)) this.#endpoints.delete(addr);
    for (const ep of iface.endpoints) this.#endpoints.set(ep.address, ep);
  }

  #findInterface(op: string, interfaceNumber: number): InterfaceLike {
    const found = this.#device.interfaces?.find((i) => i.interfaceNumber === interfaceNumber);
    if (found === undefined) {
      const have = this.#device.interfaces?.map((i) => i.interfaceNumber).join(', ') ?? 'none';
      throw libusbError(op, LIBUSB_ERROR.LIBUSB_ERROR_NOT_FOUND, {
        detail: `interface ${interfaceNumber} is not in the active configuration (interfaces: ${have})`,
      });
    }
    return found;
  }

  #endpoint(op: string, address: number, direction: 'in' | 'out'): EndpointLike {
    const ep = this.#endpoints.get(address);
    if (ep === undefined) {
      throw libusbError(op, LIBUSB_ERROR.LIBUSB_ERROR_NOT_FOUND, {
        endpoint: address,
        detail: `endpoint 0x${address.toString(16).padStart(2, '0')} is not in a claimed interface: claimInterface() first`,
      });
    }
    if (((address & 0x80) !== 0) !== (direction === 'in')) {
      throw libusbError(op, LIBUSB_ERROR.LIBUSB_ERROR_INVALID_PARAM, {
        endpoint: address,
        detail: `endpoint 0x${address.toString(16).padStart(2, '0')} is not an ${direction.toUpperCase()} endpoint`,
      });
    }
    return ep;
  }

  #checkOpen(op: string, endpoint?: number): void {
    if (this.#closed) {
      throw libusbError(op, LIBUSB_ERROR.LIBUSB_ERROR_NO_DEVICE, { endpoint, detail: `the handle to ${this.info.id} is closed: open the device again` });
    }
  }

  #timeout(options: UsbTransferOptions): number {
    return options.timeoutMs ?? this.#defaultTimeoutMs;
  }

  /**
   * Submits `transfer` and routes its completion to `done`; abort → libusb_cancel_transfer (the
   * completion then reports LIBUSB_TRANSFER_CANCELLED). A submit failure (e.g. LIBUSB_ERROR_NO_DEVICE)
   * rejects directly.
   */
  #submit(
    op: string,
    endpoint: number,
    make: (callback: TransferCallback) => TransferLike,
    buffer: Buffer,
    signal: AbortSignal | undefined,
    reject: (e: LibusbError) => void,
    done: Done,
  ): void {
    if (signal?.aborted) {
      reject(libusbError(op, LIBUSB_TRANSFER.LIBUSB_TRANSFER_CANCELLED, { endpoint, actualLength: 0, detail: 'aborted before submission', cause: signal.reason }));
      return;
    }
    let transfer: TransferLike | undefined;
    const onAbort = (): void => {
      try {
        transfer?.cancel();
      } catch {
        // Not pending any more: the completion is already on its way and reports the real outcome.
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // node-usb takes the completion callback at construction; submit(buffer) only queues.
      const t = make((error, _buf, actual) => {
        signal?.removeEventListener('abort', onAbort);
        this.#inFlight.delete(t);
        if (this.#inFlight.size === 0) this.#drained?.();
        done(error, actual);
      });
      transfer = t;
      this.#inFlight.add(t);
      t.submit(buffer);
    } catch (e) {
      signal?.removeEventListener('abort', onAbort);
      if (transfer !== undefined) this.#inFlight.delete(transfer);
      reject(libusbErrorFrom(op, e, { endpoint, actualLength: 0 }));
    }
  }

  /** Maps a completion to a status, or to the LibusbError to reject with. */
  #outcome(op: string, endpoint: number, error: Error | undefined, actual: number, receivedData?: Uint8Array): 'ok' | 'stall' | 'babble' | LibusbError {
    if (error === undefined) return 'ok';
    if (hasLibusbErrno(error)) {
      const status = transferStatusOf(error.errno);
      if (status !== undefined) return status;
    }
    return libusbErrorFrom(op, error, { endpoint, actualLength: actual, receivedData });
  }

  /** Runs a node-usb callback-style call, bounded by the timeout on the host clock. */
  async #callback(op: string, options: UsbTransferOptions, start: (cb: (error?: Error) => void) => void, endpoint?: number): Promise<void> {
    const timeoutMs = this.#timeout(options);
    const call = new Promise<void>((resolve, reject) => {
      try {
        start((error) => (error ? reject(libusbErrorFrom(op, error, { endpoint })) : resolve()));
      } catch (e) {
        reject(libusbErrorFrom(op, e, { endpoint }));
      }
    });
    if (timeoutMs === 0 && options.signal === undefined) return call;
    // libusb runs these synchronously on its worker with internal timeouts; this bound is a backstop.
    return withTimeout(this.#clock, call, `${op}(${this.info.id})`, timeoutMs === 0 ? 2 ** 31 - 1 : timeoutMs + 1000, { signal: options.signal });
  }
}
