/**
 * libusb names the virtual host reports. The table itself is host-side's (host-side/libusb-error.ts, shared
 * with NodeUsbHost), so both backends give the same names and numbers; this file adds the by-name builder
 * the simulated link uses.
 */
import type { LibusbError } from '../../../core/index.js';
import {
  LIBUSB_ERROR,
  LIBUSB_TRANSFER,
  libusbError as libusbErrorFromErrno,
  type LibusbErrorName,
  type LibusbTransferName,
} from '../../../host-side/index.js';

export { LIBUSB_ERROR, LIBUSB_TRANSFER, type LibusbErrorName, type LibusbTransferName };

/** Builds the {@link LibusbError} for a libusb name, with the value from libusb.h. */
export function libusbError(
  op: string,
  name: LibusbErrorName | LibusbTransferName,
  detail: string,
  endpoint?: number,
  actualLength?: number,
  cause?: unknown,
): LibusbError {
  const errno = name in LIBUSB_ERROR ? LIBUSB_ERROR[name as LibusbErrorName] : LIBUSB_TRANSFER[name as LibusbTransferName];
  return libusbErrorFromErrno(op, errno, { endpoint, actualLength, detail, cause });
}
