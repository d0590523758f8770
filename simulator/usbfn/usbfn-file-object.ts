/**
 * The driver's per-handle state (a WDF file object) and what IRP_MJ_CREATE yields: the GenericUSBFn
 * model's view of one CreateFileW handle.
 */
import { FILE_READ_DATA, FILE_WRITE_DATA, ntStatusToWin32 } from '../../device-side/index.js';
import { IntrusiveList } from '../runtime/index.js';
import { EventQueue } from './event-queue.js';
import type { IoRequest, IoRequestOwner } from './io-request.js';

/** CreateFileW dwDesiredAccess bits (winnt.h). */
export const GENERIC_READ = 0x80000000;
export const GENERIC_WRITE = 0x40000000;
export const GENERIC_ALL = 0x10000000;

/** The FILE_READ_DATA | FILE_WRITE_DATA bits IRP_MJ_CREATE grants for CreateFileW's dwDesiredAccess (winnt.h generic mapping of a device). */
export function grantedAccess(desiredAccess: number): number {
  const all = (desiredAccess & GENERIC_ALL) !== 0;
  return (
    (all || (desiredAccess & (GENERIC_READ | FILE_READ_DATA)) !== 0 ? FILE_READ_DATA : 0) |
    (all || (desiredAccess & (GENERIC_WRITE | FILE_WRITE_DATA)) !== 0 ? FILE_WRITE_DATA : 0)
  );
}

/** What a file object tells its driver model (GenericUsbFnModel). */
export interface FileObjectModel {
  /** Logs a completed request. */
  logCompletion(request: IoRequest): void;
}

/** What IRP_MJ_CREATE yields: a file object, or the NTSTATUS it failed with. */
export type CreateResult =
  | { readonly status: 0; readonly file: UsbFnFileObject }
  | { readonly status: number; readonly file?: undefined; readonly detail: string };

/** The driver's per-handle state (a WDF file object). */
export class UsbFnFileObject implements IoRequestOwner {
  readonly id: number;
  /** FILE_READ_DATA | FILE_WRITE_DATA bits granted at open. */
  readonly grantedAccess: number;
  readonly events: EventQueue;
  /** Outstanding BUS_EVENT_NOTIFICATION requests, oldest first. */
  readonly eventWaiters: IoRequest[] = [];
  /** Every pending request of this handle, oldest first (cleanup cancels them). An intrusive list: no Set churn per transfer. */
  readonly pending = new IntrusiveList<IoRequest>();
  state: 'open' | 'closed' | 'removed' = 'open';
  readonly #model: FileObjectModel;

  constructor(model: FileObjectModel, id: number, grantedAccess: number, queueDepth: number) {
    this.#model = model;
    this.id = id;
    this.grantedAccess = grantedAccess;
    this.events = new EventQueue(queueDepth);
  }

  requestCompleted(request: IoRequest): void {
    this.pending.delete(request);
    this.#model.logCompletion(request);
  }
}

/** The Win32 error a completed request reports (0 on success). */
export function requestWin32(request: IoRequest): number {
  return request.win32Override ?? ntStatusToWin32(request.status);
}
