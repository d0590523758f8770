/**
 * A transfer the function side queued on an endpoint (TRANSFER_IN / TRANSFER_IN_APPEND_ZERO_PKT /
 * TRANSFER_OUT, or an EP0 stage): a {@link UfxRequest} whose result resolves with the bytes moved or
 * rejects with {@link UfxAbort}. The bus moves it through the {@link LinkDeviceTransfer} contract.
 */
import { PendingOp } from '../../runtime/index.js';
import {
  TRANSFER_STATE,
  UfxAbort,
  type LinkDeviceTransfer,
  type TransferQueue,
  type TransferState,
  type UfxAbortReason,
  type UfxRequest,
} from '../link-contract.js';

export class DeviceTransfer extends PendingOp<number> implements UfxRequest<number>, LinkDeviceTransfer {
  readonly end = 'device';
  /** IN: the data to send. OUT: the buffer receiving host data. */
  readonly data: Uint8Array;
  readonly length: number;
  /** TRANSFER_IN_APPEND_ZERO_PKT */
  readonly appendZlp: boolean;
  /** Bytes sent (IN) or received (OUT) so far. */
  offset = 0;
  zlpDone = false;
  state: TransferState = TRANSFER_STATE.QUEUED;
  /** Bus time (units) of completion once committed. */
  at = 0;
  /** Set when the transfer ends without completing. */
  abortReason: UfxAbortReason | undefined;
  abortDetail: string | undefined;
  /** The pipe it was given to (for cancel), from queueing until it ends. */
  queue: TransferQueue | undefined;

  constructor(data: Uint8Array, appendZlp = false) {
    super();
    this.data = data;
    this.length = data.length;
    this.appendZlp = appendZlp;
  }

  /**
   * An IN transfer still owes its zero-length packet: TRANSFER_IN of 0 bytes sends one ZLP; with
   * APPEND_ZERO_PKT a ZLP follows a payload that is an exact multiple of wMaxPacketSize (*IOCTL pages*).
   * ASSUMPTION(link-zero-length-in): a 0-byte TRANSFER_IN sends a single ZLP with or without the flag.
   */
  needsZlp(maxPacketSize: number): boolean {
    return !this.zlpDone && (this.length === 0 || (this.appendZlp && this.length % maxPacketSize === 0));
  }

  /**
   * Cancels the transfer (CancelIoEx, handle close): waiting, it leaves its queue; on the wire, it stops at
   * the current bus time with the bytes already moved ({@link TransferQueue.cancel}). False once its
   * outcome can no longer change.
   */
  cancel(): boolean {
    if (this.state === TRANSFER_STATE.DONE) return false;
    const queue = this.queue;
    if (queue !== undefined) return queue.cancel(this);
    if (this.state !== TRANSFER_STATE.QUEUED) return false;
    this.fail('cancelled');
    return true;
  }

  /** Ends the transfer now with `reason` (bytes moved so far are reported). */
  fail(reason: UfxAbortReason, detail?: string): void {
    if (this.state === TRANSFER_STATE.DONE) return;
    this.state = TRANSFER_STATE.DONE;
    this.queue = undefined;
    this.reject(new UfxAbort(reason, this.offset, detail));
  }

  /** Delivers a committed outcome (called by the bus when its bus time has elapsed). */
  settle(): void {
    if (this.state === TRANSFER_STATE.DONE) return;
    this.state = TRANSFER_STATE.DONE;
    this.queue = undefined;
    if (this.abortReason === undefined) this.resolve(this.offset);
    else this.reject(new UfxAbort(this.abortReason, this.offset, this.abortDetail));
  }
}
