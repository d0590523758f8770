/**
 * Win32 error values (winerror.h) and NTSTATUS values (ntstatus.h) a GenericUSBFn.sys client meets,
 * with the RtlNtStatusToDosError mapping the I/O manager applies when an overlapped request completes.
 *
 * @see docs/reference/errors.md#win32-errors (values and the source of each mapping)
 * @see https://learn.microsoft.com/windows/win32/debug/system-error-codes
 */
import { Win32Error } from '../../core/index.js';
import { ioctlName } from './ioctl-codes.js';

/** Win32 error values by name (winerror.h). Every row of docs/reference/errors.md#win32-errors. */
export const WIN32_ERROR = {
  ERROR_SUCCESS: 0,
  ERROR_INVALID_FUNCTION: 1,
  ERROR_FILE_NOT_FOUND: 2,
  ERROR_PATH_NOT_FOUND: 3,
  ERROR_ACCESS_DENIED: 5,
  ERROR_INVALID_HANDLE: 6,
  ERROR_NOT_ENOUGH_MEMORY: 8,
  ERROR_NOT_READY: 21,
  ERROR_BAD_COMMAND: 22,
  ERROR_BAD_LENGTH: 24,
  ERROR_GEN_FAILURE: 31,
  ERROR_SHARING_VIOLATION: 32,
  ERROR_NOT_SUPPORTED: 50,
  ERROR_DEV_NOT_EXIST: 55,
  ERROR_INVALID_PARAMETER: 87,
  ERROR_SEM_TIMEOUT: 121,
  ERROR_INSUFFICIENT_BUFFER: 122,
  ERROR_BUSY: 170,
  ERROR_MORE_DATA: 234,
  WAIT_TIMEOUT: 258,
  ERROR_MR_MID_NOT_FOUND: 317,
  ERROR_NO_SUCH_DEVICE: 433,
  ERROR_OPERATION_ABORTED: 995,
  ERROR_IO_INCOMPLETE: 996,
  ERROR_IO_PENDING: 997,
  ERROR_DEVICE_NOT_CONNECTED: 1167,
  ERROR_NOT_FOUND: 1168,
  ERROR_CANCELLED: 1223,
  ERROR_NO_SYSTEM_RESOURCES: 1450,
  ERROR_TIMEOUT: 1460,
  ERROR_DEVICE_REMOVED: 1617,
  ERROR_INVALID_USER_BUFFER: 1784,
} as const;

/** A name of {@link WIN32_ERROR}. */
export type Win32ErrorName = keyof typeof WIN32_ERROR;

/** NTSTATUS values by name (ntstatus.h), as unsigned 32-bit numbers. Every NTSTATUS of docs/reference/errors.md#win32-errors. */
export const NTSTATUS = {
  STATUS_SUCCESS: 0x00000000,
  STATUS_PENDING: 0x00000103,
  STATUS_BUFFER_OVERFLOW: 0x80000005,
  STATUS_DEVICE_BUSY: 0x80000011,
  STATUS_UNSUCCESSFUL: 0xc0000001,
  STATUS_INFO_LENGTH_MISMATCH: 0xc0000004,
  STATUS_INVALID_HANDLE: 0xc0000008,
  STATUS_INVALID_PARAMETER: 0xc000000d,
  STATUS_NO_SUCH_DEVICE: 0xc000000e,
  STATUS_INVALID_DEVICE_REQUEST: 0xc0000010,
  STATUS_ACCESS_DENIED: 0xc0000022,
  STATUS_BUFFER_TOO_SMALL: 0xc0000023,
  STATUS_OBJECT_NAME_NOT_FOUND: 0xc0000034,
  STATUS_SHARING_VIOLATION: 0xc0000043,
  STATUS_DELETE_PENDING: 0xc0000056,
  STATUS_INSUFFICIENT_RESOURCES: 0xc000009a,
  STATUS_DEVICE_NOT_CONNECTED: 0xc000009d,
  STATUS_DEVICE_NOT_READY: 0xc00000a3,
  STATUS_IO_TIMEOUT: 0xc00000b5,
  STATUS_NOT_SUPPORTED: 0xc00000bb,
  STATUS_DEVICE_DOES_NOT_EXIST: 0xc00000c0,
  STATUS_CANCELLED: 0xc0000120,
  STATUS_INVALID_DEVICE_STATE: 0xc0000184,
  STATUS_INVALID_BUFFER_SIZE: 0xc0000206,
  STATUS_DEVICE_REMOVED: 0xc00002b6,
} as const;

/** A name of {@link NTSTATUS}. */
export type NtStatusName = keyof typeof NTSTATUS;

const W = WIN32_ERROR;

