/**
 * A model of GenericUSBFn.sys for one USB function: the UFX class driver that exposes the function's
 * pipes to a user-mode service through fourteen IOCTLs (genericusbfnioctl.h).
 *
 * Below it is a {@link UfxClassDriverLink} (the simulated UFX / bus): bus events come up, endpoint
 * requests go down. Above it is {@link SimUsbFnPort}, which turns each file object into a `UsbFnFile` and
 * each {@link IoRequest} into an overlapped DeviceIoControl.
 *
 * Every documented behaviour follows docs/reference/documented-vs-inferred.md#driver-documented (source
 * names inline); every inferred one is marked `ASSUMPTION(<id>)` with its row's id there.
 *
 * @see docs/reference/ioctls.md (IOCTLs), docs/reference/structs.md (structs)
 * @see https://learn.microsoft.com/windows-hardware/drivers/usbcon/user-mode-services-ufx
 */
import { type Clock, SimulatorError } from '../../core/index.js';
import {
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
  FILE_READ_DATA,
  FILE_WRITE_DATA,
  ioctlInfo,
  ioctlName,
  NTSTATUS,
} from '../../device-side/index.js';
import { UfxAbort, type UfxBusEvent, type UfxClassDriverLink, type UfxRequest } from '../link/index.js';
import { DriverFaults, injectedFailure, resolveIoctl, type FailNextOptions } from './driver-faults.js';
import { DriverLog } from './driver-log.js';
import {
  USBFN_CLASS_INFORMATION_PACKET_SIZE,
  USBFN_NOTIFICATION_SIZE,
  busSpeedFromValue,
  readUsbString,
  writeClassInformation,
  writeInterfaceInfo,
  writeNotification,
} from './driver-structs.js';
import { DEFAULT_EVENT_QUEUE_DEPTH } from './event-queue.js';
import { checkInput, checkOutput } from './ioctl-buffer-checks.js';
import { ufxAbortCompletion } from './ufx-abort-status.js';
import { IoRequest, type IoCompletion } from './io-request.js';
import { FunctionPipes, type DescriptorSetProvider } from './pipes.js';
import { grantedAccess, UsbFnFileObject, type CreateResult } from './usbfn-file-object.js';

const S = NTSTATUS;
const EMPTY = new Uint8Array(0);

/** Options of {@link GenericUsbFnModel}. */
export interface GenericUsbFnModelOptions {
  /** The simulation clock (log times, delayPipe). */
  readonly clock: Clock;
  /** The `USBFN\Interfaces` name this instance serves; default: the first of the current configuration. */
  readonly interfaceName?: string | undefined;
  /** Per-speed descriptor sets (the bus model's `interfaceDescriptorSet`); default `interfaceDescriptorSet` (simulator/config/descriptors.ts). */
  readonly descriptorSet?: DescriptorSetProvider | undefined;
  /** Per-handle bus-event queue depth. ASSUMPTION(drv-event-queue): the depth is unpublished; 32. */
  readonly eventQueueDepth?: number | undefined;
  /**
   * The device is exclusive (WdfDeviceInitSetExclusive): one open handle at a time, a second CreateFileW fails
   * with STATUS_ACCESS_DENIED (ERROR_ACCESS_DENIED, 5). `false`: several handles, each with its own event queue
   * (the I/O manager checks no share access on a device open). ASSUMPTION(drv-exclusive-open): default true.
   */
  readonly exclusive?: boolean | undefined;
  /**
   * Whether GET_CLASS_INFO's PipeArr lists EP0 (PipeId 0) before the interface endpoints.
   * ASSUMPTION(drv-pipe-ids): default false; PipeIds of interface endpoints are 1..n either way.
   */
  readonly pipeArrIncludesEp0?: boolean | undefined;
  /**
   * Whether USBFN_INTERFACE_INFO.Size counts the 10-byte header. ASSUMPTION(drv-descriptor-set-size):
   * default false (Size = descriptor bytes only), the reading that makes a naive "allocate Size" client
   * fail and so exercises the client's retry path; true selects the other reading.
   */
  readonly interfaceInfoSizeIncludesHeader?: boolean | undefined;
  /** Entries kept in {@link GenericUsbFnModel.log} (0 disables it). */
  readonly logCapacity?: number | undefined;
  /** Called when REGISTER_USB_STRING registers a string (the bus serves it to GET_DESCRIPTOR(STRING)). */
  readonly onUsbString?: ((index: number, text: string) => void) | undefined;
}

