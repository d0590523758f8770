/**
 * `FakeUsbFnPort` / `FakeUsbFnFile`: a scripted {@link UsbFnPort} for unit tests of code above the seam
 * (UsbFnClient, listInterfaces, the service). Not a model of the driver — that is the simulator's
 * `SimUsbFnPort` — but strict about the buffers: every IOCTL is checked against the buffer rules of
 * `IOCTL_TABLE` (docs/reference/ioctls.md#summary) and recorded with a copy of its input, its output buffer and its size.
 *
 * Scripting: queue responses per IOCTL code with {@link FakeUsbFnFile.respond} (consumed in order), or set a
 * handler with {@link FakeUsbFnFile.onIoctl}; a `pending` response stays outstanding until the test settles
 * it through the recorded {@link FakeIoctlCall}, aborts it (→ CancelIoEx → ERROR_OPERATION_ABORTED) or
 * closes the file (→ ERROR_OPERATION_ABORTED, IRP_MJ_CLEANUP). An unscripted IOCTL fails with a clear error.
 *
 * Order checks: {@link FakeUsbFnPort.calls} names every Win32/cfgmgr32 call in call order, the IOCTLs of the
 * files it opens included, and an `unregister()` made from inside that registration's own callback fails
 * (CM_Unregister_Notification deadlocks there on Windows) and is counted in {@link FakeUsbFnPort.unregisterInCallback}.
 */
import { RealClock, type Clock, HarnessError } from '../../core/index.js';
import {
  CONFIGRET,
  WIN32_ERROR,
  configRetError,
  encodeMultiSz,
  ioctlInfo,
  ioctlName,
  multiSzChars,
  win32Error,
  type IoctlBufferRule,
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

/** How a scripted IOCTL ends. */
export type FakeIoctlResponse =
  /** Copies `bytes` (if any) into the output buffer and resolves with `bytesReturned` (default `bytes.length`, else 0). */
  | { readonly complete: true; readonly bytes?: Uint8Array | undefined; readonly bytesReturned?: number | undefined }
  /** Copies `bytes` (if any) into the output buffer (e.g. Size on ERROR_INSUFFICIENT_BUFFER), then fails with `win32`. */
  | { readonly fail: number; readonly bytes?: Uint8Array | undefined; readonly detail?: string | undefined }
  /** Stays outstanding until settled through the {@link FakeIoctlCall}, aborted or closed. */
  | { readonly pending: true };

/** A handler computing a response from the call (for data-dependent answers). */
export type FakeIoctlHandler = (call: FakeIoctlCall) => FakeIoctlResponse;

/** State of one recorded IOCTL. */
export type FakeIoctlState = 'pending' | 'completed' | 'failed' | 'cancelled';

/** One DeviceIoControl the code under test made. */
export class FakeIoctlCall {
  readonly code: number;
  readonly name: string;
  /** A copy of lpInBuffer at call time (the I/O manager copies it too), or null. */
  readonly input: Uint8Array | null;
  /** lpOutBuffer itself (not a copy), or null. */
  readonly output: Uint8Array | null;
  /** nOutBufferSize. */
  readonly outputBytes: number;
  readonly target: string | undefined;
  readonly signal: AbortSignal | undefined;
  state: FakeIoctlState = 'pending';
  /** lpBytesReturned once completed. */
  bytesReturned: number | undefined;
  /** The Win32 error value once failed or cancelled. */
  win32: number | undefined;
  readonly #resolve: (n: number) => void;
  readonly #reject: (e: unknown) => void;
  readonly #onSettle: () => void;

  /** @internal */
  constructor(
    code: number,
    input: Uint8Array | null,
    output: Uint8Array | null,
    options: IoctlOptions | undefined,
    resolve: (n: number) => void,
    reject: (e: unknown) => void,
    onSettle: () => void,
  ) {
    this.code = code;
    this.name = ioctlName(code);
    this.input = input === null ? null : input.slice();
    this.output = output;
    this.outputBytes = output?.length ?? 0;
    this.target = options?.target;
    this.signal = options?.signal;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#onSettle = onSettle;
  }

  /** Completes a pending call: copies `bytes` into the output buffer, resolves with `bytesReturned`. */
  complete(bytes?: Uint8Array, bytesReturned?: number): void {
    this.#requirePending('complete');
    if (bytes !== undefined) this.#write(bytes);
    this.state = 'completed';
    this.bytesReturned = bytesReturned ?? bytes?.length ?? 0;
    this.#onSettle();
    this.#resolve(this.bytesReturned);
  }

  /** Fails a pending call with a Win32 error (after copying `bytes` into the output buffer, if given). */
  fail(win32: number, bytes?: Uint8Array, detail?: string, state: 'failed' | 'cancelled' = 'failed'): void {
    this.#requirePending('fail');
    if (bytes !== undefined) this.#write(bytes);
    this.state = state;
    this.win32 = win32;
    this.#onSettle();
    this.#reject(win32Error('DeviceIoControl', win32, { ioctl: this.name, target: this.target, detail }));
  }

  #write(bytes: Uint8Array): void {
    if (this.output === null || bytes.length > this.output.length) {
      throw new HarnessError('FAKE_SCRIPT', `[FAKE_SCRIPT] ${this.name}: ${bytes.length} scripted bytes do not fit the ${this.outputBytes}-byte output buffer`);
    }
    this.output.set(bytes);
  }

  #requirePending(what: string): void {
    if (this.state !== 'pending') {
      throw new HarnessError('FAKE_SCRIPT', `[FAKE_SCRIPT] ${this.name}: cannot ${what} a call that is already ${this.state}`);
    }
  }
}

