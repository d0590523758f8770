/**
 * Predicates that hide the difference between the two worlds (a simulated driver and libusb replica, or the
 * real ones): scenarios ask "did it time out / stall / vanish / get cancelled", never for a message text.
 */
import { AbortedError, ConfigRetError, LibusbError, TimeoutError, Win32Error } from './errors.js';

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
