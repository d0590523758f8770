/** Driver faults (failNext, delayPipe), the driver log, and the event queue ring. */
import { describe, expect, it } from 'vitest';
import {
  IOCTL_GENERICUSBFN_GET_CLASS_INFO,
  IOCTL_GENERICUSBFN_TRANSFER_IN,
  IOCTL_GENERICUSBFN_TRANSFER_OUT,
  NTSTATUS,
} from '../../device-side/index.js';
import { UsageError } from '../../core/index.js';
import { DriverFaults, resolveIoctl } from './driver-faults.js';
import { DriverLog } from './driver-log.js';
import { EventQueue } from './event-queue.js';
import { flush, openConfigured, openFile, pipeIdBuffer, track, makeSimDriverRig } from './testing/index.js';

describe('failNext', () => {
  it('fails the next matching IOCTL (by short name) with the Win32 error, without reaching UFX, once', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    rig.model.failNext({ ioctl: 'TRANSFER_OUT', win32: 31 });
    await expect(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeIdBuffer(1), new Uint8Array(8))).rejects.toMatchObject({
      win32: 31,
      win32Name: 'ERROR_GEN_FAILURE',
    });
    expect(rig.link.pending()).toHaveLength(0);
    const next = track(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeIdBuffer(1), new Uint8Array(8)));
    await flush();
    expect(next.done).toBe(false); // the rule was used up
    expect(rig.link.pending()).toHaveLength(1);
  });

  it('takes a code or a full name, an NTSTATUS, a count and a pipe filter', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    rig.model.failNext({ ioctl: IOCTL_GENERICUSBFN_GET_CLASS_INFO, ntstatus: NTSTATUS.STATUS_DEVICE_NOT_CONNECTED, count: 2 });
    rig.model.failNext({ ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_IN', pipe: 3 });
    for (let i = 0; i < 2; i++) {
      await expect(file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, new Uint8Array(748))).rejects.toMatchObject({ win32: 1167 });
    }
    await expect(file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, new Uint8Array(748))).resolves.toBe(748);
    const onPipe2 = track(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipeIdBuffer(2), new Uint8Array(1)));
    await expect(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipeIdBuffer(3), new Uint8Array(1))).rejects.toMatchObject({ win32: 31 });
    await flush();
    expect(onPipe2.done).toBe(false);
  });

  it('reset() removes every rule; a bad name or count is a UsageError', () => {
    const faults = new DriverFaults();
    faults.failNext({ ioctl: 'TRANSFER_IN' });
    faults.delayPipe(1, 5);
    expect(faults.active).toBe(true);
    faults.reset();
    expect(faults.active).toBe(false);
    expect(() => faults.failNext({ ioctl: 'TRANSFER_SIDEWAYS' })).toThrow(UsageError);
    expect(() => faults.failNext({ ioctl: 'TRANSFER_IN', count: 0 })).toThrow(UsageError);
    expect(() => faults.delayPipe(1, -1)).toThrow(UsageError);
    expect(resolveIoctl('TRANSFER_IN')).toBe(IOCTL_GENERICUSBFN_TRANSFER_IN);
  });
});

describe('delayPipe', () => {
  it('holds a transfer completion on the pipe for ms of simulation time', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    rig.model.delayPipe(2, 50);
    const p = file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipeIdBuffer(2), new Uint8Array(4));
    await flush();
    const before = rig.clock.now();
    rig.link.hostTake(0x81);
    expect(await p).toBe(4);
    // The bus finished at `before`; the driver completed the IOCTL 50 ms of simulation time later.
    expect(rig.clock.now() - before).toBe(50);
  });

  it('a delayed completion can still be cancelled (995)', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    rig.model.delayPipe(2, 50);
    const ac = new AbortController();
    const p = file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipeIdBuffer(2), new Uint8Array(4), { signal: ac.signal });
    await flush();
    rig.link.hostTake(0x81);
    // 10 ms into the 50 ms hold: the bus has finished, the driver has not completed the IOCTL yet.
    rig.clock.setTimer(10, () => ac.abort());
    await expect(p).rejects.toMatchObject({ win32: 995 });
  });
});

describe('driver log', () => {
  it('records every IOCTL with handle, name, pipe, bytes and outcome, plus opens and bus events', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    await file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipeIdBuffer(7), new Uint8Array(3)).catch(() => undefined);
    const entries = rig.model.log.entries();
    expect(entries[0]).toMatchObject({ kind: 'file', action: 'open', handle: 1 });
    expect(entries.at(-1)).toMatchObject({
      kind: 'ioctl',
      handle: 1,
      ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_IN',
      pipe: 7,
      bytes: 3,
      bytesReturned: 0,
      win32: 87,
      outcome: 'ERROR_INVALID_PARAMETER',
    });
    expect(entries.filter((e) => e.kind === 'busEvent').map((e) => e.kind === 'busEvent' && e.event)).toEqual(['attach', 'reset', 'configured']);
    expect(rig.model.log.format()).toContain('IOCTL_GENERICUSBFN_TRANSFER_IN pipe 7 bytes=3 returned=0 → ERROR_INVALID_PARAMETER');
  });

  it('is bounded: the oldest entries fall off; capacity 0 disables it', async () => {
    const log = new DriverLog(3);
    for (let i = 0; i < 5; i++) log.add({ kind: 'file', timeMs: i, handle: i, action: 'open', outcome: 'ERROR_SUCCESS' });
    expect(log.entries().map((e) => e.timeMs)).toEqual([2, 3, 4]);
    expect(log.total).toBe(5);
    const off = makeSimDriverRig({ model: { logCapacity: 0 } });
    const file = await openFile(off);
    await file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, new Uint8Array(748));
    expect(off.model.log.entries()).toEqual([]);
  });
});

describe('EventQueue', () => {
  it('is FIFO and drops the oldest on overflow', () => {
    const q = new EventQueue(2);
    expect(q.push({ type: 'attach' })).toBeUndefined();
    q.push({ type: 'suspend' });
    expect(q.push({ type: 'resume' })).toEqual({ type: 'attach' });
    expect([q.shift(), q.shift(), q.shift()]).toEqual([{ type: 'suspend' }, { type: 'resume' }, undefined]);
    expect(q.dropped).toBe(1);
    expect(() => new EventQueue(0)).toThrow(RangeError);
  });
});
