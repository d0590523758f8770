/**
 * The function API: how a user writes a USB function on top of {@link UsbFnService}.
 *
 * A function declares the pipes it needs, answers class setup packets addressed to its interface, and
 * reacts to bus state. The service owns the Win32 lifecycle (CM notifications, the handle, ACTIVATE, the
 * bus-event loop); the function only sees typed events and a {@link FunctionContext} that is valid while
 * the bus is configured.
 *
 * @example A vendor function that answers one IN request and echoes bulk data:
 * ```ts
 * const echo: UsbFunction = {
 *   name: 'echo',
 *   pipes: { rx: { direction: 'out' }, tx: { direction: 'in' } },
 *   onSetup(setup) {
 *     if (setup.bRequest === 0x01 && setup.bmRequestType & 0x80) return { stage: 'in', data: new Uint8Array([1, 2, 3]) };
 *     return { stage: 'stall' };
 *   },
 *   onConfigured(ctx) {
 *     // Keep two OUT transfers queued; echo each one back on the IN pipe.
 *     ctx.runQueue('rx', { depth: 2, bufferBytes: 4096 }, async (data) => {
 *       await ctx.transferIn('tx', data, { appendZeroLengthPacket: true });
 *     });
 *   },
 * };
 * const service = new UsbFnService({ port, interfaceClassGuid: GUID, fn: echo });
 * await service.start();
 * ```
 */
import type { UsbSpeed, SetupPacket, HarnessError } from '../../core/index.js';

/** How a function answers a class setup packet (docs/reference/ioctls.md#control-requests; Microsoft's "Communicating with GenericUSBFn.sys from a user-mode service"). */
export type SetupReply =
  /** Device→host data stage on pipe 0 (TRANSFER_IN), then CONTROL_STATUS_HANDSHAKE_OUT. Data longer than wLength is cut to wLength. */
  | { readonly stage: 'in'; readonly data: Uint8Array }
  /**
   * Host→device data stage of wLength bytes (TRANSFER_OUT), then CONTROL_STATUS_HANDSHAKE_IN. `onData` sees the
   * bytes; returning `'stall'` from it stalls the status stage instead of acknowledging it.
   */
  | { readonly stage: 'out'; readonly onData: (data: Uint8Array) => void | 'stall' | Promise<void | 'stall'> }
  /** No data stage: acknowledge with a status handshake. */
  | { readonly stage: 'none' }
  /** STALL EP0 for this request (SET_PIPE_STATE(pipe 0, TRUE)). */
  | { readonly stage: 'stall' };

/** A pipe a function asks for; matched against GET_CLASS_INFO's pipes in declaration order. */
export interface PipeRequest {
  readonly direction: 'in' | 'out';
  /** Endpoint type; default bulk. */
  readonly type?: 'bulk' | 'interrupt' | 'isochronous' | undefined;
  /** A specific endpoint address (0x81); default: the next unclaimed pipe of that direction and type. */
  readonly endpointAddress?: number | undefined;
}

/** A pipe as resolved for the current speed. */
export interface ResolvedPipe {
  readonly name: string;
  /** USBFNPIPEID: what the IOCTLs take. */
  readonly pipeId: number;
  readonly endpointAddress: number;
  readonly direction: 'in' | 'out';
  readonly type: 'bulk' | 'interrupt' | 'isochronous';
  /** wMaxPacketSize at the current speed. */
  readonly maxPacketSize: number;
}

export interface TransferOptions {
  readonly signal?: AbortSignal | undefined;
}

export interface TransferInOptions extends TransferOptions {
  /** IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT: a ZLP follows a payload that is a multiple of wMaxPacketSize. */
  readonly appendZeroLengthPacket?: boolean | undefined;
}

