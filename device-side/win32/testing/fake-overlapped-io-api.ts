/**
 * A scripted, in-memory {@link OverlappedIoApi} for unit tests of {@link CompletionPort} on any OS.
 *
 * It models only what the real kernel32 does at this boundary, as documented: a FALSE return with
 * ERROR_IO_PENDING or TRUE both queue exactly one packet on the associated port; a synchronous failure
 * queues none; CancelIoEx completes pending requests with STATUS_CANCELLED; the status goes into
 * OVERLAPPED.Internal and the byte count into InternalHigh and the OVERLAPPED_ENTRY. "Native memory" is a
 * map from fake addresses to Uint8Arrays, so a test can check that no block is freed while the
 * "kernel" may still write it.
 *
 * Test-only; it is not used by the backend.
 */
import { ntStatusToWin32, NTSTATUS, WIN32_ERROR } from '../../abi/index.js';
import type { NativeBlock, OverlappedIoApi, OverlappedLayout, Win32Handle } from '../bindings.js';

/** One DeviceIoControl call as the fake driver saw it. */
export interface FakeIoctl {
  readonly handle: Win32Handle;
  readonly code: number;
  /** Copy of the input buffer at call time. */
  readonly input: Uint8Array;
  /** Copy of the output buffer at call time (what an IN_DIRECT driver reads). */
  readonly outputAtCall: Uint8Array;
  readonly outAddress: bigint | null;
  readonly outLength: number;
  readonly overlapped: bigint;
  done: boolean;
}

/** What the fake driver does with a new request. */
export type FakeIoctlBehaviour =
  | { readonly kind: 'pending' }
  | { readonly kind: 'inline'; readonly bytes: number; readonly write?: Uint8Array }
  /**
   * FALSE with GetLastError `win32`; `write` lands in the output buffer first (a driver that wrote and then
   * failed). `packet: 'later'` models a synchronous NT warning (STATUS_BUFFER_OVERFLOW → ERROR_MORE_DATA):
   * the request stays pending in the fake and its packet comes when the test calls {@link FakeOverlappedIoApi.complete}.
   */
  | { readonly kind: 'fail'; readonly win32: number; readonly write?: Uint8Array; readonly packet?: 'none' | 'later' };

interface Packet {
  readonly key: bigint;
  readonly overlapped: bigint;
  readonly bytes: number;
}

const X64_LAYOUT: OverlappedLayout = {
  overlappedSize: 32,
  overlappedAlign: 8,
  internalOffset: 0,
  internalHighOffset: 8,
  entrySize: 32,
  entryKeyOffset: 0,
  entryOverlappedOffset: 8,
  entryBytesOffset: 24,
};

/** The fake. Create handles with {@link openFile}; script requests with {@link behaviour}; finish them with {@link complete}. */
export class FakeOverlappedIoApi implements OverlappedIoApi {
  readonly pointerSize = 8 as const;
  readonly layout = X64_LAYOUT;
  /** Decides what each new DeviceIoControl does. Default: pends. */
  behaviour: (op: FakeIoctl) => FakeIoctlBehaviour = () => ({ kind: 'pending' });
  /** When false, CancelIoEx finds nothing (a driver that ignores cancellation). */
  honourCancel = true;
  /** When set, the next async wait rejects with this error (koffi async failure). */
  failNextWait: Error | undefined;
  /** When set, waits return FALSE and the sync retry fails with this Win32 error. */
  waitError: number | undefined;

  /** Queues a packet for an OVERLAPPED no request of the port owns (a stray or corrupt packet). */
  postStray(port: Win32Handle, overlapped: bigint, bytes = 0, key = 1n): void {
    this.PostQueuedCompletionStatus(port, bytes, key, overlapped);
  }

  readonly ioctls: FakeIoctl[] = [];
  readonly cancelCalls: { handle: Win32Handle; overlapped: bigint | null }[] = [];
  readonly closed = new Set<bigint>();
  /** Completion ports created, oldest first. */
  readonly createdPorts: Win32Handle[] = [];
  asyncWaitsStarted = 0;
  asyncWaitsInFlight = 0;
  maxAsyncWaitsInFlight = 0;

  private readonly mem = new Map<bigint, Uint8Array>();
  private nextAddress = 0x10000n;
  private nextHandle = 0x100n;
  private lastError = 0;
  private readonly ports = new Map<bigint, Packet[]>();
  private readonly association = new Map<bigint, { port: bigint; key: bigint }>();
  private wakeWaiter: (() => void) | undefined;