function ruleViolation(rule: IoctlBufferRule, buf: Uint8Array | null): string | undefined {
  const len = buf?.length ?? 0;
  switch (rule.kind) {
    case 'none':
      return buf === null || len === 0 ? undefined : `expected no buffer, got ${len} bytes`;
    case 'exact':
      return len === rule.bytes ? undefined : `expected exactly ${rule.bytes} bytes (${rule.struct}), got ${len}`;
    case 'atLeast':
      return len >= rule.bytes ? undefined : `expected at least ${rule.bytes} bytes (${rule.struct}), got ${len}`;
    case 'any':
      return undefined;
  }
}

/** A scripted open handle. */
export class FakeUsbFnFile implements UsbFnFile {
  readonly symbolicLink: string;
  #open = true;
  /** Every IOCTL made on this handle, in call order. */
  readonly calls: FakeIoctlCall[] = [];
  /** How many requests were cancelled through their AbortSignal (the port's CancelIoEx path). */
  cancelIoExCount = 0;
  /** Where this file names its calls (IOCTL names, `CloseHandle`); {@link FakeUsbFnPort.open} sets its own. */
  journal: string[] | undefined;
  readonly #queued = new Map<number, FakeIoctlResponse[]>();
  readonly #handlers = new Map<number, FakeIoctlHandler>();
  readonly #pending = new Set<FakeIoctlCall>();

