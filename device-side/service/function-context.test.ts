/**
 * Unit tests of the function context: pipe resolution against GET_CLASS_INFO, transfers through
 * UsbFnClient over a scripted handle, the configuration's AbortSignal, and the OUT queue helper.
 */
import { describe, expect, it } from 'vitest';
import {
  IOCTL_GENERICUSBFN_GET_PIPE_STATE,
  IOCTL_GENERICUSBFN_SET_PIPE_STATE,
  IOCTL_GENERICUSBFN_TRANSFER_IN,
  IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT,
  IOCTL_GENERICUSBFN_TRANSFER_OUT,
  type UsbfnClassInterface,
} from '../abi/index.js';
import { FakeUsbFnFile } from '../testing/index.js';
import { UsbFnClient } from '../usbfn-client.js';
import { DeviceEventLog } from './device-event-log.js';
import { processQueueBuffers } from './queue-buffer-pool.js';
import { ConfiguredFunctionContext, MAX_QUEUE_FAILURES_IN_A_ROW, resolvePipes } from './function-context.js';

const ep = (bEndpointAddress: number, type: number, wMaxPacketSize: number) => ({
  bLength: 7,
  bDescriptorType: 5,
  bEndpointAddress,
  bmAttributes: type,
  wMaxPacketSize,
  bInterval: 0,
});

/** Interface 0: bulk OUT 0x01 (pipe 1), bulk IN 0x81 (pipe 2), interrupt IN 0x82 (pipe 3), bulk IN 0x83 (pipe 4). */
const IFACE: UsbfnClassInterface = {
  interfaceNumber: 0,
  pipes: [
    { epDesc: ep(0x01, 2, 512), pipeId: 1 },
    { epDesc: ep(0x81, 2, 512), pipeId: 2 },
    { epDesc: ep(0x82, 3, 0x1840), pipeId: 3 }, // high-bandwidth bits above wMaxPacketSize's 11 bits
    { epDesc: ep(0x83, 2, 512), pipeId: 4 },
  ],
};

describe('resolvePipes', () => {
  it('matches requests in declaration order by direction and type, skipping pipes already taken', () => {
    const pipes = resolvePipes(
      { rx: { direction: 'out' }, tx: { direction: 'in' }, tx2: { direction: 'in' }, irq: { direction: 'in', type: 'interrupt' } },
      IFACE,
    );
    expect(pipes.get('rx')).toEqual({ name: 'rx', pipeId: 1, endpointAddress: 0x01, direction: 'out', type: 'bulk', maxPacketSize: 512 });
    expect(pipes.get('tx')?.pipeId).toBe(2);
    expect(pipes.get('tx2')?.pipeId).toBe(4);
    expect(pipes.get('irq')).toMatchObject({ pipeId: 3, type: 'interrupt', maxPacketSize: 0x040 });
  });

  it('honours a specific endpoint address', () => {
    expect(resolvePipes({ tx: { direction: 'in', endpointAddress: 0x83 } }, IFACE).get('tx')?.pipeId).toBe(4);
  });

  it('names the request and the pipes that exist when nothing matches', () => {
    expect(() => resolvePipes({ iso: { direction: 'in', type: 'isochronous' } }, IFACE)).toThrow(
      expect.objectContaining({ code: 'PIPE_NOT_FOUND', message: expect.stringMatching(/'iso'.*pipe 1 ep 0x1.*pipe 4 ep 0x83/) }),
    );
    expect(() => resolvePipes({ a: { direction: 'out' }, b: { direction: 'out' } }, IFACE)).toThrow(expect.objectContaining({ code: 'PIPE_NOT_FOUND' }));
    expect(() => resolvePipes({ a: { direction: 'out' } }, { interfaceNumber: 1, pipes: [] })).toThrow(/no pipes/);
  });
});

function makeContext(file = new FakeUsbFnFile()) {
  const controller = new AbortController();
  const log = new DeviceEventLog(() => 0);
  const ctx = new ConfiguredFunctionContext({
    speed: 'high',
    signal: controller.signal,
    pipes: resolvePipes({ out: { direction: 'out' }, in: { direction: 'in' } }, IFACE),
    client: new UsbFnClient(file),
    log,
    functionName: 'unit',
  });
  return { ctx, file, controller, log };
}

