/**
 * One DeviceIoControl request inside the GenericUSBFn model (the IRP): its buffers, its final NTSTATUS
 * and lpBytesReturned, and the cancel routine that CancelIoEx and handle close run.
 *
 * The model completes a request at most once; the port learns of it through {@link IoCompletion}.
 */
import { NTSTATUS } from '../../device-side/index.js';
import type { IntrusiveList, ListLinks } from '../runtime/index.js';

/** Receives a request's completion (the overlapped-I/O machinery of the port). */
export interface IoCompletion {
  complete(request: IoRequest): void;
}

/** Called by the model when any request of a file completes (bookkeeping and log). */
export interface IoRequestOwner {
  requestCompleted(request: IoRequest): void;
}

/** A DeviceIoControl request (IRP_MJ_DEVICE_CONTROL). */
export class IoRequest implements ListLinks<IoRequest> {
  /** NTSTATUS; STATUS_PENDING until completed. */
  status: number = NTSTATUS.STATUS_PENDING;
  /** IoStatus.Information: lpBytesReturned. */
  information = 0;
  /** Win32 error to report instead of mapping `status` (failNext with a Win32 value). */
  win32Override: number | undefined = undefined;
  /** A simulator bug met while serving the request (reported as SimulatorError, never as a Win32 code). */
  simulatorError: Error | undefined = undefined;
  /** Why it failed, for the error message. */
  detail: string | undefined = undefined;
  /** USBFNPIPEID from the input buffer, or undefined. */
  pipe: number | undefined = undefined;
  #cancelRoutine: (() => void) | undefined = undefined;
  /** Set by {@link fail} while its cancel routine runs: the completion it makes takes this status instead. */
  #forced: { readonly status: number; readonly win32: number; readonly detail: string } | undefined = undefined;
  /** Links of its file object's pending list. */
  listPrev: IoRequest | undefined = undefined;
  listNext: IoRequest | undefined = undefined;
  listOwner: IntrusiveList<IoRequest> | undefined = undefined;

  constructor(
    /** Handle (file object) id. */
    readonly handle: number,
    readonly code: number,
    readonly input: Uint8Array | null,
    readonly output: Uint8Array | null,
    readonly submittedMs: number,
    readonly owner: IoRequestOwner,
    readonly completion: IoCompletion,
  ) {}

  get isPending(): boolean {
    return this.status === NTSTATUS.STATUS_PENDING;
  }

  /** Sets the routine CancelIoEx / cleanup runs; it must complete the request (or leave it to finish normally). */
  setCancelRoutine(routine: (() => void) | undefined): void {
    this.#cancelRoutine = routine;
  }

  /**
   * Completes the request with `status` and `information` bytes. Returns false (and does nothing) if it
   * was already completed, e.g. a transfer finishing after its cancellation.
   */
  complete(status: number, information = 0, detail?: string): boolean {
    if (this.status !== NTSTATUS.STATUS_PENDING) return false;
    const forced = this.#forced;
    this.#forced = undefined;
    if (forced !== undefined) {
      status = forced.status;
      detail = forced.detail;
      this.win32Override = forced.win32;
    }
    this.status = status >>> 0;
    this.information = information;
    if (detail !== undefined) this.detail = detail;
    this.#cancelRoutine = undefined;
    this.owner.requestCompleted(this);
    this.completion.complete(this);
    return true;
  }

  /**
   * A driver error on this pending request (fault injection): its cancel routine stops what UFX was doing
   * (packets on the wire stop where the bus time says), and it completes with `status` / `win32` instead of
   * STATUS_CANCELLED. Returns false when it is no longer pending or its outcome can no longer change.
   */
  fail(status: number, win32: number, detail: string): boolean {
    if (this.status !== NTSTATUS.STATUS_PENDING) return false;
    this.#forced = { status, win32, detail };
    this.cancel();
    if (this.status === NTSTATUS.STATUS_PENDING) this.#forced = undefined;
    return this.status !== NTSTATUS.STATUS_PENDING;
  }

  /**
   * CancelIoEx for this request. Runs the cancel routine if the request is still pending and cancelable.
   * Returns true if a pending request was found (CancelIoEx returns TRUE), false otherwise (ERROR_NOT_FOUND).
   * The request may still complete normally if UFX had already finished it (*Overlapped I/O pages*).
   */
  cancel(): boolean {
    if (this.status !== NTSTATUS.STATUS_PENDING) return false;
    const routine = this.#cancelRoutine;
    this.#cancelRoutine = undefined;
    if (routine !== undefined) routine();
    return true;
  }
}
