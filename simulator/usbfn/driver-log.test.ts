/** The driver log's ring: entries read back exactly as logged (keys and their order: reports attach them as JSON). */
import { describe, expect, it } from 'vitest';
import { IOCTL_GENERICUSBFN_TRANSFER_OUT, NTSTATUS } from '../../device-side/index.js';
import { DriverLog, type DriverLogEntry } from './driver-log.js';
import { IoRequest } from './io-request.js';

const noOwner = { requestCompleted: (): void => undefined };
const noCompletion = { complete: (): void => undefined };

/** A completed TRANSFER_OUT-like request. */
function request(code: number, status: number, information: number, options: { pipe?: number; win32?: number; simulatorError?: Error } = {}): IoRequest {
  const req = new IoRequest(3, code, new Uint8Array(4), new Uint8Array(512), 1.25, noOwner, noCompletion);
  req.pipe = options.pipe;
  req.win32Override = options.win32;
  req.simulatorError = options.simulatorError;
  req.complete(status, information);
  return req;
}

/** One entry of each kind, as the model used to build them. */
function sample(i: number): DriverLogEntry {
  switch (i % 3) {
    case 0:
      return { kind: 'ioctl', timeMs: i, submittedMs: i - 0.5, handle: 1, ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_IN', pipe: i % 2 === 0 ? undefined : 2, bytes: 64, bytesReturned: i, win32: 0, outcome: 'ERROR_SUCCESS' };
    case 1:
      return { kind: 'busEvent', timeMs: i, handle: i % 2 === 0 ? undefined : 2, event: 'setupPacket', delivery: 'completed' };
    default:
      return { kind: 'file', timeMs: i, handle: i, action: 'close', outcome: 'ERROR_SUCCESS' };
  }
}

describe('DriverLog', () => {
  it('gives back every kind of entry with the same keys in the same order, across growth and wrap-around', () => {
    const log = new DriverLog(100);
    const all = Array.from({ length: 250 }, (_, i) => sample(i));
    for (const e of all) log.add(e);
    expect(log.total).toBe(250);
    expect(JSON.stringify(log.entries())).toBe(JSON.stringify(all.slice(150)));
    expect(log.entries()).toEqual(all.slice(150));
  });

  it('logs a request as its entry: names from the code and the Win32 result, undefined pipe kept as a key', () => {
    const log = new DriverLog();
    log.addIoctl(request(IOCTL_GENERICUSBFN_TRANSFER_OUT, NTSTATUS.STATUS_SUCCESS, 512, { pipe: 1 }), 7);
    log.addIoctl(request(IOCTL_GENERICUSBFN_TRANSFER_OUT, NTSTATUS.STATUS_CANCELLED, 0), 8);
    log.addIoctl(request(0x00220abc, NTSTATUS.STATUS_SUCCESS, 0, { win32: 12345 }), 9);
    log.addIoctl(request(IOCTL_GENERICUSBFN_TRANSFER_OUT, NTSTATUS.STATUS_UNSUCCESSFUL, 0, { simulatorError: new Error('bug') }), 10);
    const entries = log.entries();
    expect(Object.keys(entries[1]!)).toEqual(['kind', 'timeMs', 'submittedMs', 'handle', 'ioctl', 'pipe', 'bytes', 'bytesReturned', 'win32', 'outcome']);
    expect(entries).toEqual([
      { kind: 'ioctl', timeMs: 7, submittedMs: 1.25, handle: 3, ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_OUT', pipe: 1, bytes: 512, bytesReturned: 512, win32: 0, outcome: 'ERROR_SUCCESS' },
      { kind: 'ioctl', timeMs: 8, submittedMs: 1.25, handle: 3, ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_OUT', pipe: undefined, bytes: 512, bytesReturned: 0, win32: 995, outcome: 'ERROR_OPERATION_ABORTED' },
      { kind: 'ioctl', timeMs: 9, submittedMs: 1.25, handle: 3, ioctl: 'IOCTL_0x00220ABC', pipe: undefined, bytes: 512, bytesReturned: 0, win32: 12345, outcome: 'WIN32_12345' },
      { kind: 'ioctl', timeMs: 10, submittedMs: 1.25, handle: 3, ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_OUT', pipe: undefined, bytes: 512, bytesReturned: 0, win32: 31, outcome: 'SIM_LINK_FAILURE' },
    ]);
    expect('pipe' in entries[1]!).toBe(true);
  });

  it('hands out snapshots: later entries and clear() do not change entries already read', () => {
    const log = new DriverLog(2);
    log.addFile(1, 1, 'open', 'ERROR_SUCCESS');
    const before = log.entries();
    log.addBusEvent(2, 1, 'attach', 'queued');
    log.addBusEvent(3, undefined, 'reset', 'noHandle');
    expect(before).toEqual([{ kind: 'file', timeMs: 1, handle: 1, action: 'open', outcome: 'ERROR_SUCCESS' }]);
    expect(log.entries().map((e) => e.timeMs)).toEqual([2, 3]);
    log.clear();
    expect(log.entries()).toEqual([]);
    log.addFile(4, undefined, 'removed', 'ERROR_DEVICE_REMOVED');
    expect(log.entries()).toEqual([{ kind: 'file', timeMs: 4, handle: undefined, action: 'removed', outcome: 'ERROR_DEVICE_REMOVED' }]);
    expect(log.total).toBe(4);
  });
});
