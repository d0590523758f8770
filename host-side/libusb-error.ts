/**
 * libusb's error numbers and transfer statuses (libusb.h `enum libusb_error`, `enum libusb_transfer_status`)
 * and their mapping to {@link LibusbError}. Sync calls fail with a negative `LIBUSB_ERROR_*`; transfers
 * complete with a positive `LIBUSB_TRANSFER_*` status. node-usb surfaces both as `LibUSBException.errno`
 * (its `libusbException(env, errno)`), so the two tables never collide.
 *
 * @see https://libusb.sourceforge.io/api-1.0/group__libusb__misc.html
 * @see https://libusb.sourceforge.io/api-1.0/group__libusb__asyncio.html
 */
import { LibusbError } from '../core/index.js';
import type { UsbTransferStatus } from './usb-host.js';

/** `enum libusb_error` (negative; 0 = LIBUSB_SUCCESS). */
export const LIBUSB_ERROR = {
  LIBUSB_SUCCESS: 0,
  LIBUSB_ERROR_IO: -1,
  LIBUSB_ERROR_INVALID_PARAM: -2,
  LIBUSB_ERROR_ACCESS: -3,
  LIBUSB_ERROR_NO_DEVICE: -4,
  LIBUSB_ERROR_NOT_FOUND: -5,
  LIBUSB_ERROR_BUSY: -6,
  LIBUSB_ERROR_TIMEOUT: -7,
  LIBUSB_ERROR_OVERFLOW: -8,
  LIBUSB_ERROR_PIPE: -9,
  LIBUSB_ERROR_INTERRUPTED: -10,
  LIBUSB_ERROR_NO_MEM: -11,
  LIBUSB_ERROR_NOT_SUPPORTED: -12,
  LIBUSB_ERROR_OTHER: -99,
} as const;
export type LibusbErrorName = keyof typeof LIBUSB_ERROR;

/** `enum libusb_transfer_status` (0 = completed; the rest are failures). */
export const LIBUSB_TRANSFER = {
  LIBUSB_TRANSFER_COMPLETED: 0,
  LIBUSB_TRANSFER_ERROR: 1,
  LIBUSB_TRANSFER_TIMED_OUT: 2,
  LIBUSB_TRANSFER_CANCELLED: 3,
  LIBUSB_TRANSFER_STALL: 4,
  LIBUSB_TRANSFER_NO_DEVICE: 5,
  LIBUSB_TRANSFER_OVERFLOW: 6,
} as const;
export type LibusbTransferName = keyof typeof LIBUSB_TRANSFER;

const ERROR_NAMES = new Map<number, LibusbErrorName>(
  Object.entries(LIBUSB_ERROR).map(([k, v]) => [v, k as LibusbErrorName]),
);
const TRANSFER_NAMES = new Map<number, LibusbTransferName>(
  Object.entries(LIBUSB_TRANSFER).map(([k, v]) => [v, k as LibusbTransferName]),
);

/** Name for `errno`: `LIBUSB_ERROR_*` when ≤ 0, `LIBUSB_TRANSFER_*` when > 0, `LIBUSB_UNKNOWN(<n>)` otherwise. */
export function libusbName(errno: number): string {
  const name = errno > 0 ? TRANSFER_NAMES.get(errno) : ERROR_NAMES.get(errno);
  return name ?? `LIBUSB_UNKNOWN(${errno})`;
}