/**
 * RtlNtStatusToDosError for the rows of docs/reference/errors.md#ntstatus-to-win32 (expectations of Wine's
 * dlls/ntdll/tests/error.c, checked on Windows, unless noted).
 * STATUS_NO_SUCH_DEVICE → ERROR_FILE_NOT_FOUND (2) per that test; Wine 8.0's ntdll returned
 * ERROR_NO_SUCH_DEVICE (433) instead (docs/reference/errors.md#no-such-device: unresolved, accept both).
 */
const NTSTATUS_TO_WIN32: ReadonlyMap<number, number> = new Map<number, number>([
  [NTSTATUS.STATUS_SUCCESS, W.ERROR_SUCCESS],
  [NTSTATUS.STATUS_PENDING, W.ERROR_IO_PENDING],
  [NTSTATUS.STATUS_BUFFER_OVERFLOW, W.ERROR_MORE_DATA],
  [NTSTATUS.STATUS_DEVICE_BUSY, W.ERROR_BUSY],
  [NTSTATUS.STATUS_UNSUCCESSFUL, W.ERROR_GEN_FAILURE],
  [NTSTATUS.STATUS_INFO_LENGTH_MISMATCH, W.ERROR_BAD_LENGTH],
  [NTSTATUS.STATUS_INVALID_HANDLE, W.ERROR_INVALID_HANDLE],
  [NTSTATUS.STATUS_INVALID_PARAMETER, W.ERROR_INVALID_PARAMETER],
  [NTSTATUS.STATUS_NO_SUCH_DEVICE, W.ERROR_FILE_NOT_FOUND],
  [NTSTATUS.STATUS_INVALID_DEVICE_REQUEST, W.ERROR_INVALID_FUNCTION],
  [NTSTATUS.STATUS_ACCESS_DENIED, W.ERROR_ACCESS_DENIED],
  [NTSTATUS.STATUS_BUFFER_TOO_SMALL, W.ERROR_INSUFFICIENT_BUFFER],
  [NTSTATUS.STATUS_OBJECT_NAME_NOT_FOUND, W.ERROR_FILE_NOT_FOUND],
  [NTSTATUS.STATUS_SHARING_VIOLATION, W.ERROR_SHARING_VIOLATION],
  [NTSTATUS.STATUS_DELETE_PENDING, W.ERROR_ACCESS_DENIED],
  [NTSTATUS.STATUS_INSUFFICIENT_RESOURCES, W.ERROR_NO_SYSTEM_RESOURCES],
  [NTSTATUS.STATUS_DEVICE_NOT_CONNECTED, W.ERROR_DEVICE_NOT_CONNECTED],
  [NTSTATUS.STATUS_DEVICE_NOT_READY, W.ERROR_NOT_READY],
  [NTSTATUS.STATUS_IO_TIMEOUT, W.ERROR_SEM_TIMEOUT],
  [NTSTATUS.STATUS_NOT_SUPPORTED, W.ERROR_NOT_SUPPORTED],
  [NTSTATUS.STATUS_DEVICE_DOES_NOT_EXIST, W.ERROR_DEV_NOT_EXIST],
  [NTSTATUS.STATUS_CANCELLED, W.ERROR_OPERATION_ABORTED],
  // Single source: observed in Wine 8.0's ntdll only (docs/reference/errors.md#win32-errors).
  [NTSTATUS.STATUS_INVALID_DEVICE_STATE, W.ERROR_BAD_COMMAND],
  [NTSTATUS.STATUS_INVALID_BUFFER_SIZE, W.ERROR_INVALID_USER_BUFFER],
  [NTSTATUS.STATUS_DEVICE_REMOVED, W.ERROR_DEVICE_REMOVED],
]);

/**
 * Win32 errors that RtlNtStatusToDosError produces from an NT **warning** status (severity 2, 0x8xxxxxxx) of
 * the table above: ERROR_MORE_DATA (STATUS_BUFFER_OVERFLOW) and ERROR_BUSY (STATUS_DEVICE_BUSY). An overlapped
 * request that fails synchronously with a warning still queues a completion packet (the I/O manager
 * suppresses the packet only for NT errors), so its OVERLAPPED must stay valid until that packet arrives.
 * @see docs/win32-backend.md#synchronous-failures
 */
export const WIN32_ERRORS_FROM_NT_WARNINGS: ReadonlySet<number> = new Set(
  [...NTSTATUS_TO_WIN32].filter(([status]) => (status & 0xc0000000) >>> 0 === 0x80000000).map(([, win32]) => win32),
);

const WIN32_NAME_BY_VALUE: ReadonlyMap<number, string> = new Map(
  Object.entries(WIN32_ERROR).map(([name, value]) => [value, name] as const),
);
const NTSTATUS_NAME_BY_VALUE: ReadonlyMap<number, string> = new Map(
  Object.entries(NTSTATUS).map(([name, value]) => [value, name] as const),
);

/** FACILITY_NTWIN32 NTSTATUS values (0xC007xxxx) carry a Win32 error in their low 16 bits. */
const FACILITY_NTWIN32_ERROR = 0xc0070000;

