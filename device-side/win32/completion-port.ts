/**
 * Overlapped DeviceIoControl without blocking the JavaScript main thread: every handle is associated with
 * one I/O completion port, and a **single** asynchronous GetQueuedCompletionStatusEx (koffi `.async`, on a
 * worker thread) drains it. Completions are matched to requests by the address of their OVERLAPPED.
 *
 * Lifetimes (docs/reference/ioctls.md#overlapped-io): each request owns one native block
 * `[OVERLAPPED | input | output]` that is referenced from JS (the `pending` map) until its completion
 * packet has been dequeued — also after CancelIoEx and after CloseHandle — and only then recycled.
 *
 * Inline completion: handles are *not* switched to FILE_SKIP_COMPLETION_PORT_ON_SUCCESS, so a
 * DeviceIoControl that returns TRUE still queues a packet; it is handled exactly like ERROR_IO_PENDING
 * (one completion path). A FALSE return with any other error fails at once, with the output copied back for
 * methods the driver writes. If that error comes from an NT **warning** status (ERROR_MORE_DATA from
 * STATUS_BUFFER_OVERFLOW, ERROR_BUSY), the I/O manager still queues a packet: the request's block is then
 * kept, never reused, until that packet arrives (docs/win32-backend.md#synchronous-failures). A packet that
 * matches no request is counted and reported through `onDiagnostic`, never dropped silently.
 *
 * Buffers: the caller's `input`/`output` are **copied** into the native block (and `output` copied back on
 * completion) rather than passed directly. koffi passes a TypedArray's address only for the duration of a
 * call, and V8 may move small on-heap typed arrays, so no JS buffer has a stable address for an overlapped
 * request that outlives the call. The copies are plain memcpy (`Uint8Array.set`).
 *
 * @see https://learn.microsoft.com/windows/win32/fileio/i-o-completion-ports
 * @see https://learn.microsoft.com/windows/win32/api/ioapiset/nf-ioapiset-getqueuedcompletionstatusex
 */
import { type Clock, RealClock, TimeoutError, UsageError, type Win32Error } from '../../core/index.js';
import { METHOD_IN_DIRECT, WIN32_ERROR, WIN32_ERRORS_FROM_NT_WARNINGS, ioctlName, win32Error, win32ErrorName } from '../abi/index.js';
import { type NativeBlock, type OverlappedIoApi, type Win32Handle, isInvalidHandle } from './bindings.js';
import { NativeBlockPool } from './native-block-pool.js';

/** Completion key of packets for overlapped requests (anything else, e.g. a posted packet, is skipped). */
const KEY_IO = 1n;
const STATUS_PENDING = 0x103;

/** Options of one overlapped DeviceIoControl. */
export interface OverlappedRequestOptions {
  /** Aborting calls CancelIoEx for this request; it then rejects with ERROR_OPERATION_ABORTED (995) unless it completed first. */
  readonly signal?: AbortSignal | undefined;
  /** Short context for error messages (`pipe 1`, a symbolic link). */
  readonly target?: string | undefined;
}

/** A handle associated with a {@link CompletionPort}. */
export interface OverlappedHandle {
  readonly handle: Win32Handle;
  /** False once {@link close} was called. */
  readonly isOpen: boolean;
  /** Requests issued on this handle whose completion has not been observed yet. */
  readonly pendingCount: number;
  /**
   * Overlapped DeviceIoControl(handle, code, input, output). Resolves with lpBytesReturned once the
   * completion packet is dequeued; `output` then holds what the driver wrote (see the module note on copies).
   * @throws Win32Error (api `DeviceIoControl`): the synchronous failure (GetLastError) or the completed
   * request's NTSTATUS mapped by RtlNtStatusToDosError, e.g. ERROR_OPERATION_ABORTED (995) after
   * CancelIoEx/close; ERROR_INVALID_HANDLE (6) after {@link close} (the native call is not made then).
   */
  deviceIoControl(
    code: number,
    input: Uint8Array | null,
    output: Uint8Array | null,
    options?: OverlappedRequestOptions,
  ): Promise<number>;
  /**
   * CancelIoEx(handle, NULL), then CloseHandle, then waits (bounded) until every pending request of this
   * handle has completed through the port (with 995 when cancelled). Closing twice is a no-op.
   * @throws Win32Error (api `CloseHandle`); TimeoutError when requests are still not completed after
   * `drainTimeoutMs` (their buffers stay referenced, so memory stays safe).
   */
  close(options?: { readonly drainTimeoutMs?: number }): Promise<void>;
}

