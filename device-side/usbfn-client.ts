/**
 * `UsbFnClient`: the typed IOCTL client of GenericUSBFn.sys over a {@link UsbFnFile} (docs/architecture.md#seams).
 *
 * It encodes each request's buffers exactly as genericusbfnioctl.h / usbfnbase.h lay them out, decodes the
 * results with device-side/abi, and lets the port's errors through untouched: every method rejects with
 * the port's `Win32Error` (its `win32Name` kept; context goes in through the port's `target` option, e.g.
 * `pipe 1`), never a re-wrapped copy (docs/architecture.md#error-model).
 *
 * @see https://learn.microsoft.com/windows/win32/api/genericusbfnioctl/ (D-UM)
 * @see https://learn.microsoft.com/windows-hardware/drivers/usbcon/user-mode-services-ufx (D-OV)
 */
import { UsageError, Win32Error, type UsbSpeed } from '../core/index.js';
import {
  AbiDecodeError,
  IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS,
  IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
  IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN,
  IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT,
  IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS,
  IOCTL_GENERICUSBFN_GET_CLASS_INFO,
  IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX,
  IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET,
  IOCTL_GENERICUSBFN_GET_PIPE_STATE,
  IOCTL_GENERICUSBFN_REGISTER_USB_STRING,
  IOCTL_GENERICUSBFN_SET_PIPE_STATE,
  IOCTL_GENERICUSBFN_TRANSFER_IN,
  IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT,
  IOCTL_GENERICUSBFN_TRANSFER_OUT,
  USBFN_CLASS_INFORMATION_PACKET_EX_SIZE,
  USBFN_CLASS_INFORMATION_PACKET_SIZE,
  USBFN_INTERFACE_INFO_HEADER_BYTES,
  USBFN_INTERFACE_INFO_SIZE,
  USBFN_NOTIFICATION_SIZE,
  WIN32_ERROR,
  busSpeedValue,
  decodeUsbfnClassInformationPacket,
  decodeUsbfnClassInformationPacketEx,
  decodeUsbfnInterfaceInfo,
  decodeUsbfnNotification,
  encodeUsbfnInterfaceInfo,
  encodeUsbfnUsbString,
  readUsbfnInterfaceInfoSize,
  type UsbfnClassInformationPacket,
  type UsbfnClassInformationPacketEx,
  type UsbfnNotification,
} from './abi/index.js';
import type { IoctlOptions, UsbFnFile } from './usbfn-port.js';
import { DEFAULT_DRIVER_SETTINGS, type BusEventBytesSetting, type ZeroLengthInSetting } from './driver-settings.js';

/** Options of every client call. */
export interface CallOptions {
  /** Aborting cancels the request (CancelIoEx in the port); it then rejects with ERROR_OPERATION_ABORTED (995). */
  readonly signal?: AbortSignal | undefined;
}

/** Options of {@link UsbFnClient}. */
export interface UsbFnClientOptions {
  /** BUS_EVENT_NOTIFICATION requests kept outstanding by {@link UsbFnClient.busEvents}. Default 4. */
  readonly busEventDepth?: number | undefined;
  /** Attempts of the GET_INTERFACE_DESCRIPTOR_SET ERROR_INSUFFICIENT_BUFFER retry. Default 4. */
  readonly descriptorSetAttempts?: number | undefined;
  /** First output buffer size for GET_INTERFACE_DESCRIPTOR_SET, header included. Default 256. */
  readonly descriptorSetInitialBytes?: number | undefined;
  /** lpBytesReturned accepted from BUS_EVENT_NOTIFICATION (docs/win32-backend.md#driver-settings). Default 'tolerant'. */
  readonly busEventBytes?: BusEventBytesSetting | undefined;
  /** Called for each bus event whose lpBytesReturned is not 12 but was accepted ('tolerant'). */
  readonly onBusEventBytes?: ((bytesReturned: number) => void) | undefined;
  /** How a 0-byte TRANSFER_IN is issued (docs/win32-backend.md#driver-settings). Default 'null-buffer'. */
  readonly zeroLengthIn?: ZeroLengthInSetting | undefined;
}