  readonly memory = {
    alloc: (size: number): NativeBlock => {
      const address = this.nextAddress;
      this.nextAddress += BigInt((Math.max(1, size) + 15) & ~15) + 16n;
      const bytes = new Uint8Array(Math.max(1, size)).fill(0xcd); // like malloc: not zeroed
      this.mem.set(address, bytes);
      return { address, bytes };
    },
    free: (block: NativeBlock): void => {
      if (!this.mem.delete(block.address)) throw new Error(`fake: double free of 0x${block.address.toString(16)}`);
    },
  };

  /** Native blocks currently allocated. */
  get liveBlocks(): number {
    return this.mem.size;
  }

  /** True if `address` lies inside a live block. */
  isLive(address: bigint): boolean {
    for (const [base, bytes] of this.mem) if (address >= base && address < base + BigInt(bytes.length)) return true;
    return false;
  }

  /** A new overlapped "file" handle. */
  openFile(): Win32Handle {
    const h = this.nextHandle;
    this.nextHandle += 4n;
    return h as Win32Handle;
  }

  /** Requests not completed yet. */
  get pendingIoctls(): FakeIoctl[] {
    return this.ioctls.filter((op) => !op.done);
  }

  /** Completes a pending request: writes `write` into its output, sets its status and queues its packet. */
  complete(op: FakeIoctl, result: { status?: number; bytes?: number; write?: Uint8Array } = {}): void {
    if (op.done) throw new Error('fake: request already completed');
    const status = result.status ?? NTSTATUS.STATUS_SUCCESS;
    const write = result.write;
    if (write !== undefined) {
      if (op.outAddress === null || write.length > op.outLength) throw new Error('fake: write exceeds output buffer');
      this.view(op.outAddress, write.length).set(write);
    }
    const bytes = result.bytes ?? write?.length ?? 0;
    const ov = this.view(op.overlapped, 32);
    const dv = new DataView(ov.buffer, ov.byteOffset, 32);
    dv.setBigUint64(0, BigInt(status >>> 0), true);
    dv.setBigUint64(8, BigInt(bytes), true);
    op.done = true;
    this.post(op.handle, op.overlapped, bytes);
  }

  // --- OverlappedIoApi ------------------------------------------------------------------------------

  CreateIoCompletionPort(file: Win32Handle, existingPort: Win32Handle | null, key: bigint): Win32Handle | null {
    if (file === 0xffff_ffff_ffff_ffffn && existingPort === null) {
      const port = this.openFile();
      this.ports.set(port, []);
      this.createdPorts.push(port);
      return port;
    }
    if (existingPort === null || !this.ports.has(existingPort) || this.closed.has(file)) {
      this.lastError = WIN32_ERROR.ERROR_INVALID_PARAMETER;
      return null;
    }
    this.association.set(file, { port: existingPort, key });
    return existingPort;
  }

  DeviceIoControl(
    handle: Win32Handle,
    code: number,
    inBuffer: bigint | null,
    inLength: number,
    outBuffer: bigint | null,
    outLength: number,
    _bytesReturned: null,
    overlapped: bigint,
  ): number {
    if (this.closed.has(handle) || !this.association.has(handle)) {
      this.lastError = WIN32_ERROR.ERROR_INVALID_HANDLE;
      return 0;
    }
    if (!this.isLive(overlapped)) throw new Error('fake: OVERLAPPED is not in live native memory');
    const op: FakeIoctl = {
      handle,
      code,
      input: inBuffer === null ? new Uint8Array(0) : this.view(inBuffer, inLength).slice(),
      outputAtCall: outBuffer === null ? new Uint8Array(0) : this.view(outBuffer, outLength).slice(),
      outAddress: outBuffer,
      outLength,
      overlapped,
      done: false,
    };
    this.ioctls.push(op);
    const b = this.behaviour(op);
    if (b.kind === 'fail') {
      if (b.write !== undefined) {
        if (outBuffer === null || b.write.length > outLength) throw new Error('fake: write exceeds output buffer');
        this.view(outBuffer, b.write.length).set(b.write);
      }
      op.done = b.packet !== 'later';
      this.lastError = b.win32;
      return 0;
    }
    if (b.kind === 'inline') {
      // TRUE, and (no FILE_SKIP_COMPLETION_PORT_ON_SUCCESS) a packet is still queued.
      this.complete(op, { bytes: b.bytes, ...(b.write === undefined ? {} : { write: b.write }) });
      this.lastError = 0;
      return 1;
    }
    this.lastError = WIN32_ERROR.ERROR_IO_PENDING;
    return 0;
  }

