/**
 * The `status` of `USBIP_RET_SUBMIT` / `USBIP_RET_UNLINK`: a negative Linux errno, as `urb->status` is on
 * the exporting host. Both directions of the mapping live here:
 *
 * - server: a {@link UsbHost} outcome → status, as a Linux host controller reports it (stall → -EPIPE,
 *   babble → -EOVERFLOW, device gone → -ENODEV, unlinked → -ECONNRESET, timeout → -ETIMEDOUT);
 * - client: status → libusb outcome, as libusb's Linux backend reads `urb->status` from usbfs (-EPIPE →
 *   LIBUSB_TRANSFER_STALL, -EOVERFLOW → LIBUSB_TRANSFER_OVERFLOW, -ENODEV/-ESHUTDOWN →
 *   LIBUSB_TRANSFER_NO_DEVICE, -ECONNRESET/-ENOENT → cancelled, -EREMOTEIO → a short transfer, completed).
 *
 * @see https://docs.kernel.org/driver-api/usb/error-codes.html (what each errno means for a URB)
 */
import { LibusbError, TimeoutError } from '../../core/index.js';
import type { LibusbErrorName, LibusbTransferName } from '../libusb-error.js';

/** Linux errno values used as URB statuses (include/uapi/asm-generic/errno-base.h, errno.h). */
export const LINUX_ERRNO = {
  ENOENT: 2,
  EIO: 5,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EXDEV: 18,
  ENODEV: 19,
  EINVAL: 22,
  EPIPE: 32,
  ETIME: 62,
  ENOSR: 63,
  ECOMM: 70,
  EPROTO: 71,
  EOVERFLOW: 75,
  EILSEQ: 84,
  EOPNOTSUPP: 95,
  ECONNRESET: 104,
  ESHUTDOWN: 108,
  ETIMEDOUT: 110,
  EINPROGRESS: 115,
  EREMOTEIO: 121,
} as const;
export type LinuxErrnoName = keyof typeof LINUX_ERRNO;

const NAMES = new Map<number, LinuxErrnoName>(Object.entries(LINUX_ERRNO).map(([k, v]) => [v, k as LinuxErrnoName]));

/** `-EPIPE(-32)` for -32, `0` for 0, the bare number for a value that is no negative errno of the table. */
export function describeUsbIpStatus(status: number): string {
  const name = status < 0 ? NAMES.get(-status) : undefined;
  return name === undefined ? String(status) : `-${name}(${status})`;
}

/** The status for an errno name: `usbipStatus('EPIPE')` → -32. */
export function usbipStatus(name: LinuxErrnoName): number {
  return -LINUX_ERRNO[name];
}

/** Which errno a libusb name becomes on the wire. */
const STATUS_OF_LIBUSB: Readonly<Record<string, LinuxErrnoName>> = {
  LIBUSB_TRANSFER_STALL: 'EPIPE',
  LIBUSB_ERROR_PIPE: 'EPIPE',
  LIBUSB_TRANSFER_OVERFLOW: 'EOVERFLOW',
  LIBUSB_ERROR_OVERFLOW: 'EOVERFLOW',
  LIBUSB_TRANSFER_NO_DEVICE: 'ENODEV',
  LIBUSB_ERROR_NO_DEVICE: 'ENODEV',
  LIBUSB_TRANSFER_CANCELLED: 'ECONNRESET',
  LIBUSB_ERROR_INTERRUPTED: 'ECONNRESET',
  LIBUSB_TRANSFER_TIMED_OUT: 'ETIMEDOUT',
  LIBUSB_ERROR_TIMEOUT: 'ETIMEDOUT',
  LIBUSB_ERROR_NOT_FOUND: 'ENOENT',
  LIBUSB_ERROR_BUSY: 'EBUSY',
  LIBUSB_ERROR_INVALID_PARAM: 'EINVAL',
  LIBUSB_ERROR_ACCESS: 'EACCES',
  LIBUSB_ERROR_NO_MEM: 'ENOMEM',
  LIBUSB_ERROR_NOT_SUPPORTED: 'EOPNOTSUPP',
  LIBUSB_ERROR_IO: 'EPROTO',
  LIBUSB_TRANSFER_ERROR: 'EPROTO',
};