/** What went wrong and how to fix it, in plain words, per libusb name. */
const HINTS: Readonly<Record<string, string>> = {
  LIBUSB_ERROR_IO: 'input/output error on the USB link: check the cable and hub, then retry',
  LIBUSB_ERROR_INVALID_PARAM: 'libusb rejected a parameter: check the endpoint address, direction and length',
  LIBUSB_ERROR_ACCESS:
    'permission denied: on Linux install a udev rule for this VID:PID, on Windows bind WinUSB to the interface (run `usbfn-hil doctor`)',
  LIBUSB_ERROR_NO_DEVICE: 'the device is gone (unplugged, reset or re-enumerated): wait for it again and reopen',
  LIBUSB_ERROR_NOT_FOUND:
    'not found: claim the interface that owns this endpoint first, or the interface/endpoint does not exist in the active configuration',
  LIBUSB_ERROR_BUSY: 'the interface is held by another program or kernel driver: close the other program or let claimInterface detach the driver',
  LIBUSB_ERROR_TIMEOUT: 'the device did not complete the request within the timeout (it NAKed): check that the device side is running',
  LIBUSB_ERROR_OVERFLOW: 'the device sent more data than requested (babble)',
  LIBUSB_ERROR_PIPE: 'the endpoint stalled (the device rejected the request)',
  LIBUSB_ERROR_INTERRUPTED: 'the call was interrupted (cancelled or a signal arrived)',
  LIBUSB_ERROR_NO_MEM: 'libusb ran out of memory: reduce the transfer size or the number of queued transfers',
  LIBUSB_ERROR_NOT_SUPPORTED:
    'not supported on this platform or driver: on Windows the interface needs WinUSB (Zadig or MS OS 2.0 descriptors; run `usbfn-hil doctor`)',
  LIBUSB_ERROR_OTHER: 'libusb reported an unspecified error',
  LIBUSB_TRANSFER_ERROR: 'the transfer failed on the bus (CRC/bitstuff/protocol error or the host controller gave up)',
  LIBUSB_TRANSFER_TIMED_OUT: 'the transfer did not complete within its timeout (the device kept NAKing)',
  LIBUSB_TRANSFER_CANCELLED: 'the transfer was cancelled (abort signal, close or release)',
  LIBUSB_TRANSFER_STALL: 'the endpoint stalled: clear the halt (clearHalt) before the next transfer',
  LIBUSB_TRANSFER_NO_DEVICE: 'the device went away during the transfer',
  LIBUSB_TRANSFER_OVERFLOW: 'the device sent more data than the buffer holds (babble)',
};

export interface LibusbErrorOptions {
  readonly endpoint?: number | undefined;
  readonly actualLength?: number | undefined;
  /** Context first, then the built-in hint for the name follows. */
  readonly detail?: string | undefined;
  readonly cause?: unknown;
  /** The bytes a failed IN transfer received (kept on the error as `receivedData`, outside its JSON). */
  readonly receivedData?: Uint8Array | undefined;
}

/**
 * Builds the {@link LibusbError} for `op` failing with libusb `errno`.
 * @example libusbError('bulkIn', 2, { endpoint: 0x81, actualLength: 512 }) // LIBUSB_TRANSFER_TIMED_OUT
 */
export function libusbError(op: string, errno: number, options: LibusbErrorOptions = {}): LibusbError {
  const name = libusbName(errno);
  const hint = HINTS[name];
  const detail = [options.detail, hint].filter((s) => s !== undefined && s !== '').join('; ');
  return new LibusbError(
    {
      op,
      errno,
      libusbName: name,
      endpoint: options.endpoint,
      actualLength: options.actualLength,
      detail: detail === '' ? undefined : detail,
    },
    options.cause === undefined && options.receivedData === undefined ? undefined : { cause: options.cause, receivedData: options.receivedData },
  );
}

/** An error object that carries a libusb errno (node-usb's `LibUSBException`). */
export function hasLibusbErrno(err: unknown): err is Error & { errno: number } {
  return err instanceof Error && typeof (err as { errno?: unknown }).errno === 'number';
}

/**
 * Maps whatever node-usb threw or passed to a callback to a {@link LibusbError}: a `LibUSBException`
 * keeps its errno; anything else (node-usb's own `Error('Device is not open')`, a TypeError) becomes
 * LIBUSB_ERROR_OTHER with the original as `cause`. A LibusbError passes through unchanged.
 */
export function libusbErrorFrom(op: string, err: unknown, options: Omit<LibusbErrorOptions, 'cause'> = {}): LibusbError {
  if (err instanceof LibusbError) return err;
  if (hasLibusbErrno(err)) return libusbError(op, err.errno, { ...options, cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return libusbError(op, LIBUSB_ERROR.LIBUSB_ERROR_OTHER, {
    ...options,
    detail: [options.detail, `node-usb: ${message}`].filter((s) => s !== undefined).join('; '),
    cause: err,
  });
}

/**
 * The expected USB outcomes a transfer *resolves* with (docs/architecture.md#outcomes): STALL → `stall`, overflow →
 * `babble`; `undefined` for every other errno (those reject).
 */
export function transferStatusOf(errno: number): UsbTransferStatus | undefined {
  switch (errno) {
    case LIBUSB_TRANSFER.LIBUSB_TRANSFER_COMPLETED:
      return 'ok';
    case LIBUSB_TRANSFER.LIBUSB_TRANSFER_STALL:
    case LIBUSB_ERROR.LIBUSB_ERROR_PIPE:
      return 'stall';
    case LIBUSB_TRANSFER.LIBUSB_TRANSFER_OVERFLOW:
    case LIBUSB_ERROR.LIBUSB_ERROR_OVERFLOW:
      return 'babble';
    default:
      return undefined;
  }
}
