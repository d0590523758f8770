/**
 * The error model shared by every layer (docs/architecture.md#error-model).
 *
 * Part of the shared kernel (core/): every layer may import it. Every error carries a stable `code`, plain-data fields and `toJSON()`, so it
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
  // An error already turned into plain data (vitest replaces `cause` with its serialized form, which may
  // have no prototype, so String() would throw).
  const o = cause as { name?: unknown; message?: unknown };
  if (typeof o === 'object' && typeof o.message === 'string') return { name: typeof o.name === 'string' ? o.name : 'Error', message: o.message };
  let text: string;
  try {
    text = String(cause);
  } catch {
    text = Object.prototype.toString.call(cause);
  }
  return { name: 'unknown', message: text };
}

// ---------------------------------------------------------------------------------------------
// Win32 (kernel32 / DeviceIoControl) and CONFIGRET (cfgmgr32) failures.
// The name tables live in device-side/abi; the caller passes the resolved name so this file stays a leaf.

export interface Win32ErrorFields {
  /** The Win32 API that failed, e.g. `DeviceIoControl`, `CreateFileW`, `GetOverlappedResult`. */
  readonly api: string;
  /** Win32 error value (GetLastError / the completed OVERLAPPED's status mapped to Win32). */
  readonly win32: number;
  /** Name from docs/reference/errors.md#win32-errors, e.g. `ERROR_GEN_FAILURE`; `UNKNOWN_WIN32_ERROR` if not in the table. */
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
  /**
   * The bytes a bulk/interrupt IN received before it timed out or was cancelled (`actualLength` of them;
   * libusb keeps them valid). A view, not plain data: it is not part of `data` or `toJSON()`.
   */
  readonly receivedData: Uint8Array | undefined;

  constructor(fields: LibusbErrorFields, options?: { cause?: unknown; receivedData?: Uint8Array | undefined }) {
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
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.op = fields.op;
    this.endpoint = fields.endpoint;
    this.errno = fields.errno;
    this.libusbName = fields.libusbName;
    this.actualLength = fields.actualLength;
    this.receivedData = options?.receivedData;
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