/**
 * GenericUSBFn.sys for one function, over one {@link UfxClassDriverLink}.
 *
 * @example
 * const model = new GenericUsbFnModel(link, { clock });
 * const port = new SimUsbFnPort({ clock, cm, driverFor: () => model });
 */
export class GenericUsbFnModel {
  readonly link: UfxClassDriverLink;
  readonly clock: Clock;
  readonly pipes: FunctionPipes;
  /** Every IOCTL, bus event and open/close (bounded). */
  readonly log: DriverLog;
  /** Fault overrides (failNext, delayPipe); reset after each test. */
  readonly faults = new DriverFaults();
  readonly #options: GenericUsbFnModelOptions;
  readonly #files = new Set<UsbFnFileObject>();
  readonly #strings = new Map<number, string>();
  #nextHandle = 1;
  #activated = false;

  constructor(link: UfxClassDriverLink, options: GenericUsbFnModelOptions) {
    this.link = link;
    this.clock = options.clock;
    this.#options = options;
    this.pipes = new FunctionPipes(link.config, {
      ...(options.interfaceName === undefined ? {} : { interfaceName: options.interfaceName }),
      ...(options.descriptorSet === undefined ? {} : { descriptorSet: options.descriptorSet }),
    });
    this.log = new DriverLog(options.logCapacity);
    link.setEventListener((event) => this.#onBusEvent(event));
  }

  /** True once ACTIVATE_USB_BUS succeeded (nothing un-activates: DEACTIVATE is not supported, *IOCTL pages*). */
  get activated(): boolean {
    return this.#activated;
  }

  /** Handles currently open. */
  get openHandles(): number {
    let n = 0;
    for (const f of this.#files) if (f.state === 'open') n++;
    return n;
  }

  /** Strings registered with REGISTER_USB_STRING, by string index. */
  get usbStrings(): ReadonlyMap<number, string> {
    return this.#strings;
  }

  /** Shorthand for `faults.failNext`. */
  failNext(options: FailNextOptions): void {
    this.faults.failNext(options);
  }

  /**
   * Fault: the driver fails its oldest pending request of `ioctl` (on `pipe`) now, as a controller error in
   * the middle of a transfer would: its packets on the wire stop, and it completes with the given error.
   * @returns false when no such request is pending (or its outcome can no longer change).
   * @throws UsageError INVALID_ARGUMENT for an unknown IOCTL name.
   */
  failPending(options: Omit<FailNextOptions, 'count'>): boolean {
    const code = resolveIoctl(options.ioctl);
    const { status, win32 } = injectedFailure(options);
    for (const file of this.#files) {
      for (const req of file.pending.toArray()) {
        if (req.code !== code || (options.pipe !== undefined && req.pipe !== options.pipe)) continue;
        if (req.fail(status, win32, 'injected by failPending: the driver failed the request in flight')) return true;
      }
    }
    return false;
  }

  /** Shorthand for `faults.delayPipe`. */
  delayPipe(pipeId: number, ms: number): void {
    this.faults.delayPipe(pipeId, ms);
  }

  // -------------------------------------------------------------------------------------------
  // IRP_MJ_CREATE / IRP_MJ_CLEANUP / surprise removal

  /**
   * IRP_MJ_CREATE with `desiredAccess` (GENERIC_READ | GENERIC_WRITE from CreateFileW). The I/O manager
   * checks no share access when a device (not a file system) is opened; an exclusive device fails a second
   * open with STATUS_ACCESS_DENIED.
   * ASSUMPTION(drv-exclusive-open): GenericUSBFn's device is exclusive (option `exclusive`, default true).
   */
  create(desiredAccess: number): CreateResult {
    if ((this.#options.exclusive ?? true) && this.openHandles > 0) {
      this.log.addFile(this.clock.now(), undefined, 'open', 'ERROR_ACCESS_DENIED');
      return {
        status: S.STATUS_ACCESS_DENIED,
        detail: 'the function is already open and its device is modelled as exclusive (one handle at a time): close the other handle first',
      };
    }
    // ASSUMPTION(drv-reopen-state): a new handle starts with an empty event queue (no replay of Configured).
    const file = new UsbFnFileObject(this, this.#nextHandle++, grantedAccess(desiredAccess), this.#options.eventQueueDepth ?? DEFAULT_EVENT_QUEUE_DEPTH);
    this.#files.add(file);
    this.log.addFile(this.clock.now(), file.id, 'open', 'ERROR_SUCCESS');
    return { status: 0, file };
  }

  /**
   * CloseHandle → IRP_MJ_CLEANUP: every pending request of the file completes with STATUS_CANCELLED
   * (*WDF pages*), unless UFX had already finished it (then it completes normally).
   */
  close(file: UsbFnFileObject): void {
    if (file.state === 'closed') return;
    file.state = 'closed';
    this.#files.delete(file);
    this.#cancelAll(file);
    file.events.clear();
    this.log.addFile(this.clock.now(), file.id, 'close', 'ERROR_SUCCESS');
  }

  /**
   * The device was removed (PnP) while handles are open: pending I/O is cancelled and later I/O on those
   * handles fails.
   * ASSUMPTION(drv-removed-while-open): several codes are plausible; pending → STATUS_CANCELLED (995), new
   * I/O → STATUS_DEVICE_REMOVED (1617).
   * ASSUMPTION(drv-second-activate): the driver instance goes with the device; when the device is added again
   * it starts fresh (not activated, no registered strings).
   * ASSUMPTION(link-function-removal): UFX is not told: the device stays connected and configured for the
   * host, and the new instance's ACTIVATE does not reconnect it.
   */
  deviceRemoved(): void {
    this.#activated = false;
    this.#strings.clear();
    for (const file of [...this.#files]) {
      file.state = 'removed';
      this.#files.delete(file);
      this.#cancelAll(file);
      file.events.clear();
      this.log.addFile(this.clock.now(), file.id, 'removed', 'ERROR_DEVICE_REMOVED');
    }
  }

  #cancelAll(file: UsbFnFileObject): void {
    for (const req of file.pending.toArray()) req.cancel();
  }

  // -------------------------------------------------------------------------------------------
  // IRP_MJ_DEVICE_CONTROL

  /**
   * DeviceIoControl on `file`. The returned request is either completed already (immediate IOCTLs and
   * every failure) or pending; `completion` hears about it exactly once either way.
   */
  dispatch(
    file: UsbFnFileObject,
    code: number,
    input: Uint8Array | null,
    output: Uint8Array | null,
    completion: IoCompletion,
  ): IoRequest {
    const req = new IoRequest(file.id, code >>> 0, input, output, this.clock.now(), file, completion);
    if (file.state === 'closed') {
      req.complete(S.STATUS_INVALID_HANDLE, 0, 'the handle is closed');
      return req;
    }
    if (file.state === 'removed') {
      req.complete(S.STATUS_DEVICE_REMOVED, 0, 'the device was removed while this handle was open; close it and wait for the interface to arrive again');
      return req;
    }
    // ASSUMPTION(drv-access-bits): the I/O manager's check of the code's RequiredAccess bits (15:14).
    const required = (req.code >>> 14) & (FILE_READ_DATA | FILE_WRITE_DATA);
    if ((required & ~file.grantedAccess) !== 0) {
      req.complete(S.STATUS_ACCESS_DENIED, 0, 'the handle was opened without GENERIC_READ|GENERIC_WRITE, which every GenericUSBFn IOCTL requires (docs/reference/ioctls.md#opening-the-device)');
      return req;
    }
    const info = ioctlInfo(req.code);
    if (info === undefined) {
      // ASSUMPTION(drv-unknown-ioctl): unknown code → STATUS_INVALID_DEVICE_REQUEST (1).
      req.complete(S.STATUS_INVALID_DEVICE_REQUEST, 0, `0x${req.code.toString(16)} is not a genericusbfnioctl.h code`);
      return req;
    }
    // Parameter checks come before state checks (the driver validates before forwarding to UFX).
    if (!checkInput(req, info.input)) return req;
    if (!checkOutput(req, info.output, info.outputAccess)) return req;
    if (this.faults.active) {
      const failure = this.faults.take(req.code, req.pipe);
      if (failure !== undefined) {
        req.win32Override = failure.win32;
        req.complete(failure.status, 0, 'injected by failNext');
        return req;
      }
    }
    this.#handle(req, file);
    if (req.isPending) file.pending.add(req);
    return req;
  }

  #handle(req: IoRequest, file: UsbFnFileObject): void {
    switch (req.code) {
      case IOCTL_GENERICUSBFN_TRANSFER_IN:
        return this.#transfer(req, 'in', false);
      case IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT:
        return this.#transfer(req, 'in', true);
      case IOCTL_GENERICUSBFN_TRANSFER_OUT:
        return this.#transfer(req, 'out', false);
      case IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN:
        return this.#handshake(req, 'in');
      case IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT:
        return this.#handshake(req, 'out');
      case IOCTL_GENERICUSBFN_GET_CLASS_INFO:
      case IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX:
        // ASSUMPTION(drv-early-ioctls): *Service page* lists GET_CLASS_INFO before ACTIVATE_USB_BUS: no state check.
        writeClassInformation(req.output!, this.pipes, req.code === IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX, this.#options.pipeArrIncludesEp0 ?? false);
        req.complete(S.STATUS_SUCCESS, USBFN_CLASS_INFORMATION_PACKET_SIZE); // ASSUMPTION(drv-bytes-returned): 748
        return;
      case IOCTL_GENERICUSBFN_GET_PIPE_STATE:
        return this.#getPipeState(req);
      case IOCTL_GENERICUSBFN_SET_PIPE_STATE:
        return this.#setPipeState(req);
      case IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS:
        // ASSUMPTION(drv-second-activate): a second ACTIVATE is unspecified; later ACTIVATEs succeed without effect.
        if (!this.#activated) {
          this.#activated = true;
          if (!this.#callLink(req, () => this.link.activate())) return;
        }
        req.complete(S.STATUS_SUCCESS, 0);
        return;
      case IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS:
        // *IOCTL pages*: not supported. ASSUMPTION(drv-deactivate-code): answered with STATUS_NOT_SUPPORTED (50).
        req.complete(S.STATUS_NOT_SUPPORTED, 0, 'DEACTIVATE_USB_BUS is documented as not supported (IOCTL pages); do not depend on it');
        return;
      case IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION:
        return this.#busEventRequest(req, file);
      case IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET:
        return this.#getInterfaceDescriptorSet(req);
      case IOCTL_GENERICUSBFN_REGISTER_USB_STRING:
        return this.#registerUsbString(req);
      default:
        throw new SimulatorError('SIM_UNHANDLED_IOCTL', `ioctlInfo knows ${ioctlName(req.code)} but the model has no handler`);
    }
  }

  /** Fails `req` with STATUS_INVALID_DEVICE_STATE unless ACTIVATE_USB_BUS came first (*IOCTL pages*, *Kernel IOCTL pages*). */
  #requireActivated(req: IoRequest): boolean {
    if (this.#activated) return true;
    // ASSUMPTION(drv-invalid-state): the call-order violation is STATUS_INVALID_DEVICE_STATE (22).
    req.complete(S.STATUS_INVALID_DEVICE_STATE, 0, 'sent before IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS; activate the bus first (IOCTL pages)');
    return false;
  }

  /** EP0 is usable once the host connection exists (*UFX page*): activated and reset by the host. ASSUMPTION(drv-ep0-before-configured). */
  #requireEp0(req: IoRequest): boolean {
    if (!this.#requireActivated(req)) return false;
    if (this.link.speed !== undefined) return true;
    req.complete(S.STATUS_INVALID_DEVICE_STATE, 0, 'pipe 0 (EP0) is not usable before the host has reset the device; wait for UsbfnEventReset');
    return false;
  }

  /** Interface endpoints are usable only while Configured (*UFX page*); purged queues reject (*WDF pages*). */
  #requireConfigured(req: IoRequest): boolean {
    if (!this.#requireActivated(req)) return false;
    if (this.link.configured) return true;
    // ASSUMPTION(drv-invalid-state): before Configured / after a purge → STATUS_INVALID_DEVICE_STATE (22).
    req.complete(S.STATUS_INVALID_DEVICE_STATE, 0, `pipe ${req.pipe} is not usable before UsbfnEventConfigured (or after a reset/detach/unconfigure purge); wait for Configured`);
    return false;
  }

  /** Runs a link call; a throw from the link completes `req` instead of escaping into the caller. */
  #callLink(req: IoRequest, call: () => void): boolean {
    try {
      call();
      return true;
    } catch (e) {
      this.#completeWithAbort(req, e);
      return false;
    }
  }

  #transfer(req: IoRequest, direction: 'in' | 'out', appendZlp: boolean): void {
    const pipeId = req.pipe!;
    const data = req.output ?? EMPTY;
    let ufx: UfxRequest<number>;
    try {
      if (pipeId === 0) {
        if (!this.#requireEp0(req)) return;
        // ASSUMPTION(drv-append-zlp-ep0): APPEND_ZERO_PKT on pipe 0 is a plain data stage; UFX ends control
        // reads by wLength (USB 2.0 §8.5.3.2).
        ufx = direction === 'in' ? this.link.controlDataIn(data) : this.link.controlDataOut(data);
      } else {
        const pipe = this.pipes.pipe(pipeId, this.link.speed ?? 'high');
        if (pipe === undefined) {
          // ASSUMPTION(drv-bad-pipe): wrong pipe id → STATUS_INVALID_PARAMETER (87).
          req.complete(S.STATUS_INVALID_PARAMETER, 0, `no pipe ${pipeId}: GET_CLASS_INFO lists pipes 1..${this.pipes.pipes('high').length}`);
          return;
        }
        if (pipe.direction !== direction) {
          // ASSUMPTION(drv-bad-pipe): transfer against the endpoint direction → STATUS_INVALID_PARAMETER (87).
          req.complete(S.STATUS_INVALID_PARAMETER, 0, `pipe ${pipeId} is endpoint 0x${pipe.endpointAddress.toString(16).padStart(2, '0')} (${pipe.direction.toUpperCase()}); use TRANSFER_${pipe.direction === 'in' ? 'IN' : 'OUT'}`);
          return;
        }
        if (!this.#requireConfigured(req)) return;
        // *IOCTL pages*, *Kernel IOCTL pages*: APPEND_ZERO_PKT asks UFX for a ZLP after a payload that is a multiple of wMaxPacketSize.
        ufx = direction === 'in' ? this.link.transferIn(pipe.endpointAddress, data, appendZlp) : this.link.transferOut(pipe.endpointAddress, data);
      }
    } catch (e) {
      this.#completeWithAbort(req, e);
      return;
    }
    this.#forward(req, ufx);
  }

  #handshake(req: IoRequest, direction: 'in' | 'out'): void {
    if (req.pipe !== 0) {
      // ASSUMPTION(drv-bad-pipe): the docs say "USBFNPIPEID of EP0"; another pipe → STATUS_INVALID_PARAMETER (87).
      req.complete(S.STATUS_INVALID_PARAMETER, 0, `status handshakes run on pipe 0 (EP0), not pipe ${req.pipe}`);
      return;
    }
    if (!this.#requireEp0(req)) return;
    // Direction is checked by UFX (the link), which accepts either for a no-data setup: ASSUMPTION(drv-no-data-handshake).
    let ufx: UfxRequest<number>;
    try {
      ufx = this.link.controlHandshake(direction);
    } catch (e) {
      this.#completeWithAbort(req, e);
      return;
    }
    this.#forward(req, ufx);
  }

  /** Hands `req` to UFX: CancelIoEx cancels the UFX request; its outcome completes `req`. ASSUMPTION(drv-no-timeouts): no timeout of its own. */
  #forward(req: IoRequest, ufx: UfxRequest<number>): void {
    req.setCancelRoutine(() => {
      // If UFX already finished it, the request completes normally with that result (*Overlapped I/O pages*).
      if (ufx.cancel()) req.complete(S.STATUS_CANCELLED, 0, 'cancelled by CancelIoEx or handle close');
    });
    ufx.result.then(
      (bytes) => this.#transferDone(req, bytes),
      (e: unknown) => this.#completeWithAbort(req, e),
    );
  }

  #transferDone(req: IoRequest, bytes: number): void {
    const delayMs = this.faults.active && req.pipe !== undefined ? this.faults.delayMs(req.pipe) : 0;
    if (delayMs === 0) {
      req.complete(S.STATUS_SUCCESS, bytes);
      return;
    }
    const timer = this.clock.setTimer(delayMs, () => req.complete(S.STATUS_SUCCESS, bytes));
    req.setCancelRoutine(() => {
      timer.cancel();
      req.complete(S.STATUS_CANCELLED, 0, 'cancelled while its completion was delayed by delayPipe');
    });
  }

  /** Completes `req` as UFX ended it (ufx-abort-status.ts); anything but a UfxAbort is a simulator bug. */
  #completeWithAbort(req: IoRequest, e: unknown): void {
    if (e instanceof UfxAbort) {
      const c = ufxAbortCompletion(e, req.output?.length ?? 0);
      req.complete(c.status, c.bytes, c.detail);
      return;
    }
    req.simulatorError =
      e instanceof SimulatorError
        ? e
        : new SimulatorError('SIM_LINK_FAILURE', `the UFX link failed ${ioctlName(req.code)} with a non-UfxAbort error: ${e instanceof Error ? e.message : String(e)}`, {}, { cause: e });
    req.complete(S.STATUS_UNSUCCESSFUL, 0);
  }

  #getPipeState(req: IoRequest): void {
    const out = req.output!;
    if (req.pipe === 0) {
      if (!this.#requireEp0(req)) return;
      // ASSUMPTION(drv-pipe-state-ep0): a control stall applies to the current setup only; EP0 reads FALSE.
      out[0] = 0;
      req.complete(S.STATUS_SUCCESS, 1);
      return;
    }
    const pipe = this.#interfacePipe(req);
    if (pipe === undefined || !this.#requireConfigured(req)) return;
    out[0] = this.link.isEndpointHalted(pipe) ? 1 : 0; // BOOLEAN: TRUE = stalled
    req.complete(S.STATUS_SUCCESS, 1);
  }

  #setPipeState(req: IoRequest): void {
    const stall = req.output![0] !== 0; // the new state travels in the IN_DIRECT "output" buffer (docs/reference/ioctls.md#set-pipe-state)
    if (req.pipe === 0) {
      if (!this.#requireEp0(req)) return;
      // *UFX page*: a control stall applies to the current setup; FALSE on EP0 has nothing to clear.
      if (stall && !this.#callLink(req, () => this.link.stallControl())) return;
      req.complete(S.STATUS_SUCCESS, 0);
      return;
    }
    const pipe = this.#interfacePipe(req);
    if (pipe === undefined || !this.#requireConfigured(req)) return;
    // *UFX page*: a bulk/interrupt stall persists until cleared; transfers are held meanwhile (by UFX).
    if (!this.#callLink(req, () => this.link.setEndpointHalt(pipe, stall))) return;
    req.complete(S.STATUS_SUCCESS, 0);
  }

  /** The endpoint address of `req.pipe` (≥ 1), or completes `req` with STATUS_INVALID_PARAMETER. */
  #interfacePipe(req: IoRequest): number | undefined {
    const pipe = this.pipes.pipe(req.pipe!, this.link.speed ?? 'high');
    if (pipe !== undefined) return pipe.endpointAddress;
    req.complete(S.STATUS_INVALID_PARAMETER, 0, `no pipe ${req.pipe}: GET_CLASS_INFO lists pipes 1..${this.pipes.pipes('high').length}`);
    return undefined;
  }

  #busEventRequest(req: IoRequest, file: UsbFnFileObject): void {
    // *UFX page*: events that arrived while no request was outstanding wait in the queue.
    const queued = file.events.shift();
    if (queued !== undefined) {
      writeNotification(req.output!, queued);
      req.complete(S.STATUS_SUCCESS, USBFN_NOTIFICATION_SIZE); // ASSUMPTION(drv-bytes-returned): 12
      return;
    }
    // *UFX page*, *Kernel IOCTL pages*: several may be outstanding; they complete oldest first.
    file.eventWaiters.push(req);
    req.setCancelRoutine(() => {
      const i = file.eventWaiters.indexOf(req);
      if (i >= 0) file.eventWaiters.splice(i, 1);
      req.complete(S.STATUS_CANCELLED, 0, 'cancelled by CancelIoEx or handle close');
    });
  }

  #onBusEvent(event: UfxBusEvent): void {
    if (this.#files.size === 0) {
      // ASSUMPTION(drv-event-queue): the event queue belongs to an open handle; with none open the event is lost.
      this.log.addBusEvent(this.clock.now(), undefined, event.type, 'noHandle');
      return;
    }
    for (const file of this.#files) {
      const waiter = file.eventWaiters.shift();
      if (waiter !== undefined) {
        writeNotification(waiter.output!, event);
        waiter.complete(S.STATUS_SUCCESS, USBFN_NOTIFICATION_SIZE); // ASSUMPTION(drv-bytes-returned): 12
        this.#logEvent(file, event, 'completed');
      } else {
        const dropped = file.events.push(event);
        this.#logEvent(file, event, dropped === undefined ? 'queued' : 'overflow');
      }
    }
  }

  #logEvent(file: UsbFnFileObject, event: UfxBusEvent, delivery: 'completed' | 'queued' | 'overflow'): void {
    if (this.log.enabled) this.log.addBusEvent(this.clock.now(), file.id, event.type, delivery);
  }

  /**
   * *IOCTL pages*: GET_INTERFACE_DESCRIPTOR_SET after ACTIVATE only; a too-small output gets `Size` written and
   * STATUS_BUFFER_TOO_SMALL (122), and the caller retries with a bigger buffer.
   * ASSUMPTION(drv-descriptor-set-size): `Size` counts the descriptor bytes only (option
   * `interfaceInfoSizeIncludesHeader` selects the other reading); the output must hold the 10-byte header
   * plus the descriptors, and bytes returned on success = 10 + descriptor bytes.
   * ASSUMPTION(drv-descriptor-set-size): InterfaceNumber other than this function's, or Speed not Full/High/Super → 87.
   */
  #getInterfaceDescriptorSet(req: IoRequest): void {
    if (!this.#requireActivated(req)) return;
    const input = req.input!;
    const interfaceNumber = input[0]!;
    const speedValue = (input[4]! | (input[5]! << 8) | (input[6]! << 16) | (input[7]! << 24)) >>> 0;
    const speed = busSpeedFromValue(speedValue);
    if (interfaceNumber !== this.pipes.identity.interfaceNumber || speed === undefined) {
      req.complete(
        S.STATUS_INVALID_PARAMETER,
        0,
        `InterfaceNumber ${interfaceNumber} / Speed ${speedValue}: this function is interface ${this.pipes.identity.interfaceNumber}; Speed must be UsbfnBusSpeedFull/High/Super (1/2/3)`,
      );
      return;
    }
    const set = this.pipes.descriptorSet(speed);
    const needed = writeInterfaceInfo(req.output!, interfaceNumber, speedValue, set, this.#options.interfaceInfoSizeIncludesHeader ?? false);
    if (needed > req.output!.length) {
      req.complete(S.STATUS_BUFFER_TOO_SMALL, 0, `the descriptor set needs ${needed} bytes (10-byte header + ${set.length} descriptor bytes); retry with a buffer of ${needed} bytes`);
      return;
    }
    req.complete(S.STATUS_SUCCESS, needed);
  }

  /**
   * *IOCTL pages*: REGISTER_USB_STRING after ACTIVATE only. USBFN_USB_STRING: StringIndex @0, UsbString[255] WCHAR @2.
   * ASSUMPTION(drv-register-string): USB 2.0 §9.6.7 makes StringIndex 0 the LANGID table → STATUS_INVALID_PARAMETER (87).
   */
  #registerUsbString(req: IoRequest): void {
    if (!this.#requireActivated(req)) return;
    const input = req.input!;
    const index = input[0]!;
    if (index === 0) {
      req.complete(S.STATUS_INVALID_PARAMETER, 0, 'StringIndex 0 is reserved for the LANGID table (USB 2.0 §9.6.7); use 1..255');
      return;
    }
    const text = readUsbString(input);
    this.#strings.set(index, text);
    this.#options.onUsbString?.(index, text);
    req.complete(S.STATUS_SUCCESS, 0);
  }

  /** @internal Called by file objects when one of their requests completes. */
  logCompletion(req: IoRequest): void {
    if (this.log.enabled) this.log.addIoctl(req, this.clock.now());
  }
}
