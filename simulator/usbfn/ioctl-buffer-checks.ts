/**
 * The I/O manager's and the driver's buffer checks on a DeviceIoControl, per the IOCTL's buffer rule
 * (device-side's IOCTL table): a failing check completes the request and returns false. Parameter checks
 * come before state checks (the driver validates before forwarding to UFX).
 */
import { NTSTATUS as S, type IoctlBufferRule } from '../../device-side/index.js';
import type { IoRequest } from './io-request.js';

/** ASSUMPTION(drv-input-length): USBFNPIPEID input ≠ 4 bytes, or a struct input shorter than sizeof → STATUS_INVALID_PARAMETER (87). */
export function checkInput(req: IoRequest, rule: IoctlBufferRule): boolean {
  const input = req.input;
  const len = input?.length ?? 0;
  if (rule.kind === 'exact') {
    if (len !== rule.bytes) {
      req.complete(S.STATUS_INVALID_PARAMETER, 0, `input must be a ${rule.bytes}-byte ${rule.struct}, got ${len} bytes`);
      return false;
    }
    if (rule.struct === 'USBFNPIPEID') req.pipe = (input![0]! | (input![1]! << 8) | (input![2]! << 16) | (input![3]! << 24)) >>> 0;
  } else if (rule.kind === 'atLeast' && len < rule.bytes) {
    req.complete(S.STATUS_INVALID_PARAMETER, 0, `input must hold a ${rule.bytes}-byte ${rule.struct}, got ${len} bytes`);
    return false;
  }
  return true;
}

/**
 * ASSUMPTION(drv-output-length): an output the driver writes that is shorter than sizeof → STATUS_BUFFER_TOO_SMALL
 * (122); an output the driver reads (IN_DIRECT, e.g. SET_PIPE_STATE's BOOLEAN) that is too short →
 * STATUS_INVALID_PARAMETER (87). A buffer passed where none is expected is ignored.
 */
export function checkOutput(req: IoRequest, rule: IoctlBufferRule, access: 'write' | 'read' | 'none'): boolean {
  if (rule.kind !== 'atLeast' && rule.kind !== 'exact') return true;
  const len = req.output?.length ?? 0;
  if (rule.kind === 'atLeast' ? len >= rule.bytes : len === rule.bytes) return true;
  const status = access === 'read' ? S.STATUS_INVALID_PARAMETER : S.STATUS_BUFFER_TOO_SMALL;
  req.complete(status, 0, `output must hold a ${rule.bytes}-byte ${rule.struct}, got ${len} bytes`);
  return false;
}