/** What a function can do while the bus is configured. Invalid after `signal` aborts. */
export interface FunctionContext {
  /** Bus speed the host reset the device to. */
  readonly speed: UsbSpeed;
  /** Aborts when the configuration ends (reset, detach, SET_CONFIGURATION(0), handle close, stop). */
  readonly signal: AbortSignal;
  /** The function's pipes by name. */
  pipe(name: string): ResolvedPipe;
  /** The function's pipe on endpoint `endpointAddress` (0x81), if any. */
  pipeByAddress(endpointAddress: number): ResolvedPipe | undefined;
  /**
   * Sends `data` to the host on an IN pipe; resolves with bytes sent.
   * @throws Win32Error (ERROR_OPERATION_ABORTED 995 when cancelled by reset/detach/unconfigure/abort);
   * AbortedError, without reaching the driver, when called after `signal` aborted; UsageError PIPE_NOT_FOUND /
   * PIPE_DIRECTION (thrown synchronously) for a wrong pipe name.
   */
  transferIn(pipe: string, data: Uint8Array, options?: TransferInOptions): Promise<number>;
  /**
   * Receives into `buffer` on an OUT pipe; resolves with bytes received (a short packet ends it early).
   * @throws as {@link FunctionContext.transferIn}.
   */
  transferOut(pipe: string, buffer: Uint8Array, options?: TransferOptions): Promise<number>;
  /** SET_PIPE_STATE: halt (true) or clear (false). */
  setStall(pipe: string, stalled: boolean): Promise<void>;
  /** GET_PIPE_STATE */
  getStall(pipe: string): Promise<boolean>;
  /**
   * Keeps `depth` TRANSFER_OUT requests of `bufferBytes` queued on an OUT pipe until the configuration ends,
   * calling `onData` for each completion in order (the buffer is reused after `onData` resolves). Failures other
   * than cancellation are logged (`functionError`) and the transfer is resubmitted; after 8 failures in a row the
   * queue stops (`queueStopped`). A cancelled transfer (reset, detach, unconfigure purge the queues) ends the
   * queue: start a new one in the next `onConfigured`.
   * @throws UsageError (synchronously) for an unknown pipe, an IN pipe, or a depth outside 1..64.
   */
  runQueue(
    pipe: string,
    options: RunQueueOptions,
    onData: (data: Uint8Array) => void | Promise<void>,
  ): void;
  /** Adds an entry to the device event log. */
  log(kind: string, detail?: Record<string, unknown>): void;
  /** Records a failure in the device event log (and in `lastError`). */
  fail(error: HarnessError | Error, where: string): void;
}

/** Options of {@link FunctionContext.runQueue}. */
export interface RunQueueOptions {
  /** TRANSFER_OUT requests kept outstanding (1..64). */
  readonly depth: number;
  /** Size of each receive buffer: the largest transfer the queue accepts. */
  readonly bufferBytes: number;
  /**
   * Called for each failed transfer other than a cancellation (the function records it, e.g. for
   * GET_LAST_ERROR). Default: the failure goes to the device event log as `functionError`.
   */
  readonly onError?: ((error: unknown) => void) | undefined;
}

/** A USB function hosted by the service. All callbacks are optional. */
export interface UsbFunction {
  readonly name: string;
  /** The pipes this function uses, by name. */
  readonly pipes?: Readonly<Record<string, PipeRequest>> | undefined;
  /** A class request addressed to this function's interface (UsbfnEventSetupPacket). Default: stall. */
  onSetup?(setup: SetupPacket): SetupReply | Promise<SetupReply>;
  /** UsbfnEventConfigured: transfers are allowed until `ctx.signal` aborts. */
  onConfigured?(ctx: FunctionContext, configurationValue: number): void;
  /** The configuration ended (reset, detach, unconfigure, removal, stop); pending transfers were cancelled. */
  onDeconfigured?(reason: DeconfigureReason): void;
  onSuspend?(): void;
  onResume?(): void;
  /** UsbfnEventSetInterface */
  onSetInterface?(interfaceNumber: number, alternateSetting: number): void;
  /** CM_NOTIFY_ACTION_DEVICEQUERYREMOVE: return 'veto' to keep the device (ERROR_CANCELLED). Synchronous. */
  onQueryRemove?(): 'allow' | 'veto';
  /** CM_NOTIFY_ACTION_DEVICECUSTOMEVENT */
  onCustomEvent?(eventGuid: string, data: Uint8Array, nameOffset: number): void;
}

export type DeconfigureReason = 'reset' | 'detach' | 'unConfigured' | 'closed' | 'stopped';
