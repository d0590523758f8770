/**
 * The error model shared by every layer (STYLE.md §5).
 *
 * This file is a **leaf**: it imports nothing, so device-side and host-side may import it without
 * depending on the rest of the harness (the one exception to the one-way import rule, enforced in
 * eslint.config.js). Every error carries a stable `code`, plain-data fields and `toJSON()`, so it
 * survives vitest worker serialization, the lab agent wire and the Allure report, and is rebuilt into
 * the same class by {@link errorFromJSON}.
 */

/** Plain-data fields an error may carry: JSON-safe values only. */
export type ErrorData = Record<string, string | number | boolean | null | undefined | readonly (string | number)[]>;

/** The serialized shape of every {@link HarnessError}. */
export interface HarnessErrorJSON {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly data: ErrorData;
  readonly cause?: HarnessErrorJSON | { name: string; message: string } | undefined;
}

/**
 * Base of every typed error. `code` is stable and drives Allure categories through the bracketed
 * message prefix (`[WIN32 ERROR_GEN_FAILURE(31)] ...`).
 */
export class HarnessError extends Error {
  override readonly name: string = 'HarnessError';
  readonly code: string;
  readonly data: ErrorData;

  constructor(code: string, message: string, data: ErrorData = {}, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.data = data;
  }

  toJSON(): HarnessErrorJSON {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      data: this.data,
      cause: serializeCause(this.cause),
    };
  }
}

function serializeCause(cause: unknown): HarnessErrorJSON['cause'] {
  if (cause === undefined || cause === null) return undefined;
  if (cause instanceof HarnessError) return cause.toJSON();
  if (cause instanceof Error) return { name: cause.name, message: cause.message };
  return { name: 'unknown', message: String(cause) };
}

// ---------------------------------------------------------------------------------------------
// Win32 (kernel32 / DeviceIoControl) and CONFIGRET (cfgmgr32) failures.
// The name tables live in device-side/abi; the caller passes the resolved name so this file stays a leaf.

export interface Win32ErrorFields {
  /** The Win32 API that failed, e.g. `DeviceIoControl`, `CreateFileW`, `GetOverlappedResult`. */
  readonly api: string;
  /** Win32 error value (GetLastError / the completed OVERLAPPED's status mapped to Win32). */
  readonly win32: number;
  /** Name from reference §4, e.g. `ERROR_GEN_FAILURE`; `UNKNOWN_WIN32_ERROR` if not in the table. */
  readonly win32Name: string;
  /** The IOCTL name when `api` is DeviceIoControl, e.g. `IOCTL_GENERICUSBFN_TRANSFER_OUT`. */
  readonly ioctl?: string | undefined;
  /** Short context shown in the message, e.g. `pipe 1` or a symbolic link. */
  readonly target?: string | undefined;
  /** Why it failed and how to fix it, shown after the call. */
  readonly detail?: string | undefined;
}

/**
 * A Win32 call failed. `[WIN32 ERROR_GEN_FAILURE(31)] DeviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipe 1) failed: ...`
 */
export class Win32Error extends HarnessError {
  override readonly name = 'Win32Error';
  readonly api: string;
  readonly win32: number;
  readonly win32Name: string;
  readonly ioctl: string | undefined;
  readonly target: string | undefined;

  constructor(fields: Win32ErrorFields, options?: { cause?: unknown }) {
    const call = [fields.ioctl, fields.target].filter((s) => s !== undefined && s !== '').join(', ');
    super(
      'WIN32',
      `[WIN32 ${fields.win32Name}(${fields.win32})] ${fields.api}(${call}) failed` +
        (fields.detail ? `: ${fields.detail}` : ''),
      {
        api: fields.api,
        win32: fields.win32,
        win32Name: fields.win32Name,
        ioctl: fields.ioctl,
        target: fields.target,
        detail: fields.detail,
      },
      options,
    );
    this.api = fields.api;
    this.win32 = fields.win32;
    this.win32Name = fields.win32Name;
    this.ioctl = fields.ioctl;
    this.target = fields.target;
  }
}

export interface ConfigRetErrorFields {
  /** The cfgmgr32 function, e.g. `CM_Register_Notification`. */
  readonly api: string;
  /** The CONFIGRET value (CM_* functions return it; they do not use GetLastError). */
  readonly cr: number;
  /** Name from cfgmgr32.h, e.g. `CR_BUFFER_SMALL`. */
  readonly crName: string;
  readonly target?: string | undefined;
  readonly detail?: string | undefined;
}

/** A cfgmgr32 call returned a CONFIGRET other than CR_SUCCESS. `[CONFIGRET CR_BUFFER_SMALL(26)] ...` */
export class ConfigRetError extends HarnessError {
  override readonly name = 'ConfigRetError';
  readonly api: string;
  readonly cr: number;
  readonly crName: string;