/** Options of {@link UsbFnClient.busEvents}. */
export interface BusEventsOptions extends CallOptions {
  /** Requests kept outstanding; default the client's `busEventDepth`. */
  readonly depth?: number | undefined;
}

/** The result of {@link UsbFnClient.getInterfaceDescriptorSet}. */
export interface InterfaceDescriptorSet {
  readonly interfaceNumber: number;
  /** USBFN_BUS_SPEED value. */
  readonly speed: number;
  /** Interface descriptor + class-specific + endpoint descriptors (walk with `splitDescriptors`). */
  readonly descriptorSet: Uint8Array;
}

/** A bus event as {@link UsbFnClient.busEvents} yields it (docs/architecture.md#seams calls it `BusEvent`). */
export type BusEvent = UsbfnNotification;

/** USBFNPIPEID of EP0: the docs' "pipe 0" for control replies (inferred: docs/reference/documented-vs-inferred.md#drv-pipe-ids). */
export const EP0_PIPE_ID = 0;

const DEFAULT_BUS_EVENT_DEPTH = 4;
const NO_BYTES = new Uint8Array(0);
/** A USBFN_NOTIFICATION shorter than its Event field cannot be decoded at all. */
const MIN_BUS_EVENT_BYTES = 4;
const DEFAULT_DESCRIPTOR_SET_ATTEMPTS = 4;
const DEFAULT_DESCRIPTOR_SET_BYTES = 256;

/**
 * Typed IOCTLs of GenericUSBFn.sys on one open handle.
 *
 * @note Call order (D-OV, D-UM): GET_CLASS_INFO → ACTIVATE_USB_BUS → keep bus events outstanding →
 * transfers only after UsbfnEventConfigured. GET_INTERFACE_DESCRIPTOR_SET and REGISTER_USB_STRING must
 * follow ACTIVATE_USB_BUS.
 * @example
 * const client = new UsbFnClient(await port.open(link));
 * const info = await client.getClassInfo();
 * await client.activateBus();
 * for await (const ev of client.busEvents({ signal })) { ... }
 */
export class UsbFnClient {
  readonly file: UsbFnFile;
  readonly #busEventDepth: number;
  readonly #descriptorSetAttempts: number;
  readonly #descriptorSetInitialBytes: number;
  readonly #busEventBytes: BusEventBytesSetting;
  readonly #onBusEventBytes: ((bytesReturned: number) => void) | undefined;
  readonly #zeroLengthIn: ZeroLengthInSetting;
  /**
   * USBFNPIPEID of EP0 for handshakes (and for the service's data stages and stalls): the docs' "pipe 0"
   * unless GET_CLASS_INFO's PipeArr names another (the service sets it; docs/reference/documented-vs-inferred.md#drv-pipe-ids).
   */
  ep0PipeId = EP0_PIPE_ID;
  /**
   * One 4-byte USBFNPIPEID input buffer per pipe, reused by every request on that pipe. Safe even with
   * several requests outstanding: for METHOD_BUFFERED and METHOD_*_DIRECT the I/O manager copies the
   * input buffer into the IRP's system buffer at call time, so the driver never reads ours later.
   */
  readonly #pipeInputs = new Map<number, PipeSlot>();

