/**
 * `Win32UsbFnPort`: the real {@link UsbFnPort} (docs/architecture.md#seams) over koffi → kernel32 / CfgMgr32 →
 * GenericUSBFn.sys, used in `lab` mode on the Windows USB function device.
 *
 * - `open` ← CreateFileW(GENERIC_READ|GENERIC_WRITE, share 0, OPEN_EXISTING, FILE_FLAG_OVERLAPPED); the handle
 *   joins the port's one I/O completion port ({@link CompletionPort}).
 * - `ioctl` ← overlapped DeviceIoControl, any number outstanding, drained by a single worker-thread wait;
 *   abort → CancelIoEx(handle, that OVERLAPPED) → ERROR_OPERATION_ABORTED (995).
 * - `watch*` ← CM_Register_Notification with a koffi-registered PCM_NOTIFY_CALLBACK; `unregister` ←
 *   CM_Unregister_Notification; both through koffi `.async` (never on the main thread: docs/reference/configuration-manager.md#koffi-callbacks).
 * - `getInterfaceList(Size)` ← CM_Get_Device_Interface_List(_Size)W (through `.async`).
 *
 * @see docs/reference/configuration-manager.md, docs/reference/ioctls.md#opening-the-device, docs/reference/errors.md
 * @see https://learn.microsoft.com/windows-hardware/drivers/usbcon/user-mode-services-ufx ("Communicating with GenericUSBFn.sys from a user-mode service")
 */
import { type Clock, RealClock, UsageError } from '../../core/index.js';
import {
  CM_GET_DEVICE_INTERFACE_LIST_PRESENT,
  CONFIGRET,
  configRetError,
  encodeCmNotifyFilter,
  encodeGuid,
  win32Error,
  type CmNotifyFilter,
} from '../abi/index.js';
import type {
  CmNotifyListener,
  CmRegistration,
  GuidString,
  InterfaceListQuery,
  IoctlOptions,
  UsbFnFile,
  UsbFnPort,
} from '../usbfn-port.js';
import { isInvalidHandle, loadWin32Bindings, type Win32Api, type Win32Handle } from './bindings.js';
import { CompletionPort, type CompletionPortDiagnostic, type CompletionPortOptions, type OverlappedHandle } from './completion-port.js';
import { FILE_FLAG_OVERLAPPED, GENERIC_READ, GENERIC_WRITE, OPEN_EXISTING } from './kernel32-constants.js';

/** Options of {@link Win32UsbFnPort.create}. */
export interface Win32UsbFnPortOptions {
  /** Clock for bounded waits above the port. Default: a RealClock (lab mode is real time). */
  readonly clock?: Clock | undefined;
  /** The Win32 functions. Default: {@link loadWin32Bindings} (koffi); tests inject a fake. */
  readonly api?: Win32Api | undefined;
  /** Tuning of the I/O completion port (wait slice, drain timeout, batch size). */
  readonly completionPort?: CompletionPortOptions | undefined;
  /** dwShareMode of CreateFileW. Default 0 (exclusive), as the seam documents. */
  readonly shareMode?: number | undefined;
  /**
   * Called when a notification listener throws. The callback then returns ERROR_SUCCESS (0) to
   * Configuration Manager (koffi would return 0 anyway). Default: rethrow on a later turn so the failure is
   * an uncaught exception rather than silently lost.
   */
  readonly onListenerError?: ((err: unknown, registrationId: string) => void) | undefined;
  /**
   * Told about what the port copes with but should not happen: packets of the completion port that match no
   * request (and late packets of synchronous NT-warning failures), and a notification listener that returned
   * a Promise (its answer cannot reach Configuration Manager, so the callback returns ERROR_SUCCESS: "allow").
   * Default: `process.emitWarning` for the ones that point at a bug (unknown packets, a block given up on,
   * a Promise from a listener); the rest are counted only.
   */
  readonly onDiagnostic?: ((diagnostic: Win32PortDiagnostic) => void) | undefined;
}