  constructor(fields: ConfigRetErrorFields, options?: { cause?: unknown }) {
    super(
      'CONFIGRET',
      `[CONFIGRET ${fields.crName}(${fields.cr})] ${fields.api}(${fields.target ?? ''}) failed` +
        (fields.detail ? `: ${fields.detail}` : ''),
      { api: fields.api, cr: fields.cr, crName: fields.crName, target: fields.target, detail: fields.detail },
      options,
    );
    this.api = fields.api;
    this.cr = fields.cr;
    this.crName = fields.crName;
  }
}

// ---------------------------------------------------------------------------------------------
// libusb failures (host side).

export interface LibusbErrorFields {
  /** Our operation, e.g. `bulkIn`, `controlOut`, `open`, `claimInterface`. */
  readonly op: string;
  /** Endpoint address (0x81) for transfers; absent for device-level calls. */
  readonly endpoint?: number | undefined;
  /** libusb error number: a negative `LIBUSB_ERROR_*` or a positive `LIBUSB_TRANSFER_*` status. */
  readonly errno: number;
  /** `LIBUSB_ERROR_TIMEOUT`, `LIBUSB_TRANSFER_TIMED_OUT`, ... */
  readonly libusbName: string;
  /** Bytes moved before the failure (libusb reports actual_length on timeout and cancel). */
  readonly actualLength?: number | undefined;
  readonly detail?: string | undefined;
}

/** A libusb call or transfer failed. `[LIBUSB LIBUSB_ERROR_TIMEOUT(-7)] bulkIn(0x81) failed: ...` */
export class LibusbError extends HarnessError {
  override readonly name = 'LibusbError';
  readonly op: string;
  readonly endpoint: number | undefined;
  readonly errno: number;
  readonly libusbName: string;
  readonly actualLength: number | undefined;

  constructor(fields: LibusbErrorFields, options?: { cause?: unknown }) {
    const ep = fields.endpoint === undefined ? '' : `0x${fields.endpoint.toString(16).padStart(2, '0')}`;
    super(
      'LIBUSB',
      `[LIBUSB ${fields.libusbName}(${fields.errno})] ${fields.op}(${ep}) failed` +
        (fields.detail ? `: ${fields.detail}` : ''),
      {
        op: fields.op,
        endpoint: fields.endpoint,
        errno: fields.errno,
        libusbName: fields.libusbName,
        actualLength: fields.actualLength,
        detail: fields.detail,
      },
      options,
    );
    this.op = fields.op;
    this.endpoint = fields.endpoint;
    this.errno = fields.errno;
    this.libusbName = fields.libusbName;
    this.actualLength = fields.actualLength;
  }
}

// ---------------------------------------------------------------------------------------------
// Harness-level errors.

/**
 * Misuse of the simulator or a simulator bug (`SIM_*` codes). Never something the real driver could
 * return: a scenario that sees one has found a bug in the model or in how it drives the model.
 */
export class SimulatorError extends HarnessError {
  override readonly name = 'SimulatorError';
  constructor(code: `SIM_${string}`, message: string, data: ErrorData = {}, options?: { cause?: unknown }) {
    super(code, `[${code}] ${message}`, data, options);
  }
}

/** A wait ran out of time (`TIMEOUT`): the harness's own bounded waits, not a libusb timeout. */
export class TimeoutError extends HarnessError {
  override readonly name = 'TimeoutError';
  readonly timeoutMs: number;
  constructor(what: string, timeoutMs: number, detail?: string) {
    super('TIMEOUT', `[TIMEOUT] ${what} did not happen within ${timeoutMs} ms` + (detail ? `: ${detail}` : ''), {
      what,
      timeoutMs,
      detail,
    });
    this.timeoutMs = timeoutMs;
  }
}

/** A wait was abandoned because its AbortSignal fired (`ABORTED`). */
export class AbortedError extends HarnessError {
  override readonly name = 'AbortedError';
  constructor(what: string, reason?: unknown) {
    super('ABORTED', `[ABORTED] ${what} was aborted` + (reason instanceof Error ? `: ${reason.message}` : ''), {
      what,
    }, reason === undefined ? undefined : { cause: reason });
  }
}

/**
 * Bad input or configuration from the user (`INVALID_ARGUMENT`, `INVALID_CONFIG`, `DECODE`, ...).
 * The message says what was wrong and how to fix it.
 */
export class UsageError extends HarnessError {
  override readonly name = 'UsageError';
  constructor(code: string, message: string, data: ErrorData = {}, options?: { cause?: unknown }) {
    super(code, `[${code}] ${message}`, data, options);
  }
}