  CancelIoEx(handle: Win32Handle, overlapped: bigint | null): number {
    this.cancelCalls.push({ handle, overlapped });
    const targets = this.honourCancel
      ? this.pendingIoctls.filter((op) => op.handle === handle && (overlapped === null || op.overlapped === overlapped))
      : [];
    if (targets.length === 0) {
      this.lastError = WIN32_ERROR.ERROR_NOT_FOUND;
      return 0;
    }
    for (const op of targets) this.complete(op, { status: NTSTATUS.STATUS_CANCELLED, bytes: 0 });
    return 1;
  }

  CloseHandle(handle: Win32Handle): number {
    if (this.closed.has(handle)) {
      this.lastError = WIN32_ERROR.ERROR_INVALID_HANDLE;
      return 0;
    }
    this.closed.add(handle);
    return 1;
  }

  PostQueuedCompletionStatus(port: Win32Handle, bytes: number, key: bigint, overlapped: bigint | null): number {
    const q = this.ports.get(port);
    if (q === undefined) return 0;
    q.push({ key, overlapped: overlapped ?? 0n, bytes });
    this.wakeWaiter?.();
    return 1;
  }

  GetQueuedCompletionStatusEx(port: Win32Handle, entries: bigint, count: number, removed: bigint, timeoutMs: number): number {
    if (timeoutMs !== 0) throw new Error('fake: the sync GetQueuedCompletionStatusEx must only be used with a 0 ms timeout');
    if (this.waitError !== undefined) {
      this.lastError = this.waitError;
      return 0;
    }
    return this.drain(port, entries, count, removed);
  }

  GetQueuedCompletionStatusExAsync(
    port: Win32Handle,
    entries: bigint,
    count: number,
    removed: bigint,
    timeoutMs: number,
  ): Promise<number> {
    this.asyncWaitsStarted++;
    this.asyncWaitsInFlight++;
    this.maxAsyncWaitsInFlight = Math.max(this.maxAsyncWaitsInFlight, this.asyncWaitsInFlight);
    const fail = this.failNextWait;
    this.failNextWait = undefined;
    return new Promise<number>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.wakeWaiter = undefined;
        this.asyncWaitsInFlight--;
        if (fail !== undefined) {
          reject(fail);
          return;
        }
        if (this.waitError !== undefined) {
          resolve(0);
          return;
        }
        resolve(this.drain(port, entries, count, removed));
      };
      // A worker thread returns on a later turn of the event loop, never synchronously.
      const timer = setTimeout(finish, timeoutMs);
      if (fail !== undefined || (this.ports.get(port)?.length ?? 0) > 0) {
        clearTimeout(timer);
        setImmediate(finish);
        return;
      }
      this.wakeWaiter = () => {
        this.wakeWaiter = undefined;
        clearTimeout(timer);
        setImmediate(finish);
      };
    });
  }

  GetLastError(): number {
    return this.lastError;
  }

  /** Sets what GetLastError returns next (for subclasses modelling other kernel32 calls). */
  protected setLastError(value: number): void {
    this.lastError = value;
  }

  RtlNtStatusToDosError(status: number): number {
    return ntStatusToWin32(status);
  }

  // --- internals ------------------------------------------------------------------------------------

  protected view(address: bigint, length: number): Uint8Array {
    for (const [base, bytes] of this.mem) {
      if (address >= base && address + BigInt(length) <= base + BigInt(bytes.length)) {
        const off = Number(address - base);
        return bytes.subarray(off, off + length);
      }
    }
    throw new Error(`fake: access to 0x${address.toString(16)} (+${length}) outside live native memory`);
  }

  private post(handle: Win32Handle, overlapped: bigint, bytes: number): void {
    const assoc = this.association.get(handle);
    if (assoc === undefined) throw new Error('fake: completion for a handle without a port');
    this.PostQueuedCompletionStatus(assoc.port as Win32Handle, bytes, assoc.key, overlapped);
  }

  private drain(port: Win32Handle, entries: bigint, count: number, removed: bigint): number {
    const q = this.ports.get(port);
    const removedView = this.view(removed, 4);
    if (q === undefined || q.length === 0) {
      new DataView(removedView.buffer, removedView.byteOffset, 4).setUint32(0, 0, true);
      this.lastError = WIN32_ERROR.WAIT_TIMEOUT;
      return 0;
    }
    const n = Math.min(count, q.length);
    const out = this.view(entries, n * 32);
    const dv = new DataView(out.buffer, out.byteOffset, n * 32);
    for (let i = 0; i < n; i++) {
      const p = q.shift()!;
      dv.setBigUint64(i * 32, p.key, true);
      dv.setBigUint64(i * 32 + 8, p.overlapped, true);
      dv.setBigUint64(i * 32 + 16, 0n, true);
      dv.setUint32(i * 32 + 24, p.bytes, true);
    }
    new DataView(removedView.buffer, removedView.byteOffset, 4).setUint32(0, n, true);
    return 1;
  }
}