/**
 * Server side: the status a failed {@link UsbHost} call is reported with. A {@link LibusbError} maps by its
 * libusb name (table above); a harness {@link TimeoutError} is -ETIMEDOUT; anything else -EIO.
 */
export function usbipStatusOfError(err: unknown): number {
  if (err instanceof LibusbError) return usbipStatus(STATUS_OF_LIBUSB[err.libusbName] ?? 'EIO');
  if (err instanceof TimeoutError) return usbipStatus('ETIMEDOUT');
  return usbipStatus('EIO');
}

/** Server side: the status of a transfer that resolved (a stall and a babble resolve, STYLE §8.4). */
export function usbipStatusOfResult(status: 'ok' | 'stall' | 'babble'): number {
  return status === 'ok' ? 0 : status === 'stall' ? usbipStatus('EPIPE') : usbipStatus('EOVERFLOW');
}

/** Client side: what a RET_SUBMIT status means for a transfer. */
export type UsbIpTransferOutcome =
  | { readonly kind: 'resolved'; readonly status: 'ok' | 'stall' | 'babble' }
  | { readonly kind: 'rejected'; readonly name: LibusbTransferName };

/**
 * Client side, transfers: libusb's reading of `urb->status` (its Linux backend). -EREMOTEIO (a short packet
 * with URB_SHORT_NOT_OK) still completes: libusb reports the bytes that arrived.
 */
export function transferOutcomeOfStatus(status: number): UsbIpTransferOutcome {
  switch (-status) {
    case 0:
    case LINUX_ERRNO.EREMOTEIO:
      return { kind: 'resolved', status: 'ok' };
    case LINUX_ERRNO.EPIPE:
      return { kind: 'resolved', status: 'stall' };
    case LINUX_ERRNO.EOVERFLOW:
      return { kind: 'resolved', status: 'babble' };
    case LINUX_ERRNO.ENODEV:
    case LINUX_ERRNO.ESHUTDOWN:
      return { kind: 'rejected', name: 'LIBUSB_TRANSFER_NO_DEVICE' };
    case LINUX_ERRNO.ECONNRESET:
    case LINUX_ERRNO.ENOENT:
      return { kind: 'rejected', name: 'LIBUSB_TRANSFER_CANCELLED' };
    case LINUX_ERRNO.ETIMEDOUT:
      return { kind: 'rejected', name: 'LIBUSB_TRANSFER_TIMED_OUT' };
    default:
      return { kind: 'rejected', name: 'LIBUSB_TRANSFER_ERROR' };
  }
}

/**
 * Client side, synchronous-style requests (SET_CONFIGURATION, SET_INTERFACE, CLEAR_FEATURE(ENDPOINT_HALT),
 * port reset): the `LIBUSB_ERROR_*` a failed status becomes, as libusb maps usbfs ioctl errnos.
 */
export function requestErrorOfStatus(status: number): LibusbErrorName {
  switch (-status) {
    case LINUX_ERRNO.EPIPE:
      return 'LIBUSB_ERROR_PIPE';
    case LINUX_ERRNO.EOVERFLOW:
      return 'LIBUSB_ERROR_OVERFLOW';
    case LINUX_ERRNO.ENODEV:
    case LINUX_ERRNO.ESHUTDOWN:
      return 'LIBUSB_ERROR_NO_DEVICE';
    case LINUX_ERRNO.ENOENT:
      return 'LIBUSB_ERROR_NOT_FOUND';
    case LINUX_ERRNO.ECONNRESET:
      return 'LIBUSB_ERROR_INTERRUPTED';
    case LINUX_ERRNO.ETIMEDOUT:
      return 'LIBUSB_ERROR_TIMEOUT';
    case LINUX_ERRNO.EBUSY:
      return 'LIBUSB_ERROR_BUSY';
    case LINUX_ERRNO.EINVAL:
      return 'LIBUSB_ERROR_INVALID_PARAM';
    case LINUX_ERRNO.EACCES:
      return 'LIBUSB_ERROR_ACCESS';
    case LINUX_ERRNO.ENOMEM:
      return 'LIBUSB_ERROR_NO_MEM';
    case LINUX_ERRNO.EOPNOTSUPP:
      return 'LIBUSB_ERROR_NOT_SUPPORTED';
    default:
      return 'LIBUSB_ERROR_IO';
  }
}