  constructor(file: UsbFnFile, options: UsbFnClientOptions = {}) {
    this.file = file;
    this.#busEventDepth = positiveInt('busEventDepth', options.busEventDepth ?? DEFAULT_BUS_EVENT_DEPTH);
    this.#descriptorSetAttempts = positiveInt('descriptorSetAttempts', options.descriptorSetAttempts ?? DEFAULT_DESCRIPTOR_SET_ATTEMPTS);
    this.#descriptorSetInitialBytes = Math.max(
      USBFN_INTERFACE_INFO_SIZE,
      positiveInt('descriptorSetInitialBytes', options.descriptorSetInitialBytes ?? DEFAULT_DESCRIPTOR_SET_BYTES),
    );
    this.#busEventBytes = options.busEventBytes ?? DEFAULT_DRIVER_SETTINGS.busEventBytes;
    this.#onBusEventBytes = options.onBusEventBytes;
    this.#zeroLengthIn = options.zeroLengthIn ?? DEFAULT_DRIVER_SETTINGS.zeroLengthIn;
  }

  // ------------------------------------------------------------------------------------------------
  // Setup (immediate IOCTLs)

  /**
   * IOCTL_GENERICUSBFN_GET_CLASS_INFO: the function's pipes per speed, interface name and GUID.
   * @throws Win32Error from the port; AbiDecodeError if the driver returns other than 748 bytes.
   * @see https://learn.microsoft.com/windows/win32/api/genericusbfnioctl/ni-genericusbfnioctl-ioctl_genericusbfn_get_class_info
   */
  async getClassInfo(opts: CallOptions = {}): Promise<UsbfnClassInformationPacket> {
    const out = new Uint8Array(USBFN_CLASS_INFORMATION_PACKET_SIZE);
    const n = await this.file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, out, ioctlOptions(opts.signal, undefined));
    // ASSUMPTION(drv-bytes-returned): lpBytesReturned is sizeof (748); anything else is decoded as what it is and fails loudly.
    return decodeUsbfnClassInformationPacket(out.subarray(0, n));
  }

  /**
   * IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX: as {@link getClassInfo}, with base interface number and count.
   * @throws Win32Error from the port; AbiDecodeError if the driver returns other than 748 bytes.
   */
  async getClassInfoEx(opts: CallOptions = {}): Promise<UsbfnClassInformationPacketEx> {
    const out = new Uint8Array(USBFN_CLASS_INFORMATION_PACKET_EX_SIZE);
    const n = await this.file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX, null, out, ioctlOptions(opts.signal, undefined));
    return decodeUsbfnClassInformationPacketEx(out.subarray(0, n));
  }

  /**
   * IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS: this class driver is ready; the device connects to the host once
   * every class driver has activated (D-OV).
   * @throws Win32Error from the port.
   */
  async activateBus(opts: CallOptions = {}): Promise<void> {
    await this.file.ioctl(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, null, null, ioctlOptions(opts.signal, undefined));
  }

  /**
   * IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS.
   * @note Microsoft documents this IOCTL as **not supported** (D-UM). The call is kept for completeness and
   * for contract tests; nothing may depend on it (docs/reference/ioctls.md#deactivate-usb-bus).
   * @throws Win32Error from the port.
   */
  async deactivateBus(opts: CallOptions = {}): Promise<void> {
    await this.file.ioctl(IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS, null, null, ioctlOptions(opts.signal, undefined));
  }

  /**
   * IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET for one interface and speed. Starts with a 256-byte
   * buffer and, on ERROR_INSUFFICIENT_BUFFER, retries with the Size the driver wrote (bounded attempts).
   *
   * @note Size ambiguity (docs/reference/structs.md#usbfn-interface-info). ASSUMPTION(abi-descriptor-set-size): Size counts the 10-byte header. If the driver
   * reports a Size no larger than the buffer just given (it counted only the descriptors), the next
   * attempt adds the header bytes.
   * @throws Win32Error from the port (the last ERROR_INSUFFICIENT_BUFFER when attempts run out);
   * AbiDecodeError if the driver reports an unusable Size.
   */
  async getInterfaceDescriptorSet(
    interfaceNumber: number,
    speed: number | UsbSpeed,
    opts: CallOptions = {},
  ): Promise<InterfaceDescriptorSet> {
    const speedValue = typeof speed === 'number' ? speed : busSpeedValue(speed);
    const io = ioctlOptions(opts.signal, `interface ${interfaceNumber}`);
    let outBytes = this.#descriptorSetInitialBytes;
    let lastError: Win32Error | undefined;
    for (let attempt = 0; attempt < this.#descriptorSetAttempts; attempt++) {
      // Size in the request = the output buffer's length, header included (ASSUMPTION above).
      const input = encodeUsbfnInterfaceInfo({ interfaceNumber, speed: speedValue, size: outBytes });
      const out = new Uint8Array(outBytes);
      try {
        const n = await this.file.ioctl(IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET, input.subarray(0, USBFN_INTERFACE_INFO_SIZE), out, io);
        const info = decodeUsbfnInterfaceInfo(out.subarray(0, n));
        return { interfaceNumber: info.interfaceNumber, speed: info.speed, descriptorSet: info.descriptorSet };
      } catch (err) {
        if (!(err instanceof Win32Error) || err.win32 !== WIN32_ERROR.ERROR_INSUFFICIENT_BUFFER) throw err;
        lastError = err;
        // METHOD_OUT_DIRECT: the driver's write into Size is visible although the request failed (docs/reference/ioctls.md#methods).
        const size = readUsbfnInterfaceInfoSize(out);
        if (size > outBytes) outBytes = size;
        else if (size + USBFN_INTERFACE_INFO_HEADER_BYTES > outBytes) outBytes = size + USBFN_INTERFACE_INFO_HEADER_BYTES;
        else {
          throw new AbiDecodeError(
            {
              struct: 'USBFN_INTERFACE_INFO',
              field: 'Size',
              detail: `the driver failed with ERROR_INSUFFICIENT_BUFFER but reported Size ${size}, which fits the ${outBytes}-byte buffer given; cannot size a retry`,
            },
            { cause: err },
          );
        }
      }
    }
    throw lastError ?? new UsageError('INVALID_ARGUMENT', 'descriptorSetAttempts must be at least 1');
  }

  /**
   * IOCTL_GENERICUSBFN_REGISTER_USB_STRING: registers string descriptor `stringIndex` with `text` (≤ 255 WCHARs).
   * @throws UsageError ABI_ENCODE for a too-long string; Win32Error from the port.
   */
  async registerUsbString(stringIndex: number, text: string, opts: CallOptions = {}): Promise<void> {
    const input = encodeUsbfnUsbString({ stringIndex, usbString: text });
    await this.file.ioctl(IOCTL_GENERICUSBFN_REGISTER_USB_STRING, input, null, ioctlOptions(opts.signal, `string ${stringIndex}`));
  }

  // ------------------------------------------------------------------------------------------------
  // Bus events

  /**
   * Bus events as an async iterable, keeping `depth` IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION requests
   * outstanding (Microsoft recommends several, D-UFX) and re-arming each as it completes. Events are
   * yielded in completion order.
   *
   * The iteration ends cleanly when `signal` aborts or the handle is closed (requests then fail with
   * ERROR_OPERATION_ABORTED / ERROR_INVALID_HANDLE); events that completed before a close are still
   * yielded. Any other failure is thrown by the iterator. Breaking out of the loop cancels the outstanding
   * requests.
   * @throws Win32Error from the port (through the iterator).
   */
  busEvents(opts: BusEventsOptions = {}): AsyncIterable<UsbfnNotification> {
    const depth = positiveInt('depth', opts.depth ?? this.#busEventDepth);
    const bytes = { mode: this.#busEventBytes, onAccepted: this.#onBusEventBytes };
    return { [Symbol.asyncIterator]: () => new BusEventIterator(this.file, depth, opts.signal, bytes) };
  }

  // ------------------------------------------------------------------------------------------------
  // Transfers

  /**
   * IOCTL_GENERICUSBFN_TRANSFER_IN: sends `data` to the host on `pipeId`; resolves with the bytes sent.
   * Pends until the host has taken the data. Several may be outstanding per pipe. An empty `data` (a
   * zero-length packet) goes out as the `zeroLengthIn` setting says.
   * @throws Win32Error from the port, e.g. ERROR_OPERATION_ABORTED after abort/reset/detach,
   * ERROR_BAD_COMMAND before Configured (inferred), ERROR_INVALID_PARAMETER for a wrong pipe.
   */
  transferIn(pipeId: number, data: Uint8Array, opts?: CallOptions): Promise<number> {
    const slot = this.#pipe(pipeId);
    if (slot instanceof UsageError) return Promise.reject(slot);
    if (data.byteLength === 0) return this.#zeroLengthPacket(IOCTL_GENERICUSBFN_TRANSFER_IN, slot, opts?.signal);
    return this.file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, slot.input, data, ioctlOptions(opts?.signal, slot.target));
  }

  /**
   * IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT: as {@link transferIn}, then a zero-length packet if the
   * length is a multiple of wMaxPacketSize (D-UM). Use for the last request of a USB transfer.
   * @throws Win32Error from the port.
   */
  transferInAppendZeroPacket(pipeId: number, data: Uint8Array, opts?: CallOptions): Promise<number> {
    const slot = this.#pipe(pipeId);
    if (slot instanceof UsageError) return Promise.reject(slot);
    if (data.byteLength === 0) return this.#zeroLengthPacket(IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT, slot, opts?.signal);
    return this.file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT, slot.input, data, ioctlOptions(opts?.signal, slot.target));
  }

  /**
   * IOCTL_GENERICUSBFN_TRANSFER_OUT: receives host data on `pipeId` into `buffer`; resolves with the bytes
   * received (a short packet ends the transfer early).
   * @throws Win32Error from the port.
   */
  transferOut(pipeId: number, buffer: Uint8Array, opts?: CallOptions): Promise<number> {
    const slot = this.#pipe(pipeId);
    if (slot instanceof UsageError) return Promise.reject(slot);
    return this.file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, slot.input, buffer, ioctlOptions(opts?.signal, slot.target));
  }

  /**
   * IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN on EP0 ({@link ep0PipeId}): the device sends the status-stage ZLP
   * (after a host→device data stage, or no data stage per USB 2.0 §8.5.3).
   * @throws Win32Error from the port.
   */
  async handshakeIn(opts?: CallOptions): Promise<void> {
    const slot = this.#pipe(this.ep0PipeId) as PipeSlot;
    await this.file.ioctl(IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN, slot.input, null, ioctlOptions(opts?.signal, slot.target));
  }

  /**
   * IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT on EP0 ({@link ep0PipeId}): the host sends the status-stage ZLP (after a
   * device→host data stage).
   * @throws Win32Error from the port.
   */
  async handshakeOut(opts?: CallOptions): Promise<void> {
    const slot = this.#pipe(this.ep0PipeId) as PipeSlot;
    await this.file.ioctl(IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT, slot.input, null, ioctlOptions(opts?.signal, slot.target));
  }

  /**
   * IOCTL_GENERICUSBFN_GET_PIPE_STATE: whether `pipeId` is stalled.
   * @throws Win32Error from the port.
   */
  async getPipeState(pipeId: number, opts?: CallOptions): Promise<boolean> {
    const slot = this.#pipe(pipeId);
    if (slot instanceof UsageError) throw slot;
    const out = new Uint8Array(1); // BOOLEAN
    await this.file.ioctl(IOCTL_GENERICUSBFN_GET_PIPE_STATE, slot.input, out, ioctlOptions(opts?.signal, slot.target));
    return out[0] !== 0;
  }

  /**
   * IOCTL_GENERICUSBFN_SET_PIPE_STATE: stalls (`true`) or un-stalls `pipeId`. On pipe 0 the stall applies to
   * the current setup only (Microsoft's "Writing a function controller client driver"). The new state travels in the output buffer (METHOD_IN_DIRECT, docs/reference/ioctls.md#set-pipe-state).
   * @throws Win32Error from the port.
   */
  async setPipeState(pipeId: number, stalled: boolean, opts?: CallOptions): Promise<void> {
    const slot = this.#pipe(pipeId);
    if (slot instanceof UsageError) throw slot;
    const state = new Uint8Array([stalled ? 1 : 0]); // BOOLEAN
    await this.file.ioctl(IOCTL_GENERICUSBFN_SET_PIPE_STATE, slot.input, state, ioctlOptions(opts?.signal, slot.target));
  }

  /** A 0-byte TRANSFER_IN (`code`) issued the way the `zeroLengthIn` setting says. */
  #zeroLengthPacket(code: number, slot: PipeSlot, signal: AbortSignal | undefined): Promise<number> {
    const options = ioctlOptions(signal, slot.target);
    switch (this.#zeroLengthIn) {
      case 'null-buffer':
        return this.file.ioctl(code, slot.input, null, options);
      case 'empty-buffer':
        return this.file.ioctl(code, slot.input, NO_BYTES, options);
      case 'append-zero-packet':
        return this.file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT, slot.input, null, options);
    }
  }

  #pipe(pipeId: number): PipeSlot | UsageError {
    const cached = this.#pipeInputs.get(pipeId);
    if (cached !== undefined) return cached;
    if (!Number.isInteger(pipeId) || pipeId < 0 || pipeId > 0xffffffff) {
      return new UsageError('INVALID_ARGUMENT', `pipe id ${String(pipeId)} is not a USBFNPIPEID (ULONG); use a PipeId from GET_CLASS_INFO`, {
        pipeId: String(pipeId),
      });
    }
    const input = new Uint8Array(4);
    new DataView(input.buffer).setUint32(0, pipeId, true); // USBFNPIPEID, ULONG LE
    const target = `pipe ${pipeId}`;
    const slot: PipeSlot = { input, target };
    this.#pipeInputs.set(pipeId, slot);
    return slot;
  }
}

