/**
 * The native boundary of the Win32 backend: the **only** module of the project that imports koffi, and it
 * does so lazily (`await import('koffi')`) inside {@link loadKoffi}, so importing this file (or anything
 * that imports it) never fails on a machine without koffi's native part (docs/architecture.md#import-rule).
 *
 * {@link loadWin32Bindings} loads kernel32.dll, ntdll.dll and CfgMgr32.dll and declares, with `__stdcall`
 * (ignored on x64/ARM64, required on x86; docs/reference/ioctls.md#opening-the-device), exactly the functions the backend uses.
 * Everything above this file sees plain typed functions on BigInt handles and native memory blocks.
 *
 * @see docs/reference/configuration-manager.md (cfgmgr32), docs/reference/ioctls.md#opening-the-device (kernel32),
 *   docs/reference/configuration-manager.md#koffi-callbacks (koffi notes)
 * @see https://koffi.dev/ (koffi 3.3.4: pointers are BigInt; `.async` runs on a worker thread)
 */
import { UsageError } from '../../core/index.js';
import { CONFIGRET } from '../abi/index.js';
import { expectedLayouts, type PointerSize } from './expected-layouts.js';
import { compareLayouts, declareStructs, fieldLayout, hostPointerSize, type Win32Structs } from './koffi-structs.js';

/** The koffi module's default export (type only; the value is loaded lazily). */
export type KoffiModule = (typeof import('koffi'))['default'];
/** A koffi type object (struct, union, array, primitive). */
export type KoffiType = import('koffi').TypeObject;

/**
 * A Win32 HANDLE as koffi 3 represents it: an untyped BigInt, branded (docs/architecture.md#naming). `0n` is NULL.
 * INVALID_HANDLE_VALUE is `(HANDLE)-1`: test it with {@link isInvalidHandle}.
 */
export type Win32Handle = bigint & { readonly __brand: 'Win32Handle' };

/**
 * A block of native (malloc'ed, never moved by the GC) memory: its address for Win32 calls and a
 * Uint8Array view onto it for JS. Overlapped I/O needs this: the OVERLAPPED and the data buffers must stay
 * at one address until the completion is observed (docs/reference/ioctls.md#overlapped-io).
 */
export interface NativeBlock {
  readonly address: bigint;
  /** A view onto the native memory (no copy); valid until {@link NativeMemory.free}. */
  readonly bytes: Uint8Array;
}

/** Allocates and frees {@link NativeBlock}s. */
export interface NativeMemory {
  alloc(size: number): NativeBlock;
  free(block: NativeBlock): void;
}

/** Offsets inside OVERLAPPED / OVERLAPPED_ENTRY the completion port reads (from the koffi declarations). */
export interface OverlappedLayout {
  readonly overlappedSize: number;
  readonly overlappedAlign: number;
  /** OVERLAPPED.Internal: the NTSTATUS of the completed request. */
  readonly internalOffset: number;
  /** OVERLAPPED.InternalHigh: bytes transferred. */
  readonly internalHighOffset: number;
  readonly entrySize: number;
  readonly entryKeyOffset: number;
  readonly entryOverlappedOffset: number;
  readonly entryBytesOffset: number;
}

/**
 * The slice of kernel32/ntdll the overlapped-I/O machinery ({@link CompletionPort}) needs. Split out so
 * the machinery is unit-tested on any OS against a scripted fake, and exercised for real under Wine.
 * BOOL results are numbers (0 = FALSE), exactly as koffi returns a C `int`.
 */
