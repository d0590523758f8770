/**
 * The `UsbFnPort` seam (docs/architecture.md#seams): the Win32 surface through which a user-mode service reaches
 * GenericUSBFn.sys and Configuration Manager, **typed but not decoded**.
 *
 * Buffers cross this seam exactly as they cross the Win32 API: IOCTL input/output buffers are raw bytes
 * laid out per genericusbfnioctl.h / usbfnbase.h, CM notification event data is a raw
 * CM_NOTIFY_EVENT_DATA, and interface lists are raw REG_MULTI_SZ UTF-16LE. All decoding happens above
 * the seam (device-side/abi), so every simulated test runs the same codecs as the lab.
 *
 * Implementations: `Win32UsbFnPort` (device-side/win32, koffi → kernel32/cfgmgr32) and `SimUsbFnPort`
 * (simulator/usbfn, a model of GenericUSBFn.sys and of Configuration Manager).
 *
 * Errors: Win32 failures reject with `Win32Error` (api, win32, win32Name, ioctl); CONFIGRET failures with
 * `ConfigRetError` (api, cr, crName). Both from core/errors.ts.
 */
import type { Clock } from '../core/index.js';

/** A device-interface class GUID or event GUID as a braced string: `{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}`. */
export type GuidString = string;

/** Registry-style flags for CM_Get_Device_Interface_List(_Size)W (cfgmgr32.h). */
export interface InterfaceListQuery {
  /** Device interface class GUID (the function's `InterfaceGUID` registry value). */
  readonly interfaceClassGuid: GuidString;
  /** Restrict to one device instance (pDeviceID); absent = all. */
  readonly deviceInstanceId?: string | undefined;
  /** CM_GET_DEVICE_INTERFACE_LIST_PRESENT (0) or _ALL_DEVICES (1). Default PRESENT. */
  readonly flags?: number | undefined;
}

/**
 * What a notification callback returns: ERROR_SUCCESS (0), or ERROR_CANCELLED (1223) to veto a
 * CM_NOTIFY_ACTION_DEVICEQUERYREMOVE. Must be returned synchronously, as the native callback does: CM reads
 * the value when the callback returns, so a listener that returns a Promise cannot veto. `Win32UsbFnPort`
 * treats a thenable as ERROR_SUCCESS ("allow"), reports it once per registration, and routes its rejection
 * to `onListenerError` (docs/win32-backend.md#configuration-manager-notifications-and-the-deadlock-rule).
 */
export type CmCallbackResult = number;

/**
 * A Configuration Manager notification callback (PCM_NOTIFY_CALLBACK). `eventData` is the raw
 * CM_NOTIFY_EVENT_DATA (variable length; decode with device-side/abi). Callbacks are delivered
 * asynchronously; not re-entrantly for one registration (inferred, not stated by Microsoft:
 * docs/reference/documented-vs-inferred.md#cm-callbacks-serialized; through koffi every callback runs on the
 * one JavaScript thread).
 *
 * @note Calling `unregister()` of the same registration from inside this callback deadlocks on real
 * Windows (D-CM); defer it (queueMicrotask / a scheduled task). The simulator reports it as
 * `SimulatorError SIM_UNREGISTER_IN_CALLBACK`.
 */
export type CmNotifyListener = (action: number, eventData: Uint8Array) => CmCallbackResult;

/** One CM_Register_Notification registration (an HCMNOTIFICATION). */
export interface CmRegistration {
  /** Stable id for logs (the handle value in lab, a counter in sim). */
  readonly id: string;
  /**
   * CM_Unregister_Notification. Waits for in-flight callbacks of this registration to finish.
   * @throws ConfigRetError (CR_INVALID_POINTER on a second call) / SimulatorError SIM_UNREGISTER_IN_CALLBACK.
   */
  unregister(): Promise<void>;
}

/** Options of one DeviceIoControl call. */
export interface IoctlOptions {
  /** Aborting calls CancelIoEx for this request; the promise then rejects with ERROR_OPERATION_ABORTED (995) unless it completed first. */
  readonly signal?: AbortSignal | undefined;
  /** Short context for error messages, e.g. `pipe 1`. */
  readonly target?: string | undefined;
}

/**
 * An open handle to a GenericUSBFn.sys device interface (CreateFileW with
 * GENERIC_READ|GENERIC_WRITE, OPEN_EXISTING, FILE_FLAG_OVERLAPPED).
 */