  constructor(symbolicLink = '\\\\?\\USBFN#FAKE#1#{00000000-0000-0000-0000-000000000000}') {
    this.symbolicLink = symbolicLink;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** Queues responses for `code`, consumed one per call in order (before any handler). */
  respond(code: number, ...responses: FakeIoctlResponse[]): this {
    const q = this.#queued.get(code) ?? [];
    q.push(...responses);
    this.#queued.set(code, q);
    return this;
  }

  /** Sets the handler for `code` used when no queued response is left. */
  onIoctl(code: number, handler: FakeIoctlHandler): this {
    this.#handlers.set(code, handler);
    return this;
  }

  /** Calls still pending, optionally only those of `code`, in call order. */
  pending(code?: number): FakeIoctlCall[] {
    return this.calls.filter((c) => c.state === 'pending' && (code === undefined || c.code === code));
  }

  /** Calls of `code`, in call order. */
  callsOf(code: number): FakeIoctlCall[] {
    return this.calls.filter((c) => c.code === code);
  }

  ioctl(code: number, input: Uint8Array | null, output: Uint8Array | null, options?: IoctlOptions): Promise<number> {
    if (!this.#open) {
      return Promise.reject(win32Error('DeviceIoControl', WIN32_ERROR.ERROR_INVALID_HANDLE, { ioctl: code, target: options?.target }));
    }
    let call!: FakeIoctlCall;
    const promise = new Promise<number>((resolve, reject) => {
      call = new FakeIoctlCall(code, input, output, options, resolve, reject, () => {
        this.#pending.delete(call);
        options?.signal?.removeEventListener('abort', onAbort);
      });
    });
    const onAbort = (): void => {
      if (call.state !== 'pending') return;
      this.cancelIoExCount++;
      call.fail(WIN32_ERROR.ERROR_OPERATION_ABORTED, undefined, 'cancelled (CancelIoEx)', 'cancelled');
    };
    this.calls.push(call);
    this.journal?.push(call.name);
    this.#pending.add(call);
    const info = ioctlInfo(code);
    if (info === undefined) {
      call.fail(WIN32_ERROR.ERROR_INVALID_FUNCTION, undefined, 'FakeUsbFnFile: not a GenericUSBFn IOCTL');
      return promise;
    }
    const bad = ruleViolation(info.input, input) ?? ruleViolation(info.output, output);
    if (bad !== undefined) {
      const which = ruleViolation(info.input, input) !== undefined ? 'input' : 'output';
      call.fail(WIN32_ERROR.ERROR_INVALID_PARAMETER, undefined, `FakeUsbFnFile: ${which} buffer ${bad}`);
      return promise;
    }
    if (options?.signal?.aborted) {
      onAbort();
      return promise;
    }
    options?.signal?.addEventListener('abort', onAbort, { once: true });
    const response = this.#queued.get(code)?.shift() ?? this.#handlers.get(code)?.(call);
    if (response === undefined) {
      call.fail(WIN32_ERROR.ERROR_GEN_FAILURE, undefined, `FakeUsbFnFile: no response scripted for ${call.name}; use respond() or onIoctl()`);
    } else if ('complete' in response) {
      call.complete(response.bytes, response.bytesReturned);
    } else if ('fail' in response) {
      call.fail(response.fail, response.bytes, response.detail);
    }
    return promise;
  }

  /** CloseHandle: pending requests fail with ERROR_OPERATION_ABORTED (IRP_MJ_CLEANUP); later ones with ERROR_INVALID_HANDLE. */
  async close(): Promise<void> {
    if (!this.#open) return;
    this.journal?.push('CloseHandle');
    this.#open = false;
    for (const c of [...this.#pending]) c.fail(WIN32_ERROR.ERROR_OPERATION_ABORTED, undefined, 'handle closed', 'cancelled');
  }
}

/** CM_NOTIFY_FILTER_TYPE_* names for {@link FakeUsbFnPort.calls}. */
const FILTER_NAMES = { deviceInterface: 'DEVICEINTERFACE', deviceHandle: 'DEVICEHANDLE', deviceInstance: 'DEVICEINSTANCE' } as const;

/** A scripted Configuration Manager + CreateFileW. */
export class FakeUsbFnPort implements UsbFnPort {
  readonly clock: Clock;
  /** Symbolic links CM reports for every query (tests mutate it). */
  interfaces: string[] = [];
  /** Called after each CM_Get_Device_Interface_List_SizeW (e.g. to make the list grow before the list call). */
  onSizeQuery: ((callIndex: number) => void) | undefined;
  /** Counters of the CM list calls. */
  sizeQueries = 0;
  listCalls = 0;
  /** Files handed out by {@link open}, in order. */
  readonly files: FakeUsbFnFile[] = [];
  /** Files {@link open} returns next (else a new FakeUsbFnFile). */
  readonly nextFiles: FakeUsbFnFile[] = [];
  /**
   * Every call in call order: `CM_Get_Device_Interface_List_SizeW`, `CM_Get_Device_Interface_ListW`,
   * `CM_Register_Notification(DEVICEINTERFACE|DEVICEHANDLE|DEVICEINSTANCE)`, `CM_Unregister_Notification(<id>)`,
   * `CreateFileW`, and the IOCTL names and `CloseHandle` of the files it opened.
   */
  readonly calls: string[] = [];
  /** unregister() calls made from inside that registration's own callback (each one rejected). */
  unregisterInCallback = 0;
  readonly #failures = new Map<string, number[]>();
  readonly #listeners = new Map<string, { kind: string; key: string; listener: CmNotifyListener }>();
  /** Registrations whose callback is running now. */
  readonly #inCallback = new Set<string>();
  #nextId = 1;

  constructor(options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? new RealClock();
  }

  /** Makes the next call of `api` return CONFIGRET `cr` (CM_*) or fail with Win32 `cr` (CreateFileW). */
  failNext(api: 'CM_Get_Device_Interface_List_SizeW' | 'CM_Get_Device_Interface_ListW' | 'CM_Register_Notification' | 'CreateFileW', code: number): this {
    const q = this.#failures.get(api) ?? [];
    q.push(code);
    this.#failures.set(api, q);
    return this;
  }

  #failure(api: string): number | undefined {
    return this.#failures.get(api)?.shift();
  }

  async getInterfaceListSize(query: InterfaceListQuery): Promise<number> {
    this.calls.push('CM_Get_Device_Interface_List_SizeW');
    const cr = this.#failure('CM_Get_Device_Interface_List_SizeW');
    if (cr !== undefined) throw configRetError('CM_Get_Device_Interface_List_SizeW', cr, { target: query.interfaceClassGuid });
    const chars = multiSzChars(this.interfaces);
    const index = this.sizeQueries++;
    this.onSizeQuery?.(index);
    return chars;
  }

  async getInterfaceList(query: InterfaceListQuery, bufferChars: number): Promise<Uint8Array> {
    this.listCalls++;
    this.calls.push('CM_Get_Device_Interface_ListW');
    const cr = this.#failure('CM_Get_Device_Interface_ListW');
    if (cr !== undefined) throw configRetError('CM_Get_Device_Interface_ListW', cr, { target: query.interfaceClassGuid });
    if (multiSzChars(this.interfaces) > bufferChars) {
      throw configRetError('CM_Get_Device_Interface_ListW', CONFIGRET.CR_BUFFER_SMALL, { target: query.interfaceClassGuid });
    }
    const out = new Uint8Array(bufferChars * 2);
    out.set(encodeMultiSz(this.interfaces));
    return out;
  }

  #register(kind: 'deviceInterface' | 'deviceHandle' | 'deviceInstance', key: string, listener: CmNotifyListener): CmRegistration {
    this.calls.push(`CM_Register_Notification(${FILTER_NAMES[kind]})`);
    const cr = this.#failure('CM_Register_Notification');
    if (cr !== undefined) throw configRetError('CM_Register_Notification', cr, { target: key });
    const id = `fake-${this.#nextId++}`;
    this.#listeners.set(id, { kind, key, listener });
    return {
      id,
      unregister: async () => {
        this.calls.push(`CM_Unregister_Notification(${id})`);
        if (this.#inCallback.has(id)) {
          this.unregisterInCallback++;
          throw new HarnessError(
            'FAKE_UNREGISTER_IN_CALLBACK',
            `[FAKE_UNREGISTER_IN_CALLBACK] CM_Unregister_Notification(${id}) called from inside its own callback: this deadlocks on Windows; unregister from a deferred routine`,
          );
        }
        if (!this.#listeners.delete(id)) throw configRetError('CM_Unregister_Notification', CONFIGRET.CR_INVALID_POINTER, { target: id });
      },
    };
  }

  async watchInterfaces(interfaceClassGuid: GuidString, listener: CmNotifyListener): Promise<CmRegistration> {
    return this.#register('deviceInterface', interfaceClassGuid.toUpperCase(), listener);
  }

  async watchHandle(file: UsbFnFile, listener: CmNotifyListener): Promise<CmRegistration> {
    return this.#register('deviceHandle', file.symbolicLink, listener);
  }

  async watchInstance(deviceInstanceId: string, listener: CmNotifyListener): Promise<CmRegistration> {
    return this.#register('deviceInstance', deviceInstanceId, listener);
  }

  /**
   * Delivers a notification to every registration of `kind` (and `key`, if given), like CM's worker
   * thread would; returns the callbacks' results (ERROR_CANCELLED vetoes a query-remove).
   */
  notify(kind: 'deviceInterface' | 'deviceHandle' | 'deviceInstance', action: number, eventData: Uint8Array, key?: string): number[] {
    const results: number[] = [];
    for (const [id, r] of [...this.#listeners]) {
      if (r.kind !== kind || (key !== undefined && r.key !== key)) continue;
      this.#inCallback.add(id);
      try {
        results.push(r.listener(action, eventData));
      } finally {
        this.#inCallback.delete(id);
      }
    }
    return results;
  }

  /** Live registrations (for leak checks). */
  get registrations(): number {
    return this.#listeners.size;
  }

  async open(symbolicLink: string): Promise<UsbFnFile> {
    this.calls.push('CreateFileW');
    const err = this.#failure('CreateFileW');
    if (err !== undefined) throw win32Error('CreateFileW', err, { target: symbolicLink });
    const file = this.nextFiles.shift() ?? new FakeUsbFnFile(symbolicLink);
    file.journal ??= this.calls;
    this.files.push(file);
    return file;
  }
}