export interface OverlappedIoApi {
  readonly pointerSize: PointerSize;
  readonly memory: NativeMemory;
  readonly layout: OverlappedLayout;
  /** CreateIoCompletionPort(FileHandle, ExistingCompletionPort, CompletionKey, NumberOfConcurrentThreads) → port or NULL. */
  CreateIoCompletionPort(file: Win32Handle, existingPort: Win32Handle | null, key: bigint, threads: number): Win32Handle | null;
  /** DeviceIoControl(hDevice, dwIoControlCode, lpInBuffer, nInBufferSize, lpOutBuffer, nOutBufferSize, lpBytesReturned, lpOverlapped). */
  DeviceIoControl(
    handle: Win32Handle,
    code: number,
    inBuffer: bigint | null,
    inLength: number,
    outBuffer: bigint | null,
    outLength: number,
    bytesReturned: null,
    overlapped: bigint,
  ): number;
  /** CancelIoEx(hFile, lpOverlapped); NULL = every request of this process on the handle. */
  CancelIoEx(handle: Win32Handle, overlapped: bigint | null): number;
  CloseHandle(handle: Win32Handle): number;
  PostQueuedCompletionStatus(port: Win32Handle, bytes: number, key: bigint, overlapped: bigint | null): number;
  /** GetQueuedCompletionStatusEx, synchronous (only ever called with a 0 ms timeout on the main thread). */
  GetQueuedCompletionStatusEx(
    port: Win32Handle,
    entries: bigint,
    count: number,
    removed: bigint,
    timeoutMs: number,
    alertable: number,
  ): number;
  /** GetQueuedCompletionStatusEx through koffi `.async`: waits on a worker thread, never blocks the main thread. */
  GetQueuedCompletionStatusExAsync(
    port: Win32Handle,
    entries: bigint,
    count: number,
    removed: bigint,
    timeoutMs: number,
    alertable: number,
  ): Promise<number>;
  /** The calling thread's last error, as preserved by koffi across its calls (koffi saves it in the TEB). */
  GetLastError(): number;
  /** ntdll RtlNtStatusToDosError: the NTSTATUS in OVERLAPPED.Internal → the Win32 error GetOverlappedResult would report. */
  RtlNtStatusToDosError(status: number): number;
}

/** A PCM_NOTIFY_CALLBACK body: (hNotify, Context, Action, EventData, EventDataSize) → DWORD. */
export type CmNotifyCallback = (
  hNotify: bigint | null,
  context: bigint | null,
  action: number,
  eventData: bigint | null,
  eventDataSize: number,
) => number;

/**
 * Every Win32 function and helper {@link Win32UsbFnPort} uses (no koffi types: a scripted fake can
 * implement it for unit tests on any OS).
 */
export interface Win32Api extends OverlappedIoApi {
  /** INVALID_HANDLE_VALUE for this pointer size, as an unsigned BigInt. */
  readonly INVALID_HANDLE_VALUE: bigint;
  /**
   * Optional exports the loaded DLLs lack (Windows 8+ functions on an older system, or Wine 8.0, whose
   * CfgMgr32.dll has no CM_Register_Notification / CM_Unregister_Notification). Their bindings return
   * CR_CALL_NOT_IMPLEMENTED instead of calling anything.
   */
  readonly missingExports: readonly string[];
  /** CreateFileW(lpFileName, dwDesiredAccess, dwShareMode, lpSecurityAttributes, dwCreationDisposition, dwFlagsAndAttributes, hTemplateFile). */
  CreateFileW(
    name: string,
    access: number,
    share: number,
    securityAttributes: null,
    disposition: number,
    flagsAndAttributes: number,
    template: null,
  ): Win32Handle | null;
  /** CreateNamedPipeW (used by the Wine tier to get a real handle whose FSCTL_PIPE_LISTEN pends). */
  CreateNamedPipeW(
    name: string,
    openMode: number,
    pipeMode: number,
    maxInstances: number,
    outBufferSize: number,
    inBufferSize: number,
    defaultTimeoutMs: number,
    securityAttributes: null,
  ): Win32Handle | null;
  /**
   * CM_Register_Notification(pFilter, pContext, pCallback, pNotifyContext[out]) → CONFIGRET, through koffi
   * `.async` (on a worker thread). Not on the main thread: if cfgmgr32 serialized registration against a
   * callback in flight (undocumented), that callback would wait for the main thread while the main thread
   * waited in the call.
   */
  CM_Register_NotificationAsync(filter: Uint8Array, context: null, callback: bigint, notifyContext: [bigint | null]): Promise<number>;
  /**
   * CM_Unregister_Notification through koffi `.async` (on a worker thread). Never call it synchronously on
   * the main thread: it waits for in-flight callbacks, which koffi queues to the main thread → deadlock
   * (docs/reference/configuration-manager.md#unregister-rule, #koffi-callbacks).
   */
  CM_Unregister_NotificationAsync(notifyContext: bigint): Promise<number>;
  /** CM_Get_Device_Interface_List_SizeW(pulLen[out, WCHARs], InterfaceClassGuid, pDeviceID, ulFlags), `.async`. */
  CM_Get_Device_Interface_List_SizeWAsync(
    length: [number],
    interfaceClassGuid: Uint8Array,
    deviceId: string | null,
    flags: number,
  ): Promise<number>;
  /** CM_Get_Device_Interface_ListW(InterfaceClassGuid, pDeviceID, Buffer[out], BufferLen (WCHARs), ulFlags), `.async`. */
  CM_Get_Device_Interface_ListWAsync(
    interfaceClassGuid: Uint8Array,
    deviceId: string | null,
    buffer: Uint8Array,
    bufferChars: number,
    flags: number,
  ): Promise<number>;
  /**
   * koffi.register() of a PCM_NOTIFY_CALLBACK: a function pointer valid until {@link unregisterCallback}.
   * Called on a CM worker thread, the call is queued to the JS main thread and the native caller waits
   * for the return value (koffi "asynchronous callbacks"). A JS exception makes it return 0.
   */
  registerCmNotifyCallback(callback: CmNotifyCallback): bigint;
  /** koffi.unregister(): releases a callback slot (only after CM_Unregister_Notification has returned). */
  unregisterCallback(pointer: bigint): void;
  /** Copies `length` bytes at a native address into a new Uint8Array. */
  readBytes(address: bigint, length: number): Uint8Array;
}