/** What {@link Win32UsbFnPortOptions.onDiagnostic} hears. */
export type Win32PortDiagnostic =
  | CompletionPortDiagnostic
  /** A CM notification listener returned a thenable: treated as ERROR_SUCCESS (allow); reported once per registration. */
  | { readonly kind: 'asyncListener'; readonly registrationId: string; readonly action: number };

const WARN_KINDS: ReadonlySet<Win32PortDiagnostic['kind']> = new Set(['unknownPacket', 'latePacketMissing', 'asyncListener']);

/** The default diagnostic sink: a Node.js process warning for what points at a bug, nothing for the rest. */
function emitDiagnosticWarning(diagnostic: Win32PortDiagnostic): void {
  if (!WARN_KINDS.has(diagnostic.kind)) return;
  process.emitWarning(`Win32UsbFnPort: ${JSON.stringify(diagnostic)}`, { code: 'USBFN_HIL_WIN32_PORT' });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * An open GenericUSBFn.sys handle ({@link UsbFnFile}) created by {@link Win32UsbFnPort.open}.
 * `handle` is exposed for CM_NOTIFY_FILTER_TYPE_DEVICEHANDLE registrations ({@link Win32UsbFnPort.watchHandle}).
 */
export class Win32UsbFnFile implements UsbFnFile {
  readonly symbolicLink: string;
  readonly #io: OverlappedHandle;
  readonly #onClosed: (file: Win32UsbFnFile) => void;

  /** @internal created by {@link Win32UsbFnPort.open} only. */
  constructor(symbolicLink: string, io: OverlappedHandle, onClosed: (file: Win32UsbFnFile) => void) {
    this.symbolicLink = symbolicLink;
    this.#io = io;
    this.#onClosed = onClosed;
  }

  /** The Win32 HANDLE (a BigInt), valid while {@link isOpen}. */
  get handle(): Win32Handle {
    return this.#io.handle;
  }

  get isOpen(): boolean {
    return this.#io.isOpen;
  }

  /** Requests issued on this handle whose completion has not been observed yet. */
  get pendingCount(): number {
    return this.#io.pendingCount;
  }

  /**
   * Overlapped DeviceIoControl on this handle; see {@link UsbFnFile.ioctl}. `output` is copied into native
   * memory for the request's lifetime and what the driver wrote is copied back on completion.
   * @throws Win32Error (api `DeviceIoControl`, `ioctl` = IOCTL name, `target` = options.target or the
   * symbolic link): ERROR_OPERATION_ABORTED (995) after abort/close, ERROR_INVALID_HANDLE (6) after close, or
   * the driver's failure mapped from its NTSTATUS.
   */
  ioctl(code: number, input: Uint8Array | null, output: Uint8Array | null, options?: IoctlOptions): Promise<number> {
    return this.#io.deviceIoControl(code, input, output, {
      signal: options?.signal,
      target: options?.target ?? this.symbolicLink,
    });
  }

  /**
   * CancelIoEx(handle, NULL) + CloseHandle; resolves once every outstanding request has completed (with
   * ERROR_OPERATION_ABORTED) through the completion port. A second call is a no-op.
   * @throws Win32Error (api `CloseHandle`); TimeoutError if the driver does not complete cancelled requests in time.
   */
  async close(): Promise<void> {
    if (!this.#io.isOpen) return;
    try {
      await this.#io.close();
    } finally {
      this.#onClosed(this);
    }
  }
}

/** One CM_Register_Notification registration (an HCMNOTIFICATION) with its koffi callback. */
class Win32CmRegistration implements CmRegistration {
  #id: string;
  /** Depth of this registration's callbacks currently running on the main thread. */
  inCallback = 0;
  /** A listener's thenable was reported already (once per registration). */
  reportedThenable = false;
  #state: 'registered' | 'unregistering' | 'unregistered' = 'registered';
  #handle: bigint = 0n;
  #callback: bigint = 0n;
  readonly #api: Win32Api;
  readonly #onGone: (r: Win32CmRegistration) => void;

