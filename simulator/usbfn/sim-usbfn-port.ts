/**
 * `SimUsbFnPort`: the simulator's implementation of the {@link UsbFnPort} seam (docs/architecture.md#seams). CreateFileW,
 * overlapped DeviceIoControl, CancelIoEx and CloseHandle reach {@link GenericUsbFnModel}; the cfgmgr32
 * calls reach the simulated Configuration Manager. The real device-side code above the seam encodes the
 * same buffers and sees the same Win32 errors as on Windows.
 *
 * Completion is overlapped-I/O shaped: an IOCTL the driver pends resolves when the driver completes it;
 * one the driver completes at once still resolves asynchronously (a microtask later, never inside
 * `ioctl()`), like an overlapped call that returned TRUE. ASSUMPTION(drv-async-completion).
 *
 * @see docs/reference/ioctls.md#opening-the-device, #overlapped-io, #cancellation (kernel32: CreateFileW,
 * DeviceIoControl, CancelIoEx, CloseHandle)
 */
import { type Clock, SimulatorError } from '../../core/index.js';
import {
  WIN32_ERROR,
  ntStatusToWin32,
  win32Error,
  type CmNotifyListener,
  type CmRegistration,
  type GuidString,
  type InterfaceListQuery,
  type IoctlOptions,
  type UsbFnFile,
  type UsbFnPort,
} from '../../device-side/index.js';
import { abortFanout, PendingOp, queueJob } from '../runtime/index.js';
import type { CmHandle, ConfigManagerModel } from '../cm/index.js';
import type { GenericUsbFnModel } from './generic-usbfn-model.js';
import { GENERIC_READ, GENERIC_WRITE, requestWin32, type UsbFnFileObject } from './usbfn-file-object.js';
import type { IoCompletion, IoRequest } from './io-request.js';

/** Options of {@link SimUsbFnPort}. */
export interface SimUsbFnPortOptions {
  readonly clock: Clock;
  /** The simulated Configuration Manager the device interfaces live in. */
  readonly cm: ConfigManagerModel;
  /** The GenericUSBFn model serving a device instance (undefined: no driver loaded for it). */
  readonly driverFor: (deviceInstanceId: string) => GenericUsbFnModel | undefined;
}

/** Extra CreateFileW parameters the simulator lets a test choose. */
export interface SimOpenOptions {
  /** dwDesiredAccess. Default GENERIC_READ | GENERIC_WRITE, as the Win32 port opens. */
  readonly desiredAccess?: number | undefined;
}

/**
 * One DeviceIoControl in flight: settles the caller's promise when the model completes its request, and
 * runs CancelIoEx when the signal aborts (a {@link PendingOp}, simulator/runtime/pending-op.ts).
 */
class PendingIoctl extends PendingOp<number> implements IoCompletion {
  request: IoRequest | undefined = undefined;
  /** True while the model's dispatch runs: a completion then is deferred (never settle inside ioctl()). */
  dispatching = true;

  constructor(
    readonly port: SimUsbFnPort,
    readonly target: string | undefined,
  ) {
    super();
  }

  complete(request: IoRequest): void {
    if (this.dispatching) this.port.deferSettle(this, request);
    else this.settle(request);
  }

  /** The signal aborted: CancelIoEx for this request. */
  protected override onAbort(): void {
    this.request?.cancel();
  }

  settle(request: IoRequest): void {
    this.stopWaiting();
    if (request.simulatorError !== undefined) {
      this.reject(request.simulatorError);
      return;
    }
    const win32 = requestWin32(request);
    if (win32 === 0) {
      this.resolve(request.information);
      return;
    }
    this.reject(
      win32Error('DeviceIoControl', win32, {
        ioctl: request.code,
        target: this.target ?? (request.pipe === undefined ? undefined : `pipe ${request.pipe}`),
        detail: request.detail,
      }),
    );
  }
}

/** A handle from {@link SimUsbFnPort.open}. */
export class SimUsbFnFile implements UsbFnFile {
  readonly symbolicLink: string;
  /** CM's view of the handle (query-remove veto, DEVICEHANDLE registrations). */
  readonly cmHandle: CmHandle;
  /** The driver's file object. */
  readonly fileObject: UsbFnFileObject;
  readonly #port: SimUsbFnPort;
  readonly #model: GenericUsbFnModel;
  #open = true;