/** {@link Win32Api} as loaded through koffi, plus the koffi module and the struct declarations. */
export interface Win32Bindings extends Win32Api {
  readonly koffi: KoffiModule;
  readonly structs: Win32Structs;
}

/**
 * Loads koffi lazily. Works on every OS koffi ships a binary for (Linux here, for the layout unit test).
 * @throws UsageError `KOFFI_UNAVAILABLE` when koffi's native part cannot be loaded.
 */
export async function loadKoffi(): Promise<KoffiModule> {
  try {
    const mod = await import('koffi');
    return mod.default;
  } catch (err) {
    throw new UsageError(
      'KOFFI_UNAVAILABLE',
      `koffi could not be loaded on ${process.platform}-${process.arch} (Node ${process.version}). ` +
        'Run `npm ci` on this machine so that the matching @koromix/koffi-<platform> binary package is installed.',
      { platform: process.platform, arch: process.arch },
      { cause: err },
    );
  }
}

let cached: Promise<Win32Bindings> | undefined;

/**
 * Loads kernel32.dll, ntdll.dll and CfgMgr32.dll through koffi and declares the functions of
 * {@link Win32Bindings}; checks every struct layout against docs/reference/structs.md (expected-layouts.ts) at startup. Cached: later
 * calls return the same bindings.
 *
 * @throws UsageError `WIN32_UNAVAILABLE` on a non-Windows platform; `KOFFI_UNAVAILABLE` without koffi's
 * native part; `WIN32_LAYOUT_MISMATCH` if a declared struct differs from the expected layout (a koffi or ABI bug).
 * @example
 * const w = await loadWin32Bindings();
 * const h = w.CreateFileW(link, GENERIC_READ | GENERIC_WRITE, 0, null, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, null);
 */