/** Options of {@link CompletionPort.create}. */
export interface CompletionPortOptions {
  /** Clock for the drain timeouts. Default: a RealClock. */
  readonly clock?: Clock | undefined;
  /** OVERLAPPED_ENTRY slots per GetQueuedCompletionStatusEx call. Default 64. */
  readonly batchSize?: number | undefined;
  /** Timeout of each worker-thread wait; the wait is re-armed while requests are pending. Default 1000 ms. */
  readonly waitSliceMs?: number | undefined;
  /** Default bound for {@link OverlappedHandle.close} draining. Default 5000 ms. */
  readonly drainTimeoutMs?: number | undefined;
  /**
   * How long the port keeps waiting for the packet of a request that failed synchronously with an NT warning
   * status before it stops waiting for it (its block then stays allocated for good). Default: `drainTimeoutMs`.
   */
  readonly latePacketWaitMs?: number | undefined;
  /** Told about packets that match no request, late packets and blocks given up on. Default: none (counters only). */
  readonly onDiagnostic?: ((diagnostic: CompletionPortDiagnostic) => void) | undefined;
}

/** Something unusual the completion port saw (for the device event log). */
export type CompletionPortDiagnostic =
  /** A packet whose OVERLAPPED is not a request of this port (should never happen: the port is private). */
  | { readonly kind: 'unknownPacket'; readonly overlapped: string; readonly bytes: number; readonly key: string }
  /** A request failed synchronously with an NT warning status; its packet is awaited before its block is reused. */
  | { readonly kind: 'awaitingLatePacket'; readonly ioctl: string; readonly win32Name: string }
  /** The packet of such a request arrived: its block is reused from now on. */
  | { readonly kind: 'latePacket'; readonly ioctl: string; readonly bytes: number }
  /** No packet came for such a request within `latePacketWaitMs`: its block is left allocated, never reused. */
  | { readonly kind: 'latePacketMissing'; readonly ioctl: string; readonly waitedMs: number };

/** A synchronously failed request whose completion packet may still come (NT warning status). */
interface Orphan {
  readonly block: NativeBlock;
  readonly blockSize: number;
  readonly code: number;
  /** Still keeps the worker-thread wait armed (false once `latePacketWaitMs` passed). */
  awaited: boolean;
  timer: { cancel(): void } | undefined;
}

interface HandleState {
  pending: number;
  open: boolean;
  idleWaiters: (() => void)[];
}