  constructor(api: Win32Api, label: string, onGone: (r: Win32CmRegistration) => void) {
    this.#api = api;
    this.#id = label;
    this.#onGone = onGone;
  }

  /** `<filter> (hcm 0x…)`: the filter and the HCMNOTIFICATION value, for logs. */
  get id(): string {
    return this.#id;
  }

  bind(handle: bigint, callback: bigint): void {
    this.#handle = handle;
    this.#callback = callback;
    this.#id = `${this.#id} (hcm 0x${handle.toString(16)})`;
  }

  get isActive(): boolean {
    return this.#state === 'registered';
  }

  /**
   * CM_Unregister_Notification through koffi `.async`, then koffi.unregister() of the callback.
   * Callbacks already queued may still run until this resolves (CM_Unregister_Notification remarks); none runs afterwards.
   * @throws UsageError UNREGISTER_IN_CALLBACK from inside this registration's own callback (a deadlock on
   * Windows, docs/reference/configuration-manager.md#unregister-rule; the sim reports SimulatorError SIM_UNREGISTER_IN_CALLBACK); ConfigRetError
   * CR_INVALID_POINTER on a second call; ConfigRetError from CM_Unregister_Notification.
   */
  unregister(): Promise<void> {
    if (this.inCallback > 0) {
      return Promise.reject(
        new UsageError(
          'UNREGISTER_IN_CALLBACK',
          `CM_Unregister_Notification(${this.id}) was called from inside that registration's own callback. ` +
            'It waits for in-flight callbacks to return, so on Windows this deadlocks (CM_Unregister_Notification docs). ' +
            'Defer it (queueMicrotask, setImmediate) and return from the callback first.',
          { registrationId: this.id },
        ),
      );
    }
    if (this.#state !== 'registered') {
      // ASSUMPTION (docs/reference/documented-vs-inferred.md#cm-second-unregister, as the simulator): a second unregister is reported as CR_INVALID_POINTER
      // without calling CM (the HCMNOTIFICATION may already be freed and reused).
      return Promise.reject(
        configRetError('CM_Unregister_Notification', CONFIGRET.CR_INVALID_POINTER, {
          target: this.id,
          detail: 'this registration was already unregistered; unregister each HCMNOTIFICATION exactly once',
        }),
      );
    }
    this.#state = 'unregistering';
    return this.#api.CM_Unregister_NotificationAsync(this.#handle).then((cr) => {
      if (cr !== CONFIGRET.CR_SUCCESS) {
        // Still registered as far as we know: keep the callback slot alive (CM may still call it).
        this.#state = 'registered';
        throw configRetError('CM_Unregister_Notification', cr, { target: this.id });
      }
      this.#state = 'unregistered';
      // Only now: CM_Unregister_Notification has returned, so no callback can be in flight (docs/reference/configuration-manager.md#koffi-callbacks).
      this.#api.unregisterCallback(this.#callback);
      this.#onGone(this);
    });
  }
}

/**
 * The real {@link UsbFnPort}. Create with {@link Win32UsbFnPort.create}; dispose with {@link close}
 * (or `await using`).
 *
 * @example
 * await using port = await Win32UsbFnPort.create();
 * const links = await listInterfaces(port, { interfaceClassGuid: '{...}' });
 * const file = await port.open(links[0]!);
 */
export class Win32UsbFnPort implements UsbFnPort, AsyncDisposable {
  readonly clock: Clock;
  readonly #api: Win32Api;
  readonly #io: CompletionPort;
  readonly #shareMode: number;
  readonly #onListenerError: (err: unknown, registrationId: string) => void;
  readonly #onDiagnostic: (diagnostic: Win32PortDiagnostic) => void;
  readonly #files = new Set<Win32UsbFnFile>();
  readonly #registrations = new Set<Win32CmRegistration>();
  #closed = false;