interface PipeSlot {
  /** The USBFNPIPEID input buffer of the pipe. */
  readonly input: Uint8Array;
  /** `pipe N`, for error messages. */
  readonly target: string;
}

function ioctlOptions(signal: AbortSignal | undefined, target: string | undefined): IoctlOptions {
  return { signal, target };
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) {
    throw new UsageError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${String(v)}`, { [name]: String(v) });
  }
  return v;
}

type Queued = { readonly kind: 'event'; readonly event: UsbfnNotification } | { readonly kind: 'error'; readonly error: unknown };

/** How {@link BusEventIterator} treats lpBytesReturned. */
interface BusEventBytesPolicy {
  readonly mode: BusEventBytesSetting;
  readonly onAccepted: ((bytesReturned: number) => void) | undefined;
}

/**
 * The iterator behind {@link UsbFnClient.busEvents}: `depth` slots, each with its own 12-byte buffer,
 * re-armed as soon as its request completes; results queue in completion order.
 */
class BusEventIterator implements AsyncIterator<UsbfnNotification> {
  readonly #file: UsbFnFile;
  readonly #inner = new AbortController();
  readonly #outer: AbortSignal | undefined;
  readonly #queue: Queued[] = [];
  #ended = false;
  #waiter: ((r: IteratorResult<UsbfnNotification>) => void) | undefined;
  #waiterReject: ((e: unknown) => void) | undefined;
  readonly #onOuterAbort = (): void => this.#finish(true);
  readonly #bytes: BusEventBytesPolicy;

  constructor(file: UsbFnFile, depth: number, signal: AbortSignal | undefined, bytes: BusEventBytesPolicy) {
    this.#file = file;
    this.#bytes = bytes;
    this.#outer = signal;
    if (signal?.aborted) {
      this.#ended = true;
      return;
    }
    signal?.addEventListener('abort', this.#onOuterAbort, { once: true });
    for (let i = 0; i < depth; i++) this.#arm(new Uint8Array(USBFN_NOTIFICATION_SIZE));
  }

  #arm(buffer: Uint8Array): void {
    if (this.#ended) return;
    let request: Promise<number>;
    // Zeroed before each request: with a short lpBytesReturned the bytes past it are zero, not the last event's.
    buffer.fill(0);
    try {
      request = this.#file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, buffer, { signal: this.#inner.signal });
    } catch (err) {
      // A port must reject rather than throw; if one throws, surface it through the iterator anyway.
      this.#push({ kind: 'error', error: err });
      return;
    }
    request.then(
        (n) => {
          if (this.#ended) return;
          let item: Queued;
          try {
            item = { kind: 'event', event: this.#decode(buffer, n) };
          } catch (err) {
            item = { kind: 'error', error: err };
          }
          this.#push(item);
          // The decoded event holds no view of `buffer`, so the slot can be re-armed with it.
          if (item.kind === 'event') this.#arm(buffer);
        },
        (err: unknown) => {
          if (this.#ended) return;
          if (this.#inner.signal.aborted) return;
          const closed =
            err instanceof Win32Error &&
            (err.win32 === WIN32_ERROR.ERROR_OPERATION_ABORTED || err.win32 === WIN32_ERROR.ERROR_INVALID_HANDLE) &&
            !this.#file.isOpen;
          if (closed) this.#finish(false);
          else this.#push({ kind: 'error', error: err });
        },
      );
  }

  /**
   * ASSUMPTION (docs/reference/documented-vs-inferred.md#drv-bytes-returned): lpBytesReturned is 12. 'strict'
   * fails on any other count; 'tolerant' decodes the (zeroed) 12-byte buffer for 4..12 and reports the count.
   * @throws AbiDecodeError
   */
  #decode(buffer: Uint8Array, n: number): UsbfnNotification {
    if (this.#bytes.mode === 'strict' || n === USBFN_NOTIFICATION_SIZE || n < MIN_BUS_EVENT_BYTES || n > USBFN_NOTIFICATION_SIZE) {
      return decodeUsbfnNotification(buffer.subarray(0, n));
    }
    const event = decodeUsbfnNotification(buffer);
    this.#bytes.onAccepted?.(n);
    return event;
  }

  #push(item: Queued): void {
    if (item.kind === 'error') {
      // Stop: no more re-arming; cancel the requests still outstanding.
      this.#stopIo();
    }
    const w = this.#waiter;
    if (w !== undefined) {
      const rej = this.#waiterReject;
      this.#waiter = undefined;
      this.#waiterReject = undefined;
      if (item.kind === 'event') w({ value: item.event, done: false });
      else {
        this.#ended = true;
        rej?.(item.error);
      }
      return;
    }
    this.#queue.push(item);
  }

  /** Ends the iteration; `dropQueued` for an abort (the consumer wants to stop now). */
  #finish(dropQueued: boolean): void {
    this.#stopIo();
    this.#ended = true;
    if (dropQueued) this.#queue.length = 0;
    const w = this.#waiter;
    this.#waiter = undefined;
    this.#waiterReject = undefined;
    w?.({ value: undefined, done: true });
  }

  #stopIo(): void {
    this.#outer?.removeEventListener('abort', this.#onOuterAbort);
    if (!this.#inner.signal.aborted) this.#inner.abort();
  }

  next(): Promise<IteratorResult<UsbfnNotification>> {
    const item = this.#queue.shift();
    if (item !== undefined) {
      if (item.kind === 'event') return Promise.resolve({ value: item.event, done: false });
      this.#ended = true;
      this.#queue.length = 0;
      return Promise.reject(item.error);
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#waiterReject = reject;
    });
  }

  return(): Promise<IteratorResult<UsbfnNotification>> {
    this.#finish(true);
    return Promise.resolve({ value: undefined, done: true });
  }
}