const pipeOf = (input: Uint8Array | null): number => new DataView(input!.buffer, input!.byteOffset, 4).getUint32(0, true);

describe('ConfiguredFunctionContext', () => {
  it('sends TRANSFER_IN or TRANSFER_IN_APPEND_ZERO_PKT on the resolved pipe id', async () => {
    const { ctx, file } = makeContext();
    file.respond(IOCTL_GENERICUSBFN_TRANSFER_IN, { complete: true, bytesReturned: 3 });
    file.respond(IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT, { complete: true, bytesReturned: 512 });
    await expect(ctx.transferIn('in', Uint8Array.of(1, 2, 3))).resolves.toBe(3);
    await expect(ctx.transferIn('in', new Uint8Array(512), { appendZeroLengthPacket: true })).resolves.toBe(512);
    expect(file.calls.map((c) => [c.name, pipeOf(c.input)])).toEqual([
      ['IOCTL_GENERICUSBFN_TRANSFER_IN', 2],
      ['IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT', 2],
    ]);
  });

  it('receives with TRANSFER_OUT and reads and sets the pipe state', async () => {
    const { ctx, file } = makeContext();
    file.respond(IOCTL_GENERICUSBFN_TRANSFER_OUT, { complete: true, bytes: Uint8Array.of(9, 8) });
    file.respond(IOCTL_GENERICUSBFN_SET_PIPE_STATE, { complete: true });
    file.respond(IOCTL_GENERICUSBFN_GET_PIPE_STATE, { complete: true, bytes: Uint8Array.of(1) });
    const buf = new Uint8Array(64);
    await expect(ctx.transferOut('out', buf)).resolves.toBe(2);
    expect([...buf.subarray(0, 2)]).toEqual([9, 8]);
    await ctx.setStall('in', true);
    expect([...file.callsOf(IOCTL_GENERICUSBFN_SET_PIPE_STATE)[0]!.output!]).toEqual([1]);
    await expect(ctx.getStall('in')).resolves.toBe(true);
  });

  it('cancels pending transfers when the configuration ends, and issues none afterwards', async () => {
    const { ctx, file, controller } = makeContext();
    file.onIoctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, () => ({ pending: true }));
    const pending = ctx.transferOut('out', new Uint8Array(8));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ win32Name: 'ERROR_OPERATION_ABORTED' });
    const calls = file.calls.length;
    await expect(ctx.transferIn('in', Uint8Array.of(1))).rejects.toMatchObject({ name: 'AbortedError', code: 'ABORTED' });
    await expect(ctx.transferOut('out', new Uint8Array(1))).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(ctx.setStall('in', true)).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(ctx.getStall('in')).rejects.toMatchObject({ code: 'ABORTED' });
    expect(file.calls.length).toBe(calls);
  });

  it('rejects unknown pipes and wrong directions synchronously with UsageErrors', () => {
    const { ctx } = makeContext();
    expect(() => ctx.pipe('nope')).toThrow(expect.objectContaining({ code: 'PIPE_NOT_FOUND', message: expect.stringContaining('it has: out, in') }));
    expect(() => ctx.transferOut('in', new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'PIPE_DIRECTION' }));
    expect(() => ctx.runQueue('in', { depth: 1, bufferBytes: 8 }, () => undefined)).toThrow(expect.objectContaining({ code: 'PIPE_DIRECTION' }));
    expect(() => ctx.runQueue('out', { depth: 0, bufferBytes: 8 }, () => undefined)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(ctx.pipeByAddress(0x81)?.name).toBe('in');
    expect(ctx.pipeByAddress(0x82)).toBeUndefined();
  });

  it('runQueue keeps depth transfers queued and hands completions over in submission order', async () => {
    const { ctx, file, controller } = makeContext();
    file.onIoctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, () => ({ pending: true }));
    const seen: number[][] = [];
    ctx.runQueue('out', { depth: 3, bufferBytes: 16 }, (d) => {
      seen.push([...d]);
    });
    expect(file.pending(IOCTL_GENERICUSBFN_TRANSFER_OUT)).toHaveLength(3);
    const [a, b, c] = file.pending(IOCTL_GENERICUSBFN_TRANSFER_OUT);
    c!.complete(Uint8Array.of(3)); // out of order: held until a and b are handed over
    b!.complete(Uint8Array.of(2, 2));
    await Promise.resolve();
    expect(seen).toEqual([]);
    a!.complete(Uint8Array.of(1));
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([[1], [2, 2], [3]]);
    expect(file.pending(IOCTL_GENERICUSBFN_TRANSFER_OUT)).toHaveLength(3); // re-armed
    controller.abort();
    await new Promise((r) => setImmediate(r));
    expect(file.pending(IOCTL_GENERICUSBFN_TRANSFER_OUT)).toHaveLength(0);
  });

  it('runQueue ends when its transfers are purged (ERROR_OPERATION_ABORTED) without resubmitting', async () => {
    const { ctx, file, log } = makeContext();
    file.onIoctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, () => ({ pending: true }));
    ctx.runQueue('out', { depth: 2, bufferBytes: 16 }, () => undefined);
    for (const call of file.pending()) call.fail(995);
    await new Promise((r) => setImmediate(r));
    expect(file.calls).toHaveLength(2);
    expect(log.entries).toEqual([]);
  });

  it('runQueue gives its buffers back to the shared pool only once every transfer using them has ended', async () => {
    const { ctx, file } = makeContext();
    file.onIoctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, () => ({ pending: true }));
    const before = processQueueBuffers.freeBytes;
    ctx.runQueue('out', { depth: 2, bufferBytes: 4099 }, () => undefined);
    const [first, second] = file.pending();
    first!.fail(995);
    await new Promise((r) => setImmediate(r));
    expect(processQueueBuffers.freeBytes).toBe(before); // the second buffer is still the driver's
    second!.fail(995);
    await new Promise((r) => setImmediate(r));
    expect(processQueueBuffers.freeBytes).toBe(before + 2 * 4099);
    const again = processQueueBuffers.take(4099);
    expect(again.length).toBe(4099);
    processQueueBuffers.give(again);
  });

  it('runQueue logs a failed transfer, resubmits it, and stops after too many failures in a row', async () => {
    const { ctx, file, log } = makeContext();
    file.onIoctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, () => ({ fail: 31 }));
    ctx.runQueue('out', { depth: 1, bufferBytes: 16 }, () => undefined);
    await new Promise((r) => setImmediate(r));
    expect(file.calls).toHaveLength(MAX_QUEUE_FAILURES_IN_A_ROW);
    expect(log.ofKind('functionError')).toHaveLength(MAX_QUEUE_FAILURES_IN_A_ROW);
    expect(log.ofKind('functionError')[0]).toMatchObject({ error: { name: 'Win32Error' }, detail: { function: 'unit', where: 'runQueue(out)' } });
    expect(log.ofKind('queueStopped')[0]?.error).toMatchObject({ code: 'QUEUE_STOPPED' });
  });

  it('runQueue logs a throwing handler and keeps going', async () => {
    const { ctx, file, log, controller } = makeContext();
    file.onIoctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, () => ({ pending: true }));
    let n = 0;
    ctx.runQueue('out', { depth: 1, bufferBytes: 16 }, () => {
      if (++n === 1) throw new Error('handler broke');
    });
    file.pending()[0]!.complete(Uint8Array.of(1));
    await new Promise((r) => setImmediate(r));
    file.pending()[0]!.complete(Uint8Array.of(2));
    await new Promise((r) => setImmediate(r));
    expect(n).toBe(2);
    expect(log.ofKind('functionError')[0]).toMatchObject({ error: { message: 'handler broke' }, detail: { where: 'runQueue(out) handler' } });
    controller.abort();
  });

  it('log and fail write to the device event log with the function name', () => {
    const { ctx, log } = makeContext();
    ctx.log('hello', { n: 1 });
    ctx.fail(new Error('boom'), 'here');
    expect(log.entries.map((e) => [e.level, e.kind, e.detail])).toEqual([
      ['info', 'hello', { function: 'unit', n: 1 }],
      ['error', 'functionError', { function: 'unit', where: 'here' }],
    ]);
  });
});