  constructor(port: SimUsbFnPort, symbolicLink: string, cmHandle: CmHandle, model: GenericUsbFnModel, fileObject: UsbFnFileObject) {
    this.#port = port;
    this.symbolicLink = symbolicLink;
    this.cmHandle = cmHandle;
    this.#model = model;
    this.fileObject = fileObject;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /**
   * Overlapped DeviceIoControl: resolves with lpBytesReturned once the driver completes the request.
   * @throws Win32Error (api `DeviceIoControl`): ERROR_INVALID_HANDLE (6) after close; the driver's errors
   * (see docs/simulator-driver.md); ERROR_OPERATION_ABORTED (995) after `signal` aborts (CancelIoEx).
   * @throws SimulatorError when the simulated UFX link misbehaved (a simulator bug, never a driver result).
   */
  ioctl(code: number, input: Uint8Array | null, output: Uint8Array | null, options?: IoctlOptions): Promise<number> {
    if (!this.#open) {
      return Promise.reject(
        win32Error('DeviceIoControl', WIN32_ERROR.ERROR_INVALID_HANDLE, {
          ioctl: code,
          target: options?.target,
          detail: `the handle to ${this.symbolicLink} is closed; reopen the device interface`,
        }),
      );
    }
    const pending = new PendingIoctl(this.#port, options?.target);
    const request = this.#model.dispatch(this.fileObject, code, input, output, pending);
    pending.dispatching = false;
    if (request.isPending) {
      const signal = options?.signal;
      if (signal !== undefined) {
        // *Overlapped I/O pages*: an abort before or during the wait is CancelIoEx; a request already done completes normally.
        const fanout = abortFanout(signal); // answers `aborted` without touching the signal
        if (fanout.aborted) request.cancel();
        else {
          pending.request = request;
          pending.watchAbort(fanout);
        }
      }
    }
    return pending.result;
  }

  /**
   * CloseHandle: every pending request of this handle ends with ERROR_OPERATION_ABORTED (IRP_MJ_CLEANUP,
   * *WDF pages*). Closing twice is a no-op.
   */
  close(): Promise<void> {
    if (this.#open) {
      this.#open = false;
      // Synchronously, before any await: a service closes inside its QUERYREMOVE callback (cm-handle.ts).
      this.cmHandle.close();
      this.#model.close(this.fileObject);
    }
    return Promise.resolve();
  }
}

/**
 * The simulated Win32 surface of GenericUSBFn.sys + Configuration Manager.
 *
 * @example
 * const port = new SimUsbFnPort({ clock, cm, driverFor: (id) => (id === instanceId ? model : undefined) });
 * const file = await port.open(symbolicLink);
 */
export class SimUsbFnPort implements UsbFnPort {
  readonly clock: Clock;
  readonly cm: ConfigManagerModel;
  readonly #driverFor: (deviceInstanceId: string) => GenericUsbFnModel | undefined;
  /** Device instances whose removal this port already forwards to their driver model. */
  readonly #removalWatch = new Map<string, GenericUsbFnModel>();
  #deferred: PendingIoctl[] = [];
  #deferredRequests: IoRequest[] = [];
  readonly #flush = (): void => {
    const list = this.#deferred;
    const reqs = this.#deferredRequests;
    this.#deferred = [];
    this.#deferredRequests = [];
    for (let i = 0; i < list.length; i++) list[i]!.settle(reqs[i]!);
  };

  constructor(options: SimUsbFnPortOptions) {
    this.clock = options.clock;
    this.cm = options.cm;
    this.#driverFor = options.driverFor;
  }

  /** @internal Settles `pending` in a microtask (one microtask per batch of immediate completions). */
  deferSettle(pending: PendingIoctl, request: IoRequest): void {
    if (this.#deferred.length === 0) queueJob(this.#flush);
    this.#deferred.push(pending);
    this.#deferredRequests.push(request);
  }

  async getInterfaceListSize(query: InterfaceListQuery): Promise<number> {
    return this.cm.getInterfaceListSize(query);
  }

  async getInterfaceList(query: InterfaceListQuery, bufferChars: number): Promise<Uint8Array> {
    return this.cm.getInterfaceList(query, bufferChars);
  }

  async watchInterfaces(interfaceClassGuid: GuidString, listener: CmNotifyListener): Promise<CmRegistration> {
    return this.cm.register({ type: 'deviceInterface', classGuid: interfaceClassGuid }, listener);
  }

  async watchHandle(file: UsbFnFile, listener: CmNotifyListener): Promise<CmRegistration> {
    if (!(file instanceof SimUsbFnFile)) {
      throw new SimulatorError('SIM_FOREIGN_HANDLE', 'watchHandle: the file was not opened by this SimUsbFnPort');
    }
    return this.cm.register({ type: 'deviceHandle', handle: file.cmHandle }, listener);
  }

  async watchInstance(deviceInstanceId: string, listener: CmNotifyListener): Promise<CmRegistration> {
    return this.cm.register({ type: 'deviceInstance', instanceId: deviceInstanceId }, listener);
  }

  /**
   * CreateFileW(symbolicLink, desiredAccess, 0, NULL, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL).
   * @throws Win32Error (api `CreateFileW`): ERROR_FILE_NOT_FOUND (2) when the interface is not present;
   * ERROR_ACCESS_DENIED (5) while another handle is open (ASSUMPTION(drv-exclusive-open), GenericUsbFnModel.create).
   * @throws SimulatorError SIM_NO_DRIVER when the interface exists but no driver model serves its device.
   */
  async open(symbolicLink: string, options: SimOpenOptions = {}): Promise<SimUsbFnFile> {
    const cmHandle = this.cm.openHandle(symbolicLink);
    if (cmHandle === undefined) {
      throw win32Error('CreateFileW', WIN32_ERROR.ERROR_FILE_NOT_FOUND, {
        target: symbolicLink,
        detail: 'no such device interface is present (never arrived, or removed); wait for its arrival notification',
      });
    }
    const model = this.#driverFor(cmHandle.instanceId);
    if (model === undefined) {
      cmHandle.close();
      throw new SimulatorError('SIM_NO_DRIVER', `no GenericUSBFn model serves device ${cmHandle.instanceId} (interface ${symbolicLink}); wire one with driverFor`);
    }
    const created = model.create(options.desiredAccess ?? (GENERIC_READ | GENERIC_WRITE) >>> 0);
    if (created.file === undefined) {
      cmHandle.close();
      throw win32Error('CreateFileW', ntStatusToWin32(created.status), { target: symbolicLink, detail: created.detail });
    }
    this.#watchRemoval(cmHandle.instanceId, model);
    return new SimUsbFnFile(this, symbolicLink, cmHandle, model, created.file);
  }

  /** Forwards CM removal of `instanceId` to its driver once (PnP surprise removal reaches the driver). */
  #watchRemoval(instanceId: string, model: GenericUsbFnModel): void {
    const key = instanceId.toUpperCase();
    if (this.#removalWatch.get(key) === model) return;
    this.#removalWatch.set(key, model);
    this.cm.onRemoved(instanceId, () => model.deviceRemoved());
  }
}
