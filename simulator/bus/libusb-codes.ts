/**
 * libusb names and numbers the virtual host reports, verbatim from libusb.h (`enum libusb_error`,
 * `enum libusb_transfer_status`). host-side/node-usb/libusb-error.ts holds the same table for the real
 * backend; the simulator may not import a real backend (eslint.config.js), so the few values it needs are
 * repeated here and the contract suite (host-side/usb-host.contract.ts) checks both give the same names.
 */
import { LibusbError } from '../../harness/errors.js';

export const LIBUSB_ERROR = {
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
  LIBUSB_ERROR_OTHER: -99,
} as const;
export type LibusbErrorName = keyof typeof LIBUSB_ERROR;

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

/** Builds the {@link LibusbError} for a libusb name, with the value from the tables above. */
export function libusbError(
  op: string,
  name: LibusbErrorName | LibusbTransferName,
  detail: string,
  endpoint?: number,
  actualLength?: number,
  cause?: unknown,
): LibusbError {
  const errno = name in LIBUSB_ERROR ? LIBUSB_ERROR[name as LibusbErrorName] : LIBUSB_TRANSFER[name as LibusbTransferName];
  return new LibusbError({ op, endpoint, errno, libusbName: name, actualLength, detail }, cause === undefined ? undefined : { cause });
}