export function loadWin32Bindings(): Promise<Win32Bindings> {
  if (process.platform !== 'win32') {
    return Promise.reject(
      new UsageError(
        'WIN32_UNAVAILABLE',
        `the Win32 backend (Win32UsbFnPort: kernel32, CfgMgr32, GenericUSBFn.sys) cannot run on ${process.platform}. ` +
          "Run the device side on the Windows USB function device itself (lab mode), or use mode 'sim' here.",
        { platform: process.platform },
      ),
    );
  }
  cached ??= declareBindings().catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

async function declareBindings(): Promise<Win32Bindings> {
  const koffi = await loadKoffi();
  const pointerSize = hostPointerSize(koffi);
  const structs = declareStructs(koffi, pointerSize);
  const mismatches = compareLayouts(koffi, structs, expectedLayouts(pointerSize));
  if (mismatches.length > 0) {
    const list = mismatches.map((m) => `${m.struct} ${m.what}: expected ${m.expected}, got ${m.actual}`).join('; ');
    throw new UsageError(
      'WIN32_LAYOUT_MISMATCH',
      `koffi ${koffi.version} lays out ${mismatches.length} struct field(s) differently from docs/reference/structs.md: ${list}. ` +
        'Do not run the Win32 backend on this koffi/architecture; report it with this message.',
    );
  }

  const kernel32 = koffi.load('kernel32.dll');
  const ntdll = koffi.load('ntdll.dll');
  const cfgmgr32 = koffi.load('CfgMgr32.dll');
  const HANDLE = 'void *';
  const BOOL = 'int32';
  const DWORD = 'uint32';
  const CONFIGRET_T = 'uint32';
  const ULONG_PTR = pointerSize === 8 ? 'uint64' : 'uint32';
  const S = '__stdcall';

  const CreateFileW = kernel32.func(S, 'CreateFileW', HANDLE, ['str16', DWORD, DWORD, 'void *', DWORD, DWORD, HANDLE]);
  const CreateNamedPipeW = kernel32.func(S, 'CreateNamedPipeW', HANDLE, [
    'str16',
    DWORD,
    DWORD,
    DWORD,
    DWORD,
    DWORD,
    DWORD,
    'void *',
  ]);
  const DeviceIoControl = kernel32.func(S, 'DeviceIoControl', BOOL, [
    HANDLE,
    DWORD,
    'void *',
    DWORD,
    'void *',
    DWORD,
    'void *',
    'void *',
  ]);
  const CancelIoEx = kernel32.func(S, 'CancelIoEx', BOOL, [HANDLE, 'void *']);
  const CloseHandle = kernel32.func(S, 'CloseHandle', BOOL, [HANDLE]);
  const CreateIoCompletionPort = kernel32.func(S, 'CreateIoCompletionPort', HANDLE, [HANDLE, HANDLE, ULONG_PTR, DWORD]);
  const PostQueuedCompletionStatus = kernel32.func(S, 'PostQueuedCompletionStatus', BOOL, [
    HANDLE,
    DWORD,
    ULONG_PTR,
    'void *',
  ]);
  const GetQueuedCompletionStatusEx = kernel32.func(S, 'GetQueuedCompletionStatusEx', BOOL, [
    HANDLE,
    'void *', // LPOVERLAPPED_ENTRY (native memory)
    'uint32',
    'void *', // PULONG ulNumEntriesRemoved (native memory)
    DWORD,
    BOOL,
  ]);
  const GetLastError = kernel32.func(S, 'GetLastError', DWORD, []);
  const RtlNtStatusToDosError = ntdll.func(S, 'RtlNtStatusToDosError', 'uint32', ['uint32']);

  const missingExports: string[] = [];
  // CM_(Un)Register_Notification exist since Windows 8 (MS Learn CM_Register_Notification); Wine 8.0's CfgMgr32.dll lacks both.
  type TypeSpec = Parameters<KoffiModule['out']>[0];
  type Library = import('koffi').LibraryHandle;
  const optionalFunc = (lib: Library, name: string, result: TypeSpec, args: TypeSpec[]): ReturnType<Library['func']> | null => {
    try {
      return lib.func(S, name, result, args);
    } catch (err) {
      if (err instanceof Error && /Cannot find function/i.test(err.message)) {
        missingExports.push(name);
        return null;
      }
      throw err;
    }
  };

  const PCM_NOTIFY_CALLBACK = declareCmNotifyCallback(koffi);
  const CM_Register_Notification = optionalFunc(cfgmgr32, 'CM_Register_Notification', CONFIGRET_T, [
    'void *', // PCM_NOTIFY_FILTER (416 bytes encoded by device-side/abi)
    'void *',
    PCM_NOTIFY_CALLBACK,
    koffi.out(koffi.pointer(HANDLE)), // PHCMNOTIFICATION
  ]);
  const CM_Unregister_Notification = optionalFunc(cfgmgr32, 'CM_Unregister_Notification', CONFIGRET_T, [HANDLE]);
  const CM_Get_Device_Interface_List_SizeW = cfgmgr32.func(S, 'CM_Get_Device_Interface_List_SizeW', CONFIGRET_T, [
    koffi.out(koffi.pointer('uint32')),
    'void *', // LPGUID (16-byte wire GUID)
    'str16', // DEVINSTID_W or NULL
    'uint32',
  ]);
  const CM_Get_Device_Interface_ListW = cfgmgr32.func(S, 'CM_Get_Device_Interface_ListW', CONFIGRET_T, [
    'void *',
    'str16',
    'void *', // PZZWSTR Buffer (out)
    'uint32',
    'uint32',
  ]);

  const async = <T>(fn: { async: (...args: never[]) => void }, args: unknown[]): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      (fn.async as (...a: unknown[]) => void)(...args, (err: unknown, result: T) => {
        if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else resolve(result);
      });
    });

  const memory: NativeMemory = {
    alloc(size: number): NativeBlock {
      const n = Math.max(1, size);
      const address = koffi.alloc('uint8', n) as bigint;
      return { address, bytes: new Uint8Array(koffi.view(address, n)) };
    },
    free(block: NativeBlock): void {
      koffi.free(block.address);
    },
  };

  const ov = structs.OVERLAPPED;
  const entry = structs.OVERLAPPED_ENTRY;
  const layout: OverlappedLayout = {
    overlappedSize: koffi.sizeof(ov),
    overlappedAlign: koffi.alignof(ov),
    internalOffset: fieldLayout(koffi, ov, 'Internal').offset,
    internalHighOffset: fieldLayout(koffi, ov, 'InternalHigh').offset,
    entrySize: koffi.sizeof(entry),
    entryKeyOffset: fieldLayout(koffi, entry, 'lpCompletionKey').offset,
    entryOverlappedOffset: fieldLayout(koffi, entry, 'lpOverlapped').offset,
    entryBytesOffset: fieldLayout(koffi, entry, 'dwNumberOfBytesTransferred').offset,
  };

  return {
    koffi,
    structs,
    pointerSize,
    memory,
    layout,
    INVALID_HANDLE_VALUE: pointerSize === 8 ? 0xffff_ffff_ffff_ffffn : 0xffff_ffffn,
    CreateFileW,
    CreateNamedPipeW,
    DeviceIoControl,
    CancelIoEx,
    CloseHandle,
    CreateIoCompletionPort,
    PostQueuedCompletionStatus,
    GetQueuedCompletionStatusEx,
    GetQueuedCompletionStatusExAsync: (port, entries, count, removed, timeoutMs, alertable) =>
      async<number>(GetQueuedCompletionStatusEx, [port, entries, count, removed, timeoutMs, alertable]),
    GetLastError,
    RtlNtStatusToDosError,
    missingExports,
    CM_Register_NotificationAsync: (filter, context, callback, notifyContext) =>
      CM_Register_Notification === null
        ? Promise.resolve(CONFIGRET.CR_CALL_NOT_IMPLEMENTED)
        : async<number>(CM_Register_Notification, [filter, context, callback, notifyContext]),
    CM_Unregister_NotificationAsync: (notifyContext) =>
      CM_Unregister_Notification === null
        ? Promise.resolve(CONFIGRET.CR_CALL_NOT_IMPLEMENTED)
        : async<number>(CM_Unregister_Notification, [notifyContext]),
    CM_Get_Device_Interface_List_SizeWAsync: (length, guid, deviceId, flags) =>
      async<number>(CM_Get_Device_Interface_List_SizeW, [length, guid, deviceId, flags]),
    CM_Get_Device_Interface_ListWAsync: (guid, deviceId, buffer, bufferChars, flags) =>
      async<number>(CM_Get_Device_Interface_ListW, [guid, deviceId, buffer, bufferChars, flags]),
    registerCmNotifyCallback: (callback) => koffi.register(callback, PCM_NOTIFY_CALLBACK),
    unregisterCallback: (pointer) => koffi.unregister(pointer),
    readBytes: (address, length) => new Uint8Array(koffi.view(address, length)).slice(),
  };
}