/** One in-flight request. Kept in `pending` (keyed by OVERLAPPED address) until its packet is dequeued. */
interface Request {
  readonly block: NativeBlock;
  readonly blockSize: number;
  readonly owner: HandleState;
  readonly handle: Win32Handle;
  readonly code: number;
  readonly target: string | undefined;
  readonly output: Uint8Array | null;
  readonly outputOffset: number;
  readonly copyBack: boolean;
  readonly resolve: (bytes: number) => void;
  readonly reject: (err: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const align8 = (n: number): number => (n + 7) & ~7;

/**
 * One I/O completion port and the worker-thread wait that drains it.
 *
 * @example
 * const port = CompletionPort.create(await loadWin32Bindings());
 * const file = port.attach(handle, '\\\\?\\USB#...');
 * const n = await file.deviceIoControl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, new Uint8Array(12));
 */
export class CompletionPort {
  private readonly api: OverlappedIoApi;
  private readonly port: Win32Handle;
  private readonly clock: Clock;
  private readonly batchSize: number;
  private readonly waitSliceMs: number;
  private readonly drainTimeoutMs: number;
  private readonly latePacketWaitMs: number;
  private readonly onDiagnostic: ((diagnostic: CompletionPortDiagnostic) => void) | undefined;
  private readonly pending = new Map<bigint, Request>();
  /** Synchronously failed requests whose packet may still come, by OVERLAPPED address. */
  private readonly orphans = new Map<bigint, Orphan>();
  private orphansAwaited = 0;
  private unknownPacketCount = 0;
  private latePacketCount = 0;
  /** OVERLAPPED_ENTRY[batchSize] + ULONG removed, written by the worker thread. */
  private readonly entries: NativeBlock;
  private readonly entriesView: DataView;
  private readonly removed: NativeBlock;
  private readonly pool: NativeBlockPool;
  private waiting = false;
  private closed = false;
  private broken: Win32Error | undefined;

  private constructor(api: OverlappedIoApi, port: Win32Handle, options: CompletionPortOptions) {
    this.api = api;
    this.port = port;
    this.clock = options.clock ?? new RealClock();
    this.batchSize = options.batchSize ?? 64;
    this.waitSliceMs = options.waitSliceMs ?? 1000;
    this.drainTimeoutMs = options.drainTimeoutMs ?? 5000;
    this.latePacketWaitMs = options.latePacketWaitMs ?? this.drainTimeoutMs;
    this.onDiagnostic = options.onDiagnostic;
    this.entries = api.memory.alloc(api.layout.entrySize * this.batchSize);
    this.entriesView = new DataView(this.entries.bytes.buffer, this.entries.bytes.byteOffset, this.entries.bytes.byteLength);
    this.removed = api.memory.alloc(4);
    this.pool = new NativeBlockPool(api.memory);
  }

  /**
   * CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0): a new port.
   * @throws Win32Error (api `CreateIoCompletionPort`)
   */
  static create(api: OverlappedIoApi, options: CompletionPortOptions = {}): CompletionPort {
    const invalid = api.pointerSize === 8 ? 0xffff_ffff_ffff_ffffn : 0xffff_ffffn;
    const port = api.CreateIoCompletionPort(invalid as Win32Handle, null, 0n, 0);
    if (isInvalidHandle(port, api.pointerSize)) {
      throw win32Error('CreateIoCompletionPort', api.GetLastError(), { target: 'new port' });
    }
    return new CompletionPort(api, port as Win32Handle, options);
  }

  /** Requests on every handle whose completion has not been observed yet. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Packets dequeued that matched no request of this port (each also reported through `onDiagnostic`). */
  get unknownPackets(): number {
    return this.unknownPacketCount;
  }

  /** Packets that arrived for requests which had failed synchronously with an NT warning status. */
  get latePackets(): number {
    return this.latePacketCount;
  }

  /** Blocks of synchronously failed requests still held for a packet that may come. */
  get heldBlocks(): number {
    return this.orphans.size;
  }

  /** True while a worker-thread wait is outstanding (it holds the Node event loop open). */
  get isWaiting(): boolean {
    return this.waiting;
  }

  /**
   * Associates an overlapped handle (opened with FILE_FLAG_OVERLAPPED) with this port and takes ownership
   * of it: {@link OverlappedHandle.close} closes it.
   * @throws Win32Error (api `CreateIoCompletionPort`) e.g. ERROR_INVALID_PARAMETER for a handle opened without FILE_FLAG_OVERLAPPED.
   */
  attach(handle: Win32Handle, label: string): OverlappedHandle {
    if (this.closed) throw new UsageError('PORT_CLOSED', `attach(${label}): the completion port is closed; create a new one.`);
    const r = this.api.CreateIoCompletionPort(handle, this.port, KEY_IO, 0);
    if (isInvalidHandle(r, this.api.pointerSize)) {
      throw win32Error('CreateIoCompletionPort', this.api.GetLastError(), {
        target: label,
        detail: 'the handle could not be associated with the I/O completion port; it must be opened with FILE_FLAG_OVERLAPPED',
      });
    }
    const state: HandleState = { pending: 0, open: true, idleWaiters: [] };
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the handle object closes over its port
    const port = this;
    return {
      handle,
      get isOpen() {
        return state.open;
      },
      get pendingCount() {
        return state.pending;
      },
      deviceIoControl: (code, input, output, options) => port.issue(state, handle, label, code, input, output, options),
      close: (options) => port.closeHandle(state, handle, label, options?.drainTimeoutMs ?? port.drainTimeoutMs),
    };
  }

  /**
   * Closes the port (CloseHandle). Close every attached handle first: a request is only reported through
   * the port, so a port closed under a pending request could never release that request's buffers.
   * @throws UsageError PORT_BUSY when requests are still pending.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.pending.size > 0) {
      throw new UsageError(
        'PORT_BUSY',
        `the completion port still has ${this.pending.size} pending request(s); close their handles first.`,
      );
    }
    this.closed = true;
    // Held blocks stay allocated: a packet may still be on its way and the kernel may still write them.
    for (const orphan of this.orphans.values()) orphan.timer?.cancel();
    // No wait is outstanding: one is armed only while requests are pending (see arm()).
    this.api.CloseHandle(this.port);
    this.api.memory.free(this.entries);
    this.api.memory.free(this.removed);
    this.pool.close();
  }

  // -------------------------------------------------------------------------------------------------
  // Issue

  private issue(
    owner: HandleState,
    handle: Win32Handle,
    label: string,
    code: number,
    input: Uint8Array | null,
    output: Uint8Array | null,
    options: OverlappedRequestOptions | undefined,
  ): Promise<number> {
    const target = options?.target ?? label;
    if (!owner.open || this.closed) {
      return Promise.reject(
        win32Error('DeviceIoControl', WIN32_ERROR.ERROR_INVALID_HANDLE, {
          ioctl: code,
          target,
          detail: 'the handle was closed before this request was issued; reopen the device interface',
        }),
      );
    }
    if (this.broken !== undefined) return Promise.reject(this.broken);
    const signal = options?.signal;
    if (signal?.aborted) {
      // Never issued: report it the way a cancelled request completes (docs/reference/ioctls.md#cancellation).
      return Promise.reject(
        win32Error('DeviceIoControl', WIN32_ERROR.ERROR_OPERATION_ABORTED, {
          ioctl: code,
          target,
          detail: 'aborted before it was issued',
          cause: signal.reason,
        }),
      );
    }

    const api = this.api;
    const ovSize = align8(api.layout.overlappedSize);
    const inLen = input?.byteLength ?? 0;
    const outLen = output?.byteLength ?? 0;
    const inOffset = ovSize;
    const outOffset = ovSize + align8(inLen);
    const { block, size: blockSize } = this.pool.take(outOffset + outLen);
    const bytes = block.bytes;
    bytes.fill(0, 0, ovSize); // a fresh OVERLAPPED: Internal/InternalHigh/Offset/hEvent = 0
    if (input !== null && inLen > 0) bytes.set(input, inOffset);
    // Copied in for every method: IN_DIRECT drivers read it, and bytes an OUT_DIRECT driver does not write
    // must read back unchanged, as with the caller's own buffer.
    if (output !== null && outLen > 0) bytes.set(output, outOffset);

    const address = block.address;
    return new Promise<number>((resolve, reject) => {
      const req: Request = {
        block,
        blockSize,
        owner,
        handle,
        code,
        target,
        output: outLen > 0 ? output : null,
        outputOffset: outOffset,
        copyBack: (code & 3) !== METHOD_IN_DIRECT, // IN_DIRECT: the driver only reads the "output" buffer
        resolve,
        reject,
        signal: undefined,
        onAbort: undefined,
      };
      const ok = api.DeviceIoControl(
        handle,
        code,
        inLen > 0 ? address + BigInt(inOffset) : null,
        inLen,
        // A zero-length array is a non-NULL lpOutBuffer with nOutBufferSize 0 (the seam's 'empty-buffer'); null is NULL.
        output !== null ? address + BigInt(outOffset) : null,
        outLen,
        null,
        address,
      );
      if (ok === 0) {
        const err = api.GetLastError();
        if (err !== WIN32_ERROR.ERROR_IO_PENDING) {
          this.failedSynchronously(req, address, err);
          return;
        }
      }
      // Pending, or completed inline (TRUE): either way one packet arrives through the port.
      this.pending.set(address, req);
      owner.pending++;
      if (signal !== undefined) {
        req.signal = signal;
        req.onAbort = () => {
          // Too late is fine: CancelIoEx then fails with ERROR_NOT_FOUND and the request completes normally.
          if (this.pending.get(address) === req && owner.open) api.CancelIoEx(handle, address);
        };
        signal.addEventListener('abort', req.onAbort, { once: true });
      }
      this.arm();
    });
  }

  /**
   * DeviceIoControl returned FALSE with `err` ≠ ERROR_IO_PENDING. The driver may have written the output (an
   * OUT_DIRECT request failing with a size, or data with ERROR_MORE_DATA): copy it back for every method but
   * IN_DIRECT. An NT error queues no packet, so the block is free at once; an NT warning still queues one,
   * so the block is held until it arrives (or given up on after `latePacketWaitMs`, then never reused).
   */
  private failedSynchronously(req: Request, address: bigint, err: number): void {
    const out = req.output;
    if (out !== null && req.copyBack) out.set(req.block.bytes.subarray(req.outputOffset, req.outputOffset + out.byteLength));
    if (WIN32_ERRORS_FROM_NT_WARNINGS.has(err)) {
      const orphan: Orphan = { block: req.block, blockSize: req.blockSize, code: req.code, awaited: true, timer: undefined };
      this.orphans.set(address, orphan);
      this.orphansAwaited++;
      this.onDiagnostic?.({ kind: 'awaitingLatePacket', ioctl: ioctlName(req.code), win32Name: win32ErrorName(err) });
      orphan.timer = this.clock.setTimer(this.latePacketWaitMs, () => {
        orphan.timer = undefined;
        if (!orphan.awaited) return;
        orphan.awaited = false;
        this.orphansAwaited--;
        this.onDiagnostic?.({ kind: 'latePacketMissing', ioctl: ioctlName(orphan.code), waitedMs: this.latePacketWaitMs });
      });
      this.arm();
    } else {
      // An NT error: no packet will be queued (IOCP rule), so the block is free now.
      this.pool.put(req.block, req.blockSize);
    }
    req.reject(win32Error('DeviceIoControl', err, { ioctl: req.code, target: req.target }));
  }

  // -------------------------------------------------------------------------------------------------
  // Drain

  /** Starts the worker-thread wait unless one is outstanding or nothing is pending. */
  private arm(): void {
    if (this.waiting || (this.pending.size === 0 && this.orphansAwaited === 0) || this.broken !== undefined || this.closed) return;
    this.waiting = true;
    this.api
      .GetQueuedCompletionStatusExAsync(this.port, this.entries.address, this.batchSize, this.removed.address, this.waitSliceMs, 0)
      .then(
        (ok) => this.onWaitReturned(ok),
        (err: unknown) => {
          this.waiting = false;
          this.fail(
            win32Error('GetQueuedCompletionStatusEx', WIN32_ERROR.ERROR_GEN_FAILURE, {
              target: 'completion port',
              detail: 'the asynchronous wait could not run (koffi async call failed)',
              cause: err,
            }),
          );
        },
      );
  }

  private onWaitReturned(ok: number): void {
    this.waiting = false;
    let count = ok !== 0 ? this.readRemoved() : 0;
    if (ok === 0) {
      // Timeout slice elapsed, or a real failure: tell them apart with a non-blocking retry on this thread,
      // where GetLastError is meaningful (the async call's last error stays on the worker thread).
      const again = this.api.GetQueuedCompletionStatusEx(
        this.port,
        this.entries.address,
        this.batchSize,
        this.removed.address,
        0,
        0,
      );
      if (again !== 0) {
        count = this.readRemoved();
      } else {
        const err = this.api.GetLastError();
        if (err !== WIN32_ERROR.WAIT_TIMEOUT && err !== WIN32_ERROR.ERROR_SUCCESS) {
          this.fail(win32Error('GetQueuedCompletionStatusEx', err, { target: 'completion port' }));
          return;
        }
      }
    }
    this.dispatch(count);
    this.arm();
  }

  private readRemoved(): number {
    const b = this.removed.bytes;
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }

  private readPointer(view: DataView, offset: number): bigint {
    return this.api.pointerSize === 8 ? view.getBigUint64(offset, true) : BigInt(view.getUint32(offset, true));
  }

  private dispatch(count: number): void {
    const { entrySize, entryKeyOffset, entryOverlappedOffset, entryBytesOffset } = this.api.layout;
    const view = this.entriesView;
    for (let i = 0; i < count; i++) {
      const base = i * entrySize;
      const key = this.readPointer(view, base + entryKeyOffset);
      const address = this.readPointer(view, base + entryOverlappedOffset);
      const bytes = view.getUint32(base + entryBytesOffset, true);
      if (key !== KEY_IO) {
        this.unexpectedPacket(address, bytes, key);
        continue;
      }
      const req = this.pending.get(address);
      if (req === undefined) {
        this.unexpectedPacket(address, bytes, key);
        continue;
      }
      this.pending.delete(address);
      this.complete(req, bytes);
    }
  }

  /** A packet that is not a pending request's: the late packet of a held block, or unknown (counted, reported). */
  private unexpectedPacket(address: bigint, bytes: number, key: bigint): void {
    const orphan = key === KEY_IO ? this.orphans.get(address) : undefined;
    if (orphan !== undefined) {
      this.orphans.delete(address);
      orphan.timer?.cancel();
      if (orphan.awaited) this.orphansAwaited--;
      this.latePacketCount++;
      this.pool.put(orphan.block, orphan.blockSize);
      this.onDiagnostic?.({ kind: 'latePacket', ioctl: ioctlName(orphan.code), bytes });
      return;
    }
    this.unknownPacketCount++;
    this.onDiagnostic?.({ kind: 'unknownPacket', overlapped: `0x${address.toString(16)}`, bytes, key: `0x${key.toString(16)}` });
  }

  private complete(req: Request, bytes: number): void {
    const api = this.api;
    const ov = req.block.bytes;
    const off = api.layout.internalOffset;
    // OVERLAPPED.Internal holds the NTSTATUS (low 32 bits; ULONG_PTR on x64).
    const status = (ov[off]! | (ov[off + 1]! << 8) | (ov[off + 2]! << 16) | (ov[off + 3]! << 24)) >>> 0;
    const success = (status | 0) >= 0 && status !== STATUS_PENDING; // NT_SUCCESS
    const out = req.output;
    if (out !== null && req.copyBack) {
      // Success: what lpBytesReturned covers. Failure: the whole buffer, because a METHOD_OUT_DIRECT driver
      // may write into it and still fail (GET_INTERFACE_DESCRIPTOR_SET fills Size; docs/reference/ioctls.md#get-interface-descriptor-set).
      // ASSUMPTION (docs/reference/documented-vs-inferred.md#win32-copy-back): on success no GenericUSBFn IOCTL writes past lpBytesReturned, so
      // bytes beyond it keep the caller's values (as they would if the driver wrote nothing there).
      const n = success ? Math.min(bytes, out.byteLength) : out.byteLength;
      if (n > 0) out.set(ov.subarray(req.outputOffset, req.outputOffset + n));
    }
    if (req.signal !== undefined && req.onAbort !== undefined) req.signal.removeEventListener('abort', req.onAbort);
    const aborted = req.signal?.aborted === true;
    const reason: unknown = aborted ? req.signal?.reason : undefined;
    this.pool.put(req.block, req.blockSize);
    this.release(req.owner);
    if (success) {
      req.resolve(bytes);
    } else {
      const win32 = api.RtlNtStatusToDosError(status);
      req.reject(win32Error('DeviceIoControl', win32, { ioctl: req.code, target: req.target, cause: reason }));
    }
  }

  private release(owner: HandleState): void {
    owner.pending--;
    if (owner.pending === 0 && owner.idleWaiters.length > 0) {
      const waiters = owner.idleWaiters;
      owner.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** The port itself failed: fail every pending request; keep their blocks (the kernel may still write them). */
  private fail(err: Win32Error): void {
    this.broken = err;
    const reqs = [...this.pending.values()];
    this.pending.clear();
    for (const req of reqs) {
      if (req.signal !== undefined && req.onAbort !== undefined) req.signal.removeEventListener('abort', req.onAbort);
      this.release(req.owner);
      req.reject(err);
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Close one handle

  private async closeHandle(state: HandleState, handle: Win32Handle, label: string, drainTimeoutMs: number): Promise<void> {
    if (!state.open) return;
    state.open = false;
    // Cancel first: IRP_MJ_CLEANUP cancels on real Windows anyway (docs/reference/ioctls.md#cancellation); doing it
    // explicitly gives the same 995 completions on every implementation.
    if (state.pending > 0) this.api.CancelIoEx(handle, null);
    if (this.api.CloseHandle(handle) === 0) {
      const err = this.api.GetLastError();
      throw win32Error('CloseHandle', err, { target: label });
    }
    if (state.pending === 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = this.clock.setTimer(drainTimeoutMs, () => {
        const i = state.idleWaiters.indexOf(done);
        if (i >= 0) state.idleWaiters.splice(i, 1);
        reject(
          new TimeoutError(
            `completion of ${state.pending} cancelled request(s) of ${label} after CloseHandle`,
            drainTimeoutMs,
            'the driver did not complete them; their buffers stay allocated until it does',
          ),
        );
      });
      const done = (): void => {
        timer.cancel();
        resolve();
      };
      state.idleWaiters.push(done);
    });
  }
}