  private constructor(api: Win32Api, io: CompletionPort, options: Win32UsbFnPortOptions, clock: Clock, onDiagnostic: (d: Win32PortDiagnostic) => void) {
    this.#api = api;
    this.#onDiagnostic = onDiagnostic;
    this.#io = io;
    this.clock = clock;
    this.#shareMode = options.shareMode ?? 0;
    this.#onListenerError =
      options.onListenerError ??
      ((err) => {
        setImmediate(() => {
          throw err;
        });
      });
  }

  /**
   * Loads the Win32 bindings (koffi, lazily) and creates the I/O completion port.
   * @throws UsageError WIN32_UNAVAILABLE on a non-Windows machine (run the device side on the Windows device,
   * or use mode `sim`); KOFFI_UNAVAILABLE without koffi's native part; WIN32_X64_ONLY on a 32-bit process;
   * Win32Error (api `CreateIoCompletionPort`).
   */
  static async create(options: Win32UsbFnPortOptions = {}): Promise<Win32UsbFnPort> {
    const api = options.api ?? (await loadWin32Bindings());
    if (api.pointerSize !== 8) {
      throw new UsageError(
        'WIN32_X64_ONLY',
        'Win32UsbFnPort supports 64-bit Windows processes only (x64/ARM64): the CM_NOTIFY_FILTER encoder writes an ' +
          '8-byte HANDLE. Install the x64 (or ARM64) build of Node.js on the device.',
      );
    }
    const clock = options.clock ?? new RealClock();
    const onDiagnostic = options.onDiagnostic ?? emitDiagnosticWarning;
    const io = CompletionPort.create(api, {
      ...options.completionPort,
      clock: options.completionPort?.clock ?? clock,
      onDiagnostic: options.completionPort?.onDiagnostic ?? onDiagnostic,
    });
    return new Win32UsbFnPort(api, io, options, clock, onDiagnostic);
  }

  // --- CM_Get_Device_Interface_List(_Size)W ---------------------------------------------------------

