/**
 * How the GenericUSBFn model completes a request UFX ended without completing it (a {@link UfxAbort}): the
 * NTSTATUS, the bytes returned and the detail for the error message.
 */
import { NTSTATUS } from '../../device-side/index.js';
import type { UfxAbort } from '../link/index.js';

const S = NTSTATUS;

/** An IRP completion: status, IoStatus.Information and why. */
export interface AbortCompletion {
  readonly status: number;
  readonly bytes: number;
  readonly detail: string;
}

/**
 * *UFX page*: cancelled and purged requests end STATUS_CANCELLED (995).
 * ASSUMPTION(drv-purge-cancelled): GenericUSBFn passes UFX's STATUS_CANCELLED through (stated for UFX and
 * controller drivers, not for GenericUSBFn itself).
 * ASSUMPTION(drv-invalid-state): invalidState → STATUS_INVALID_DEVICE_STATE (22).
 * ASSUMPTION(drv-bad-pipe): invalidParameter → STATUS_INVALID_PARAMETER (87).
 * ASSUMPTION(drv-out-overflow): overflow → STATUS_BUFFER_OVERFLOW (234, ERROR_MORE_DATA) with the bytes that arrived.
 */
export function ufxAbortCompletion(e: UfxAbort, outputBytes: number): AbortCompletion {
  const bytes = e.bytesTransferred;
  switch (e.reason) {
    case 'cancelled':
      return { status: S.STATUS_CANCELLED, bytes, detail: 'cancelled by CancelIoEx or handle close' };
    case 'purged':
      return {
        status: S.STATUS_CANCELLED,
        bytes,
        detail: 'the endpoint queue was purged by a bus reset, detach or SET_CONFIGURATION(0) (UFX page); wait for Configured and resubmit',
      };
    case 'invalidState':
      return { status: S.STATUS_INVALID_DEVICE_STATE, bytes, detail: `UFX rejected it: ${e.message}` };
    case 'invalidParameter':
      return { status: S.STATUS_INVALID_PARAMETER, bytes, detail: `UFX rejected it: ${e.message}` };
    case 'overflow':
      return { status: S.STATUS_BUFFER_OVERFLOW, bytes, detail: `the host sent more than the ${outputBytes}-byte buffer holds; ${bytes} bytes were returned` };
  }
}