/** A scenario asked for something the current world (mode) cannot provide, e.g. `sim` in lab. */
export class ModeNotSupportedError extends HarnessError {
  override readonly name = 'ModeNotSupportedError';
  constructor(what: string, mode: string, fix: string) {
    super('MODE_NOT_SUPPORTED', `[MODE_NOT_SUPPORTED] ${what} is not available in mode '${mode}': ${fix}`, {
      what,
      mode,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Predicates that hide the difference between the two worlds (STYLE.md §5).

const TIMEOUT_NAMES = new Set(['LIBUSB_ERROR_TIMEOUT', 'LIBUSB_TRANSFER_TIMED_OUT', 'ERROR_SEM_TIMEOUT', 'ERROR_TIMEOUT']);
const STALL_NAMES = new Set(['LIBUSB_ERROR_PIPE', 'LIBUSB_TRANSFER_STALL']);
const GONE_NAMES = new Set([
  'LIBUSB_ERROR_NO_DEVICE',
  'LIBUSB_TRANSFER_NO_DEVICE',
  'ERROR_DEVICE_REMOVED',
  'ERROR_DEVICE_NOT_CONNECTED',
  'ERROR_DEV_NOT_EXIST',
  'ERROR_FILE_NOT_FOUND',
  // CreateFileW of a vanished device path may report the path rather than the file (UsbFnPort.open docs).
  'ERROR_PATH_NOT_FOUND',
  'ERROR_NO_SUCH_DEVICE',
  'CR_NO_SUCH_DEVINST',
  'CR_NO_SUCH_DEVICE_INTERFACE',
]);
const CANCELLED_NAMES = new Set(['ERROR_OPERATION_ABORTED', 'LIBUSB_TRANSFER_CANCELLED', 'LIBUSB_ERROR_INTERRUPTED']);

function specName(err: unknown): string | undefined {
  if (err instanceof Win32Error) return err.win32Name;
  if (err instanceof LibusbError) return err.libusbName;
  if (err instanceof ConfigRetError) return err.crName;
  return undefined;
}

/** A wait or transfer ran out of time, in either world. */
export function isTimeout(err: unknown): boolean {
  if (err instanceof TimeoutError) return true;
  const name = specName(err);
  return name !== undefined && TIMEOUT_NAMES.has(name);
}

/** The endpoint answered STALL (for APIs that reject rather than return `status: 'stall'`). */
export function isStall(err: unknown): boolean {
  const name = specName(err);
  return name !== undefined && STALL_NAMES.has(name);
}

/** The device, interface or handle is gone (unplugged, removed, surprise-removed). */
export function isGone(err: unknown): boolean {
  const name = specName(err);
  return name !== undefined && GONE_NAMES.has(name);
}

/** The operation was cancelled (CancelIoEx, handle close, purge on reset/detach, libusb cancel, abort). */
export function isCancelled(err: unknown): boolean {
  if (err instanceof AbortedError) return true;
  const name = specName(err);
  return name !== undefined && CANCELLED_NAMES.has(name);
}

// ---------------------------------------------------------------------------------------------
// Rebuilding errors that crossed a wire (agent RPC, worker boundary).

/** Rebuilds a serialized error into the same class, keeping code, fields and cause chain. */
export function errorFromJSON(json: HarnessErrorJSON): HarnessError {
  const d = json.data;
  const cause =
    json.cause === undefined
      ? undefined
      : 'code' in json.cause
        ? errorFromJSON(json.cause)
        : Object.assign(new Error(json.cause.message), { name: json.cause.name });
  const opts = cause === undefined ? undefined : { cause };
  let err: HarnessError;
  switch (json.name) {
    case 'Win32Error':
      err = new Win32Error(
        {
          api: String(d['api']),
          win32: Number(d['win32']),
          win32Name: String(d['win32Name']),
          ioctl: optString(d['ioctl']),
          target: optString(d['target']),
          detail: optString(d['detail']),
        },
        opts,
      );
      break;
    case 'ConfigRetError':
      err = new ConfigRetError(
        {
          api: String(d['api']),
          cr: Number(d['cr']),
          crName: String(d['crName']),
          target: optString(d['target']),
          detail: optString(d['detail']),
        },
        opts,
      );
      break;
    case 'LibusbError':
      err = new LibusbError(
        {
          op: String(d['op']),
          endpoint: d['endpoint'] === undefined || d['endpoint'] === null ? undefined : Number(d['endpoint']),
          errno: Number(d['errno']),
          libusbName: String(d['libusbName']),
          actualLength:
            d['actualLength'] === undefined || d['actualLength'] === null ? undefined : Number(d['actualLength']),
          detail: optString(d['detail']),
        },
        opts,
      );
      break;
    case 'TimeoutError':
      err = new TimeoutError(String(d['what']), Number(d['timeoutMs']), optString(d['detail']));
      break;
    default:
      err = new HarnessError(json.code, json.message, d, opts);
      break;
  }
  if (err.message !== json.message) Object.defineProperty(err, 'message', { value: json.message });
  return err;
}

function optString(v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : String(v);
}