  /**
   * CM_Get_Device_Interface_List_SizeW → WCHARs needed, including the final extra NUL (≥ 1).
   * @throws ConfigRetError (api `CM_Get_Device_Interface_List_SizeW`), e.g. CR_INVALID_DATA; AbiDecodeError for a malformed GUID.
   */
  async getInterfaceListSize(query: InterfaceListQuery): Promise<number> {
    this.#assertOpen('getInterfaceListSize');
    const guid = encodeGuid(query.interfaceClassGuid);
    const length: [number] = [0];
    const cr = await this.#api.CM_Get_Device_Interface_List_SizeWAsync(
      length,
      guid,
      query.deviceInstanceId ?? null,
      query.flags ?? CM_GET_DEVICE_INTERFACE_LIST_PRESENT,
    );
    if (cr !== CONFIGRET.CR_SUCCESS) {
      throw configRetError('CM_Get_Device_Interface_List_SizeW', cr, { target: query.interfaceClassGuid });
    }
    return length[0];
  }

  /**
   * CM_Get_Device_Interface_ListW into `bufferChars` WCHARs; resolves with the raw REG_MULTI_SZ bytes.
   * @throws ConfigRetError CR_BUFFER_SMALL when the list grew since the size query (the caller loops:
   * device-side `listInterfaces`); other ConfigRetErrors as returned.
   */
  async getInterfaceList(query: InterfaceListQuery, bufferChars: number): Promise<Uint8Array> {
    this.#assertOpen('getInterfaceList');
    if (!Number.isInteger(bufferChars) || bufferChars < 1 || bufferChars > 0xffff_ffff) {
      throw new UsageError(
        'INVALID_ARGUMENT',
        `getInterfaceList: bufferChars must be a positive integer count of WCHARs (got ${bufferChars}); pass the value getInterfaceListSize returned.`,
      );
    }
    const guid = encodeGuid(query.interfaceClassGuid);
    const buffer = new Uint8Array(bufferChars * 2);
    const cr = await this.#api.CM_Get_Device_Interface_ListWAsync(
      guid,
      query.deviceInstanceId ?? null,
      buffer,
      bufferChars,
      query.flags ?? CM_GET_DEVICE_INTERFACE_LIST_PRESENT,
    );
    if (cr !== CONFIGRET.CR_SUCCESS) {
      throw configRetError('CM_Get_Device_Interface_ListW', cr, { target: query.interfaceClassGuid });
    }
    return buffer;
  }

  // --- CM_Register_Notification ---------------------------------------------------------------------

  /**
   * CM_Register_Notification(CM_NOTIFY_FILTER_TYPE_DEVICEINTERFACE, interfaceClassGuid).
   * @throws ConfigRetError (api `CM_Register_Notification`); AbiDecodeError for a malformed GUID.
   */
  watchInterfaces(interfaceClassGuid: GuidString, listener: CmNotifyListener): Promise<CmRegistration> {
    return this.#register({ type: 'deviceInterface', classGuid: interfaceClassGuid }, `interface ${interfaceClassGuid}`, listener);
  }

  /**
   * CM_Register_Notification(CM_NOTIFY_FILTER_TYPE_DEVICEHANDLE, the handle behind `file`).
   * @throws UsageError INVALID_ARGUMENT when `file` is not an open handle of this port; ConfigRetError.
   */
  watchHandle(file: UsbFnFile, listener: CmNotifyListener): Promise<CmRegistration> {
    if (!(file instanceof Win32UsbFnFile) || !this.#files.has(file)) {
      return Promise.reject(
        new UsageError(
          'INVALID_ARGUMENT',
          `watchHandle(${file.symbolicLink}): the file was not opened by this Win32UsbFnPort (or is closed); pass a file returned by this port's open().`,
        ),
      );
    }
    return this.#register({ type: 'deviceHandle', hTarget: file.handle }, `handle ${file.symbolicLink}`, listener);
  }

  /**
   * CM_Register_Notification(CM_NOTIFY_FILTER_TYPE_DEVICEINSTANCE, deviceInstanceId).
   * @throws ConfigRetError; UsageError ABI_ENCODE for an empty or too long instance ID.
   */
  watchInstance(deviceInstanceId: string, listener: CmNotifyListener): Promise<CmRegistration> {
    return this.#register({ type: 'deviceInstance', instanceId: deviceInstanceId }, `instance ${deviceInstanceId}`, listener);
  }

  async #register(filter: CmNotifyFilter, label: string, listener: CmNotifyListener): Promise<CmRegistration> {
    this.#assertOpen('CM_Register_Notification');
    const api = this.#api;
    const filterBytes = encodeCmNotifyFilter(filter);
    const reg = new Win32CmRegistration(api, label, (r) => this.#registrations.delete(r));
    const onError = this.#onListenerError;
    const onDiagnostic = this.#onDiagnostic;
    // Runs on the JS main thread (koffi queues calls from the CM worker thread); the CM thread waits for
    // the DWORD we return.
    const callback = api.registerCmNotifyCallback((_hNotify, _context, action, eventData, eventDataSize) => {
      reg.inCallback++;
      try {
        const data = eventData === null || eventDataSize === 0 ? new Uint8Array(0) : api.readBytes(eventData, eventDataSize);
        const result: unknown = listener(action, data);
        if (isThenable(result)) {
          // CM reads the answer when the callback returns: a Promise's value can never be a veto. It is
          // explicitly "allow" (ERROR_SUCCESS), reported once, and its rejection goes to onListenerError.
          if (!reg.reportedThenable) {
            reg.reportedThenable = true;
            onDiagnostic({ kind: 'asyncListener', registrationId: reg.id, action });
          }
          Promise.resolve(result).catch((err: unknown) => onError(err, reg.id));
          return 0;
        }
        return typeof result === 'number' ? result >>> 0 : 0;
      } catch (err) {
        onError(err, reg.id);
        return 0; // ERROR_SUCCESS: never veto because a listener crashed
      } finally {
        reg.inCallback--;
      }
    });
    const out: [bigint | null] = [null];
    let cr: number;
    try {
      // On a worker thread (koffi `.async`): the main thread stays free for callbacks of other registrations.
      cr = await api.CM_Register_NotificationAsync(filterBytes, null, callback, out);
    } catch (err) {
      api.unregisterCallback(callback);
      throw err;
    }
    if (cr !== CONFIGRET.CR_SUCCESS || out[0] === null || out[0] === 0n) {
      api.unregisterCallback(callback); // not registered: CM will never call it
      const missing = api.missingExports.includes('CM_Register_Notification');
      throw configRetError('CM_Register_Notification', cr === CONFIGRET.CR_SUCCESS ? CONFIGRET.CR_FAILURE : cr, {
        target: label,
        detail: missing
          ? 'CfgMgr32.dll has no CM_Register_Notification export (it needs Windows 8 or later; Wine 8.0 lacks it), so no call was made. Run on a Windows device.'
          : cr === CONFIGRET.CR_SUCCESS
            ? 'CR_SUCCESS but no HCMNOTIFICATION was returned'
            : undefined,
      });
    }
    reg.bind(out[0], callback);
    this.#registrations.add(reg);
    if (this.#closed) {
      // close() ran while the call was on its worker thread: it could not see this registration.
      await reg.unregister();
      this.#assertOpen('CM_Register_Notification');
    }
    return reg;
  }

  // --- CreateFileW ------------------------------------------------------------------------------------

  /**
   * CreateFileW(symbolicLink, GENERIC_READ|GENERIC_WRITE, shareMode (0), NULL, OPEN_EXISTING,
   * FILE_FLAG_OVERLAPPED, NULL), then association with the completion port.
   * @throws Win32Error (api `CreateFileW`, target = the symbolic link): ERROR_FILE_NOT_FOUND (2) /
   * ERROR_PATH_NOT_FOUND (3) for a missing interface, ERROR_ACCESS_DENIED (5), ERROR_SHARING_VIOLATION (32).
   */
  async open(symbolicLink: string): Promise<UsbFnFile> {
    this.#assertOpen('open');
    const api = this.#api;
    const h = api.CreateFileW(
      symbolicLink,
      GENERIC_READ | GENERIC_WRITE,
      this.#shareMode,
      null,
      OPEN_EXISTING,
      FILE_FLAG_OVERLAPPED,
      null,
    );
    if (isInvalidHandle(h, api.pointerSize)) {
      throw win32Error('CreateFileW', api.GetLastError(), { target: symbolicLink });
    }
    const handle = h as Win32Handle;
    let io: OverlappedHandle;
    try {
      io = this.#io.attach(handle, symbolicLink);
    } catch (err) {
      api.CloseHandle(handle);
      throw err;
    }
    const file = new Win32UsbFnFile(symbolicLink, io, (f) => this.#files.delete(f));
    this.#files.add(file);
    return file;
  }

  // --- lifetime ---------------------------------------------------------------------------------------

  /** Files opened by this port and not closed yet. */
  get openFiles(): readonly Win32UsbFnFile[] {
    return [...this.#files];
  }

  /**
   * Orderly shutdown: closes every open file (cancelling its I/O), unregisters every notification, closes
   * the completion port. Idempotent. Errors are collected and rethrown as one AggregateError after everything
   * was attempted.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const errors: unknown[] = [];
    const results = await Promise.allSettled([
      ...[...this.#files].map((f) => f.close()),
      ...[...this.#registrations].filter((r) => r.isActive).map((r) => r.unregister()),
    ]);
    for (const r of results) if (r.status === 'rejected') errors.push(r.reason);
    try {
      await this.#io.close();
    } catch (err) {
      errors.push(err);
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `Win32UsbFnPort.close(): ${errors.length} failures`);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #assertOpen(what: string): void {
    if (this.#closed) {
      throw new UsageError('PORT_CLOSED', `${what}: this Win32UsbFnPort was closed; create a new one with Win32UsbFnPort.create().`);
    }
  }
}