/**
 * PCM_NOTIFY_CALLBACK: `DWORD __stdcall (HCMNOTIFICATION, PVOID Context, CM_NOTIFY_ACTION, PCM_NOTIFY_EVENT_DATA,
 * DWORD EventDataSize)`, as a pointer type for koffi.register. The prototype is **anonymous**: koffi's type
 * names are global, so a named one could not be declared again when a failed {@link loadWin32Bindings} is retried.
 */
export function declareCmNotifyCallback(koffi: KoffiModule): KoffiType {
  return koffi.pointer(koffi.proto('__stdcall', null, 'uint32', ['void *', 'void *', 'uint32', 'void *', 'uint32']));
}

/**
 * True for NULL and INVALID_HANDLE_VALUE in any of koffi's representations (`null`, `0n`, `-1n`,
 * all-ones unsigned) — CreateFileW and CreateNamedPipeW fail with INVALID_HANDLE_VALUE, CreateIoCompletionPort
 * with NULL (docs/reference/configuration-manager.md#koffi-callbacks).
 */
export function isInvalidHandle(handle: bigint | null, pointerSize: PointerSize): boolean {
  if (handle === null || handle === 0n || handle === -1n) return true;
  return handle === (pointerSize === 8 ? 0xffff_ffff_ffff_ffffn : 0xffff_ffffn);
}