export interface UsbFnFile {
  /** The symbolic link this handle was opened with. */
  readonly symbolicLink: string;
  /** True until {@link close} is called or the handle is otherwise invalidated. */
  readonly isOpen: boolean;
  /**
   * Overlapped DeviceIoControl. `input` is lpInBuffer; `output` is lpOutBuffer exactly as Win32 sees it (null
   * is a NULL lpOutBuffer; a zero-length array is a non-NULL one with nOutBufferSize 0):
   * the driver writes into it for METHOD_BUFFERED/OUT_DIRECT and **reads** from it for IN_DIRECT
   * (TRANSFER_IN carries the data to send in the output buffer). The buffer belongs to the driver until
   * the promise settles. Resolves with lpBytesReturned.
   *
   * @note A driver may write into `output` even when the request fails (GET_INTERFACE_DESCRIPTOR_SET fills
   * `Size` before failing with ERROR_INSUFFICIENT_BUFFER; docs/reference/ioctls.md#get-interface-descriptor-set, METHOD_OUT_DIRECT).
   * @throws Win32Error (api `DeviceIoControl`, `ioctl` = IOCTL name): the driver's failure mapped from
   * NTSTATUS, e.g. ERROR_OPERATION_ABORTED (995) after CancelIoEx/close/purge, ERROR_INVALID_PARAMETER (87),
   * ERROR_INVALID_HANDLE (6) after close.
   */
  ioctl(code: number, input: Uint8Array | null, output: Uint8Array | null, options?: IoctlOptions): Promise<number>;
  /**
   * CloseHandle. Outstanding requests of this handle complete with ERROR_OPERATION_ABORTED (IRP_MJ_CLEANUP).
   * Closing twice is a no-op.
   */
  close(): Promise<void>;
}

/** The Win32 surface of GenericUSBFn.sys + Configuration Manager used by the device-side service. */
export interface UsbFnPort {
  /** The clock bounded waits above this port use (virtual in sim, real in lab). */
  readonly clock: Clock;

  /**
   * CM_Get_Device_Interface_List_SizeW: required buffer size in WCHARs (including the final extra NUL).
   * @throws ConfigRetError e.g. CR_INVALID_DATA for a bad GUID.
   */
  getInterfaceListSize(query: InterfaceListQuery): Promise<number>;

  /**
   * CM_Get_Device_Interface_ListW into a buffer of `bufferChars` WCHARs. Resolves with the raw
   * REG_MULTI_SZ (UTF-16LE, `bufferChars * 2` bytes).
   * @throws ConfigRetError CR_BUFFER_SMALL when the list grew since the size query; callers loop
   * (device-side `listInterfaces`).
   */
  getInterfaceList(query: InterfaceListQuery, bufferChars: number): Promise<Uint8Array>;

  /**
   * CM_Register_Notification with a CM_NOTIFY_FILTER_TYPE_DEVICEINTERFACE filter for `interfaceClassGuid`.
   * Sees only events after registration (no history).
   * @throws ConfigRetError
   */
  watchInterfaces(interfaceClassGuid: GuidString, listener: CmNotifyListener): Promise<CmRegistration>;

  /**
   * CM_Register_Notification with a CM_NOTIFY_FILTER_TYPE_DEVICEHANDLE filter for the handle behind `file`
   * (query-remove, remove-pending, remove-complete, query-remove-failed, custom events).
   * @throws ConfigRetError
   */
  watchHandle(file: UsbFnFile, listener: CmNotifyListener): Promise<CmRegistration>;

  /**
   * CM_Register_Notification with a CM_NOTIFY_FILTER_TYPE_DEVICEINSTANCE filter.
   * @throws ConfigRetError
   */
  watchInstance(deviceInstanceId: string, listener: CmNotifyListener): Promise<CmRegistration>;

  /**
   * CreateFileW(symbolicLink, GENERIC_READ|GENERIC_WRITE, share 0, OPEN_EXISTING, FILE_FLAG_OVERLAPPED).
   * Share mode 0 does not make a device exclusive (the I/O manager checks share access for file systems
   * only): whether a second open fails, and how, is the driver's (docs/reference/documented-vs-inferred.md#drv-exclusive-open).
   * @throws Win32Error (api `CreateFileW`): ERROR_FILE_NOT_FOUND (2) / ERROR_PATH_NOT_FOUND (3) for a missing
   * interface, ERROR_ACCESS_DENIED (5) (also what an exclusive device, and the simulator, answer a second
   * open), ERROR_SHARING_VIOLATION (32).
   */
  open(symbolicLink: string): Promise<UsbFnFile>;
}
