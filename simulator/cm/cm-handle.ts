/**
 * The Configuration Manager's view of a file handle opened on a device interface: what the
 * GenericUSBFn.sys model reports when the service calls CreateFileW / CloseHandle, so that
 * query-remove can be vetoed by open handles and DEVICEHANDLE registrations find their device.
 */
import type { DeviceIncarnation } from './device-incarnation.js';

/** A handle on a device interface, as the simulated Configuration Manager tracks it. */
export interface CmHandle {
  /** Unique per model, from 1. */
  readonly id: number;
  /** The symbolic link the handle was opened with (as the caller spelled it). */
  readonly symbolicLink: string;
  /** The device instance ID behind the interface. */
  readonly instanceId: string;
  /** True until {@link close}. */
  readonly isOpen: boolean;
  /**
   * True once the device was removed (surprise removal) while this handle stayed open: the handle is
   * stale, I/O on it must fail. The driver model learns it through `ConfigManagerModel.onRemoved`.
   */
  readonly deviceRemoved: boolean;
  /**
   * CloseHandle as CM sees it. Idempotent.
   * @note Call it synchronously from the driver model's `UsbFnFile.close()` (before any await): a service
   * closes its handle inside its DEVICEQUERYREMOVE callback, and the query-remove check runs right after
   * the callbacks (see `ConfigManagerModel.queryAndRemove`).
   */
  close(): void;
}

/** The model's implementation of {@link CmHandle}. */
export class SimCmHandle implements CmHandle {
  readonly id: number;
  readonly symbolicLink: string;
  readonly incarnation: DeviceIncarnation;
  #open = true;

  constructor(id: number, symbolicLink: string, incarnation: DeviceIncarnation) {
    this.id = id;
    this.symbolicLink = symbolicLink;
    this.incarnation = incarnation;
    incarnation.openHandles.add(this);
  }

  get instanceId(): string {
    return this.incarnation.instanceId;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  // ASSUMPTION(cm-surprise-stale-handles): a surprise removal leaves handles open but stale; which errors new I/O gets
  // is the driver model's choice.
  get deviceRemoved(): boolean {
    return this.incarnation.state === 'removed';
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.incarnation.openHandles.delete(this);
  }
}