/**
 * The winerror.h name of a Win32 error value, or `UNKNOWN_WIN32_ERROR` if it is not in {@link WIN32_ERROR}.
 * @example win32ErrorName(31) // 'ERROR_GEN_FAILURE'
 */
export function win32ErrorName(value: number): string {
  return WIN32_NAME_BY_VALUE.get(value) ?? 'UNKNOWN_WIN32_ERROR';
}

/** The ntstatus.h name of an NTSTATUS (signed or unsigned form accepted), or `UNKNOWN_NTSTATUS`. */
export function ntStatusName(status: number): string {
  return NTSTATUS_NAME_BY_VALUE.get(status >>> 0) ?? 'UNKNOWN_NTSTATUS';
}

/**
 * RtlNtStatusToDosError for the statuses of docs/reference/errors.md#ntstatus-to-win32: the Win32 error GetOverlappedResult reports
 * for a request the driver completed with `status`. Accepts the signed (`-1073741536`) or unsigned
 * (`0xC0000120`) form. FACILITY_NTWIN32 statuses map to their low word; any other unknown status maps to
 * ERROR_MR_MID_NOT_FOUND (317), as Windows does.
 *
 * @note STATUS_NO_SUCH_DEVICE → ERROR_FILE_NOT_FOUND (2) per Wine's Windows-checked test; Wine's ntdll gives
 * ERROR_NO_SUCH_DEVICE (433). Code that checks for a vanished device should accept both (`isGone` does).
 * @see https://learn.microsoft.com/windows/win32/api/winternl/nf-winternl-rtlntstatustodoserror
 */
export function ntStatusToWin32(status: number): number {
  const s = status >>> 0;
  const mapped = NTSTATUS_TO_WIN32.get(s);
  if (mapped !== undefined) return mapped;
  if ((s & 0xffff0000) >>> 0 === FACILITY_NTWIN32_ERROR) return s & 0xffff;
  return W.ERROR_MR_MID_NOT_FOUND;
}

/** Default "why / how to fix" text for the errors a client most often meets (docs/architecture.md#error-model). */
const WIN32_HINT: Readonly<Partial<Record<Win32ErrorName, string>>> = {
  ERROR_INVALID_FUNCTION: 'the driver does not know this IOCTL code; check the code against genericusbfnioctl.h',
  ERROR_FILE_NOT_FOUND: 'the device interface is gone (removed or never arrived); wait for its arrival again',
  ERROR_ACCESS_DENIED: 'the handle lacks GENERIC_READ|GENERIC_WRITE, or the device is being removed',
  ERROR_INVALID_HANDLE: 'the handle is closed; reopen the device interface',
  ERROR_BAD_COMMAND:
    'the driver queue is not usable in this state (before UsbfnEventConfigured or after a reset/detach purge); wait for Configured',
  ERROR_GEN_FAILURE: 'the driver failed the request without a specific reason',
  ERROR_INVALID_PARAMETER: 'wrong pipe id, buffer size or direction for this IOCTL; check GET_CLASS_INFO',
  ERROR_INSUFFICIENT_BUFFER: 'the output buffer is too small; retry with the size the driver reported',
  ERROR_OPERATION_ABORTED:
    'the request was cancelled (CancelIoEx, handle close, or a bus reset/detach/unconfigure purged the queue)',
  ERROR_DEVICE_REMOVED: 'the device was removed; close the handle and wait for the interface to arrive again',
  ERROR_NOT_SUPPORTED: 'the driver does not support this request',
};

/** Extra context for {@link win32Error}. */
export interface Win32ErrorExtra {
  /** IOCTL name, or its numeric code (resolved with {@link ioctlName}). */
  readonly ioctl?: string | number | undefined;
  /** Short context shown in the message, e.g. `pipe 1`. */
  readonly target?: string | undefined;
  /** Why it failed and how to fix it; defaults to a stock hint for well-known errors. */
  readonly detail?: string | undefined;
  readonly cause?: unknown;
}

/**
 * Builds the harness {@link Win32Error} for `api` failing with `win32`, resolving the name from
 * {@link WIN32_ERROR} and, for a numeric `ioctl`, the IOCTL name.
 * @example throw win32Error('DeviceIoControl', 31, { ioctl: IOCTL_GENERICUSBFN_TRANSFER_IN, target: 'pipe 1' })
 */
export function win32Error(api: string, win32: number, extra: Win32ErrorExtra = {}): Win32Error {
  const win32Name = win32ErrorName(win32);
  const ioctl = typeof extra.ioctl === 'number' ? ioctlName(extra.ioctl) : extra.ioctl;
  const detail = extra.detail ?? WIN32_HINT[win32Name as Win32ErrorName];
  return new Win32Error(
    { api, win32, win32Name, ioctl, target: extra.target, detail },
    extra.cause === undefined ? undefined : { cause: extra.cause },
  );
}
