import { describe, expect, it } from 'vitest';
import { TimeoutError, Win32Error, isCancelled } from '../../core/index.js';
import {
  IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET,
  IOCTL_GENERICUSBFN_SET_PIPE_STATE,
  IOCTL_GENERICUSBFN_TRANSFER_IN,
  IOCTL_GENERICUSBFN_TRANSFER_OUT,
  NTSTATUS,
  WIN32_ERROR,
} from '../abi/index.js';
import { CompletionPort, type CompletionPortDiagnostic } from './completion-port.js';
import { FakeOverlappedIoApi } from './testing/index.js';

const pipe = (id: number): Uint8Array => new Uint8Array([id, 0, 0, 0]);

function setup(options: { waitSliceMs?: number; drainTimeoutMs?: number } = {}) {
  const api = new FakeOverlappedIoApi();
  const port = CompletionPort.create(api, { waitSliceMs: options.waitSliceMs ?? 200, drainTimeoutMs: options.drainTimeoutMs ?? 200 });
  const file = port.attach(api.openFile(), 'fake-device');
  return { api, port, file };
}

/** Lets the fake "worker thread" run until `cond` holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never happened: ${what}`);
}

describe('CompletionPort (overlapped DeviceIoControl over one IOCP)', () => {
  it('completes a pending request through the port and copies the driver output back', async () => {
    const { api, file } = setup();
    const out = new Uint8Array(16);
    const p = file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(2), out);
    expect(api.ioctls).toHaveLength(1);
    const op = api.ioctls[0]!;
    expect(op.code).toBe(IOCTL_GENERICUSBFN_TRANSFER_OUT);
    expect([...op.input]).toEqual([2, 0, 0, 0]);
    expect(file.pendingCount).toBe(1);
    api.complete(op, { write: new Uint8Array([1, 2, 3, 4, 5]) });
    await expect(p).resolves.toBe(5);
    expect([...out.subarray(0, 6)]).toEqual([1, 2, 3, 4, 5, 0]);
    expect(file.pendingCount).toBe(0);
  });

  it('keeps 40 requests outstanding with a single worker-thread wait and matches completions by OVERLAPPED', async () => {
    const { api, port, file } = setup();
    const outs = Array.from({ length: 40 }, () => new Uint8Array(4));
    const ps = outs.map((o, i) => file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(i), o));
    expect(port.pendingCount).toBe(40);
    expect(new Set(api.ioctls.map((op) => op.overlapped)).size).toBe(40);
    // Complete in reverse order, in two batches.
    const ops = [...api.ioctls].reverse();
    for (const op of ops.slice(0, 20)) api.complete(op, { write: op.input });
    await until(() => port.pendingCount === 20, 'first batch dispatched');
    for (const op of ops.slice(20)) api.complete(op, { write: op.input });
    const bytes = await Promise.all(ps);
    expect(bytes).toEqual(new Array(40).fill(4));
    outs.forEach((o, i) => expect(o[0]).toBe(i));
    expect(api.maxAsyncWaitsInFlight).toBe(1);
    expect(port.isWaiting).toBe(false); // nothing pending → no wait holds the event loop
  });

  it('treats an inline (TRUE) completion like a pending one: it resolves from its packet', async () => {
    const { api, file } = setup();
    api.behaviour = () => ({ kind: 'inline', bytes: 3, write: new Uint8Array([9, 8, 7]) });
    const out = new Uint8Array(3);
    await expect(file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(1), out)).resolves.toBe(3);
    expect([...out]).toEqual([9, 8, 7]);
    expect(api.asyncWaitsStarted).toBe(1);
  });

  it('fails a synchronous failure at once with the mapped Win32Error and releases the block', async () => {
    const { api, file, port } = setup();
    api.behaviour = () => ({ kind: 'fail', win32: WIN32_ERROR.ERROR_INVALID_PARAMETER });
    const err = await file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipe(9), new Uint8Array(8), { target: 'pipe 9' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Win32Error);
    expect(err).toMatchObject({
      api: 'DeviceIoControl',
      win32: 87,
      win32Name: 'ERROR_INVALID_PARAMETER',
      ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_IN',
      target: 'pipe 9',
    });
    expect(port.pendingCount).toBe(0);
    expect(api.asyncWaitsStarted).toBe(0);
  });

  it('maps a completed failure status through RtlNtStatusToDosError and still returns what the driver wrote', async () => {
    const { api, file } = setup();
    // GET_INTERFACE_DESCRIPTOR_SET too small: the driver writes Size, then fails (docs/reference/ioctls.md#get-interface-descriptor-set).
    const out = new Uint8Array(12).fill(0xee);
    const p = file.deviceIoControl(IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET, new Uint8Array(12), out);
    api.complete(api.ioctls[0]!, { status: NTSTATUS.STATUS_BUFFER_TOO_SMALL, bytes: 0, write: new Uint8Array([0, 0, 0, 0, 2, 0, 0, 0, 0x40, 0]) });
    await expect(p).rejects.toMatchObject({ win32: 122, win32Name: 'ERROR_INSUFFICIENT_BUFFER' });
    expect([...out]).toEqual([0, 0, 0, 0, 2, 0, 0, 0, 0x40, 0, 0xee, 0xee]);
  });

  it('hands IN_DIRECT data to the driver through the output buffer and does not copy it back', async () => {
    const { api, file } = setup();
    const data = new Uint8Array([0xaa, 0xbb, 0xcc]);
    const p = file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipe(1), data);
    const op = api.ioctls[0]!;
    expect([...op.outputAtCall]).toEqual([0xaa, 0xbb, 0xcc]);
    api.complete(op, { write: new Uint8Array([0, 0, 0]), bytes: 3 }); // a misbehaving write must not leak back
    await expect(p).resolves.toBe(3);
    expect([...data]).toEqual([0xaa, 0xbb, 0xcc]);
    // SET_PIPE_STATE is IN_DIRECT too: its BOOLEAN travels in the output buffer.
    const q = file.deviceIoControl(IOCTL_GENERICUSBFN_SET_PIPE_STATE, pipe(1), new Uint8Array([1]));
    expect([...api.ioctls[1]!.outputAtCall]).toEqual([1]);
    api.complete(api.ioctls[1]!);
    await expect(q).resolves.toBe(0);
  });

  it('cancels one request on abort with CancelIoEx(handle, its OVERLAPPED) → ERROR_OPERATION_ABORTED (995)', async () => {
    const { api, file } = setup();
    const ac = new AbortController();
    const p = file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(1), new Uint8Array(8), { signal: ac.signal });
    const other = file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(2), new Uint8Array(8));
    ac.abort(new Error('test abort'));
    expect(api.cancelCalls).toEqual([{ handle: file.handle, overlapped: api.ioctls[0]!.overlapped }]);
    const err = await p.catch((e: unknown) => e);
    expect(err).toMatchObject({ win32: 995, win32Name: 'ERROR_OPERATION_ABORTED' });
    expect(isCancelled(err)).toBe(true);
    expect((err as Error).cause).toMatchObject({ message: 'test abort' });
    expect(file.pendingCount).toBe(1); // the other request is untouched
    api.complete(api.ioctls[1]!, { bytes: 0 });
    await expect(other).resolves.toBe(0);
  });

  it('resolves normally when the request completed before the abort took effect', async () => {
    const { api, file } = setup();
    const ac = new AbortController();
    const p = file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(1), new Uint8Array(2), { signal: ac.signal });
    api.complete(api.ioctls[0]!, { write: new Uint8Array([1, 2]) });
    ac.abort(); // CancelIoEx finds nothing (ERROR_NOT_FOUND): too late
    await expect(p).resolves.toBe(2);
  });

  it('does not issue a request whose signal is already aborted', async () => {
    const { api, file } = setup();
    const err = await file
      .deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(1), new Uint8Array(2), { signal: AbortSignal.abort() })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ win32Name: 'ERROR_OPERATION_ABORTED' });
    expect(api.ioctls).toHaveLength(0);
  });

  it('close(): cancels, closes the handle, waits until every pending request completed with 995', async () => {
    const { api, file } = setup();
    const ps = [1, 2, 3].map((i) =>
      file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(i), new Uint8Array(4)).catch((e: unknown) => e),
    );
    await file.close();
    expect(api.cancelCalls).toEqual([{ handle: file.handle, overlapped: null }]);
    expect(api.closed.has(file.handle)).toBe(true);
    expect(file.pendingCount).toBe(0);
    for (const e of await Promise.all(ps)) expect(e).toMatchObject({ win32: 995 });
    await file.close(); // second close: no-op
    // After close, nothing reaches the native side (a reused handle value must never be hit).
    const n = api.ioctls.length;
    await expect(file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(1), null)).rejects.toMatchObject({
      win32Name: 'ERROR_INVALID_HANDLE',
    });
    expect(api.ioctls).toHaveLength(n);
  });

  it('keeps the OVERLAPPED and buffers alive when a driver ignores cancellation, and reports the drain timeout', async () => {
    const { api, file, port } = setup({ drainTimeoutMs: 30 });
    api.honourCancel = false;
    const p = file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(1), new Uint8Array(4)).catch((e: unknown) => e);
    const err = await file.close().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    const op = api.ioctls[0]!;
    expect(api.isLive(op.overlapped)).toBe(true);
    // The driver finally completes it: the request settles and its block is recycled, not leaked or double-freed.
    api.complete(op, { status: NTSTATUS.STATUS_CANCELLED });
    await expect(p).resolves.toMatchObject({ win32: 995 });
    expect(port.pendingCount).toBe(0);
  });

  it('re-arms the wait after a timeout slice while requests are pending', async () => {
    const { api, file } = setup({ waitSliceMs: 5 });
    const p = file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(1), new Uint8Array(1));
    await new Promise((r) => setTimeout(r, 30));
    expect(api.asyncWaitsStarted).toBeGreaterThan(1);
    expect(api.maxAsyncWaitsInFlight).toBe(1);
    api.complete(api.ioctls[0]!, { write: new Uint8Array([7]) });
    await expect(p).resolves.toBe(1);
  });

  it('fails every pending request when the port wait itself fails', async () => {
    const { api, file } = setup();
    api.waitError = WIN32_ERROR.ERROR_INVALID_HANDLE;
    const ps = [1, 2].map((i) => file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(i), new Uint8Array(1)));
    api.complete(api.ioctls[0]!);
    for (const p of ps) {
      await expect(p).rejects.toMatchObject({ api: 'GetQueuedCompletionStatusEx', win32Name: 'ERROR_INVALID_HANDLE' });
    }
    await expect(file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(3), null)).rejects.toMatchObject({
      api: 'GetQueuedCompletionStatusEx',
    });
  });

  it('recycles native blocks and frees them all when the port closes', async () => {
    const { api, file, port } = setup();
    for (let round = 0; round < 5; round++) {
      const ps = Array.from({ length: 8 }, (_, i) => file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(i), new Uint8Array(100)));
      for (const op of api.pendingIoctls) api.complete(op, { bytes: 0 });
      await Promise.all(ps);
    }
    // entries + removed + at most 8 pooled blocks of one size class
    expect(api.liveBlocks).toBeLessThanOrEqual(2 + 8);
    await file.close();
    await port.close();
    expect(api.liveBlocks).toBe(0);
    expect(() => port.attach(api.openFile(), 'x')).toThrow(/PORT_CLOSED/);
  });

  it('refuses to close the port while requests are pending', async () => {
    const { api, file, port } = setup();
    const p = file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(1), null);
    await expect(port.close()).rejects.toMatchObject({ code: 'PORT_BUSY' });
    api.complete(api.ioctls[0]!);
    await p;
    await port.close();
  });
});

describe('CompletionPort: synchronous failures and unexpected packets (docs/win32-backend.md#synchronous-failures)', () => {
  it('keeps the block of a request that failed synchronously with an NT warning until its packet arrives: a new request never gets its OVERLAPPED', async () => {
    const diagnostics: CompletionPortDiagnostic[] = [];
    const api = new FakeOverlappedIoApi();
    const port = CompletionPort.create(api, { waitSliceMs: 200, drainTimeoutMs: 200, onDiagnostic: (d) => diagnostics.push(d) });
    const file = port.attach(api.openFile(), 'fake-device');
    // STATUS_BUFFER_OVERFLOW returned inline: FALSE + ERROR_MORE_DATA, and the I/O manager still queues a packet.
    api.behaviour = () => ({ kind: 'fail', win32: WIN32_ERROR.ERROR_MORE_DATA, write: new Uint8Array([1, 2, 3, 4]), packet: 'later' });
    const out = new Uint8Array(4);
    await expect(file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(1), out)).rejects.toMatchObject({ win32Name: 'ERROR_MORE_DATA' });
    expect([...out]).toEqual([1, 2, 3, 4]); // what the driver wrote is returned (OUT_DIRECT)
    const stale = api.ioctls[0]!;
    expect(port.heldBlocks).toBe(1);

    api.behaviour = () => ({ kind: 'pending' });
    const next = file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(1), new Uint8Array(4));
    const fresh = api.ioctls[1]!;
    expect(fresh.overlapped).not.toBe(stale.overlapped); // the held block was not reused
    // The late packet of the failed request arrives: it must not complete the new one.
    api.complete(stale, { status: NTSTATUS.STATUS_BUFFER_OVERFLOW, bytes: 4 });
    await until(() => port.latePackets === 1, 'late packet dequeued');
    expect(port.heldBlocks).toBe(0);
    expect(file.pendingCount).toBe(1);
    api.complete(fresh, { write: new Uint8Array([9]) });
    await expect(next).resolves.toBe(1);
    expect(port.unknownPackets).toBe(0);
    expect(diagnostics.map((d) => d.kind)).toEqual(['awaitingLatePacket', 'latePacket']);
    expect(api.isLive(stale.overlapped)).toBe(true); // recycled into the pool, not freed under the kernel
  });

  it('frees the block of an NT-error failure at once and copies what an OUT_DIRECT driver wrote back', async () => {
    const { api, file, port } = setup();
    api.behaviour = () => ({ kind: 'fail', win32: WIN32_ERROR.ERROR_INSUFFICIENT_BUFFER, write: new Uint8Array([0, 0, 0, 0, 0x40, 0, 0, 0]) });
    const out = new Uint8Array(10).fill(0xee);
    await expect(file.deviceIoControl(IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET, new Uint8Array(12), out)).rejects.toMatchObject({ win32: 122 });
    expect([...out]).toEqual([0, 0, 0, 0, 0x40, 0, 0, 0, 0xee, 0xee]);
    expect(port.heldBlocks).toBe(0);
    // IN_DIRECT: the "output" is the caller's data; nothing is copied back over it.
    api.behaviour = () => ({ kind: 'fail', win32: WIN32_ERROR.ERROR_INVALID_PARAMETER, write: new Uint8Array([0, 0]) });
    const data = new Uint8Array([5, 6]);
    await expect(file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipe(1), data)).rejects.toMatchObject({ win32: 87 });
    expect([...data]).toEqual([5, 6]);
  });

  it('stops waiting for a late packet after latePacketWaitMs and leaves that block allocated for good', async () => {
    const diagnostics: CompletionPortDiagnostic[] = [];
    const api = new FakeOverlappedIoApi();
    const port = CompletionPort.create(api, { waitSliceMs: 20, drainTimeoutMs: 50, latePacketWaitMs: 30, onDiagnostic: (d) => diagnostics.push(d) });
    const file = port.attach(api.openFile(), 'fake-device');
    api.behaviour = () => ({ kind: 'fail', win32: WIN32_ERROR.ERROR_MORE_DATA, packet: 'later' });
    await expect(file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(1), new Uint8Array(4))).rejects.toMatchObject({ win32: 234 });
    const held = api.ioctls[0]!.overlapped;
    await new Promise((r) => setTimeout(r, 120));
    expect(diagnostics.map((d) => d.kind)).toEqual(['awaitingLatePacket', 'latePacketMissing']);
    await until(() => !port.isWaiting, 'the wait is no longer re-armed');
    expect(port.heldBlocks).toBe(1);
    expect(api.isLive(held)).toBe(true);
    await file.close();
    await port.close();
    expect(api.isLive(held)).toBe(true); // never freed: the kernel may still write it
  });

  it('counts and reports a packet that matches no request instead of dropping it silently', async () => {
    const diagnostics: CompletionPortDiagnostic[] = [];
    const api = new FakeOverlappedIoApi();
    const port = CompletionPort.create(api, { waitSliceMs: 200, drainTimeoutMs: 200, onDiagnostic: (d) => diagnostics.push(d) });
    const file = port.attach(api.openFile(), 'fake-device');
    const p = file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(1), new Uint8Array(4));
    api.postStray(api.createdPorts[0]!, 0xdead0n, 7);
    api.postStray(api.createdPorts[0]!, 0n, 0, 0x99n);
    await until(() => port.unknownPackets === 2, 'stray packets dequeued');
    expect(diagnostics).toEqual([
      { kind: 'unknownPacket', overlapped: '0xdead0', bytes: 7, key: '0x1' },
      { kind: 'unknownPacket', overlapped: '0x0', bytes: 0, key: '0x99' },
    ]);
    api.complete(api.ioctls[0]!, { write: new Uint8Array([1]) });
    await expect(p).resolves.toBe(1);
  });

  it('passes a non-NULL lpOutBuffer for a zero-length output and NULL for no output', async () => {
    const { api, file } = setup();
    const a = file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipe(1), new Uint8Array(0));
    const b = file.deviceIoControl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipe(1), null);
    expect(api.ioctls[0]!.outAddress).not.toBeNull();
    expect(api.ioctls[0]!.outLength).toBe(0);
    expect(api.ioctls[1]!.outAddress).toBeNull();
    api.complete(api.ioctls[0]!);
    api.complete(api.ioctls[1]!);
    await expect(Promise.all([a, b])).resolves.toEqual([0, 0]);
  });
});
