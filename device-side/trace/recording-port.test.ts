/**
 * The recording decorator over a scripted port: what each kind of call writes, the sequence numbers of
 * interleaved requests, truncation, and a round trip through the reader.
 */
import { describe, expect, it } from 'vitest';
import {
  CM_NOTIFY_ACTION,
  IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
  IOCTL_GENERICUSBFN_GET_PIPE_STATE,
  IOCTL_GENERICUSBFN_TRANSFER_IN,
  IOCTL_GENERICUSBFN_TRANSFER_OUT,
  WIN32_ERROR,
  encodeUsbfnNotification,
} from '../abi/index.js';
import { listInterfaces } from '../list-interfaces.js';
import { FakeUsbFnFile, FakeUsbFnPort, ManualClock, notifyHandle, notifyInterface, testSymbolicLink, TEST_INTERFACE_GUID } from '../testing/index.js';
import { parseDeviceTrace } from './trace-reader.js';
import { MemoryTraceSink } from './trace-sink.js';
import { recordingPort } from './recording-port.js';
import type { TraceLine } from './trace-format.js';

const LINK = testSymbolicLink();
const pipe = (id: number): Uint8Array => Uint8Array.of(id, 0, 0, 0);

function setup(maxDataBytes?: number) {
  const clock = new ManualClock();
  const inner = new FakeUsbFnPort({ clock });
  inner.interfaces = [LINK];
  const sink = new MemoryTraceSink();
  const port = recordingPort(inner, sink, { backend: 'fake', ...(maxDataBytes === undefined ? {} : { maxDataBytes }) });
  const body = (): TraceLine[] => sink.lines.slice(1) as TraceLine[];
  return { clock, inner, sink, port, body };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('recordingPort (docs/reference/device-trace.md)', () => {
  it('starts with a versioned header naming the backend, the OS and the time base', () => {
    const { sink } = setup();
    expect(sink.lines[0]).toMatchObject({
      kind: 'header',
      format: 'usbfn-hil-device-trace',
      version: 2,
      backend: 'fake',
      timeBase: 'port-clock-ms',
      clockStartMs: 0,
      maxDataBytes: 4096,
      node: process.version,
    });
    expect((sink.lines[0] as { os: string }).os).toContain(process.platform);
  });

  it('records list calls, opens and IOCTLs with buffers, byte counts, status and times', async () => {
    const { clock, inner, port, body } = setup();
    const links = await listInterfaces(port, { interfaceClassGuid: TEST_INTERFACE_GUID });
    const file = await port.open(links[0]!);
    const fake = inner.files[0]!;
    fake.onIoctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, () => ({ pending: true }));
    const out = new Uint8Array(8);
    const p = file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(1), out);
    await clock.advance(5);
    fake.pending(IOCTL_GENERICUSBFN_TRANSFER_OUT)[0]!.complete(Uint8Array.of(1, 2, 3));
    await expect(p).resolves.toBe(3);
    expect(body().map((l) => l.kind)).toEqual(['cmCall', 'cmCall', 'open', 'ioctl']);
    expect(body()[1]).toMatchObject({ api: 'CM_Get_Device_Interface_ListW', links: [LINK], cr: 0, crName: 'CR_SUCCESS' });
    expect(body()[2]).toMatchObject({ kind: 'open', symbolicLink: LINK, handle: 1, win32: 0, win32Name: 'ERROR_SUCCESS' });
    expect(body()[3]).toEqual({
      kind: 'ioctl',
      submitSeq: 7,
      submitMs: 0,
      seq: 8,
      completeMs: 5,
      handle: 1,
      code: IOCTL_GENERICUSBFN_TRANSFER_OUT,
      name: 'IOCTL_GENERICUSBFN_TRANSFER_OUT',
      input: '01000000',
      outputSize: 8,
      bytesReturned: 3,
      output: '010203',
      win32: 0,
      win32Name: 'ERROR_SUCCESS',
    });
  });

  it('records a failure with its Win32 error, the whole output a driver wrote, and IN_DIRECT data as outputData', async () => {
    const { inner, port, body } = setup();
    const file = await port.open(LINK);
    inner.files[0]!
      .respond(IOCTL_GENERICUSBFN_GET_PIPE_STATE, { fail: WIN32_ERROR.ERROR_INVALID_PARAMETER, bytes: Uint8Array.of(9) })
      .respond(IOCTL_GENERICUSBFN_TRANSFER_IN, { complete: true, bytesReturned: 2 });
    await expect(file.ioctl(IOCTL_GENERICUSBFN_GET_PIPE_STATE, pipe(7), new Uint8Array(1))).rejects.toMatchObject({ win32: 87 });
    await file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipe(2), Uint8Array.of(0xaa, 0xbb));
    await settle();
    const [, failed, sent] = body();
    expect(failed).toMatchObject({ bytesReturned: null, output: '09', win32: 87, win32Name: 'ERROR_INVALID_PARAMETER' });
    expect(sent).toMatchObject({ name: 'IOCTL_GENERICUSBFN_TRANSFER_IN', outputSize: 2, outputData: 'aabb', output: null, bytesReturned: 2 });
  });

  it('numbers submissions and completions on one counter, so interleaved requests can be rebuilt', async () => {
    const { inner, port, body } = setup();
    const file = await port.open(LINK);
    inner.files[0]!.onIoctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, () => ({ pending: true }));
    const a = file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, new Uint8Array(12));
    const b = file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, new Uint8Array(12));
    const [first, second] = inner.files[0]!.pending(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION);
    second!.complete(encodeUsbfnNotification({ type: 'attach' }));
    await b;
    first!.complete(encodeUsbfnNotification({ type: 'reset', busSpeed: 2 }), 8);
    await a;
    await settle();
    const [, done1, done2] = body() as (TraceLine & { kind: 'ioctl' })[];
    expect([done1!.submitSeq, done1!.seq, done1!.output]).toEqual([4, 5, '010000000000000000000000']);
    expect([done2!.submitSeq, done2!.seq, done2!.bytesReturned, done2!.output]).toEqual([3, 6, 8, '0200000002000000']);
  });

  it('records notifications with the raw event data, its size and the callback result, on the handle registration', async () => {
    const { inner, port, body } = setup();
    const file = await port.open(LINK);
    await port.watchInterfaces(TEST_INTERFACE_GUID, () => 0);
    const reg = await port.watchHandle(file, (action) => (action === CM_NOTIFY_ACTION.CM_NOTIFY_ACTION_DEVICEQUERYREMOVE ? WIN32_ERROR.ERROR_CANCELLED : 0));
    notifyInterface(inner, 'arrival', LINK);
    expect(notifyHandle(inner, LINK, 'QUERYREMOVE')).toEqual([1223]);
    await reg.unregister();
    const lines = body();
    expect(lines.map((l) => l.kind)).toEqual(['open', 'cmRegister', 'cmRegister', 'cm', 'cm', 'cmUnregister']);
    expect(lines[1]).toMatchObject({ registration: 'r1', filter: 'deviceInterface', target: TEST_INTERFACE_GUID, cr: 0 });
    expect(lines[2]).toMatchObject({ registration: 'r2', filter: 'deviceHandle', target: 1 });
    expect(lines[3]).toMatchObject({ registration: 'r1', action: 0, actionName: 'CM_NOTIFY_ACTION_DEVICEINTERFACEARRIVAL', result: 0, resultName: 'ERROR_SUCCESS' });
    const qr = lines[4] as TraceLine & { kind: 'cm' };
    expect(qr).toMatchObject({ registration: 'r2', actionName: 'CM_NOTIFY_ACTION_DEVICEQUERYREMOVE', eventDataSize: 36, result: 1223, resultName: 'ERROR_CANCELLED' });
    expect(qr.eventData).toHaveLength(72);
    expect(lines[5]).toMatchObject({ registration: 'r2', cr: 0 });
  });

  it('numbers the callback\'s return (returnSeq): a CloseHandle made inside the callback lies before it, one made after an await beyond it', async () => {
    const { inner, port, sink, body } = setup();
    const first = await port.open(LINK);
    const second = await port.open(LINK);
    let later: Promise<void> | undefined;
    await port.watchHandle(first, () => {
      void first.close();
      return 0;
    });
    await port.watchHandle(second, () => {
      later = (async () => {
        await Promise.resolve();
        await second.close();
      })();
      return 0;
    });
    notifyHandle(inner, LINK, 'QUERYREMOVE');
    await later;
    await settle();
    const lines = body();
    const cm = lines.filter((l): l is TraceLine & { kind: 'cm' } => l.kind === 'cm');
    const close = (h: number) => lines.find((l): l is TraceLine & { kind: 'close' } => l.kind === 'close' && l.handle === h)!;
    expect(cm.map((l) => l.registration)).toEqual(['r1', 'r2']);
    const [inside, after] = cm;
    expect(inside!.returnSeq).toBe(inside!.seq + 2);
    expect(close(1).submitSeq).toBe(inside!.seq + 1); // between the entry and the return
    expect(close(2).submitSeq).toBeGreaterThan(after!.returnSeq!);
    // Each notification line is written when its callback returned; the trace parses back.
    expect(lines.indexOf(inside!)).toBeLessThan(lines.indexOf(close(1)));
    expect(parseDeviceTrace(sink.text()).lines).toEqual(lines);
  });

  it('records a throwing callback (and lets the throw through) and a failed CreateFileW', async () => {
    const { inner, port, body } = setup();
    await port.watchInterfaces(TEST_INTERFACE_GUID, () => {
      throw new Error('listener bug');
    });
    expect(() => notifyInterface(inner, 'arrival', LINK)).toThrow('listener bug');
    inner.failNext('CreateFileW', WIN32_ERROR.ERROR_SHARING_VIOLATION);
    await expect(port.open(LINK)).rejects.toMatchObject({ win32: 32 });
    expect(body()[1]).toMatchObject({ kind: 'cm', result: null, threw: 'listener bug' });
    expect(body()[2]).toMatchObject({ kind: 'open', handle: null, win32: 32, win32Name: 'ERROR_SHARING_VIOLATION' });
  });

  it('cuts buffers to maxDataBytes and says so', async () => {
    const { inner, port, body } = setup(4);
    const file = await port.open(LINK);
    inner.files[0]!.respond(IOCTL_GENERICUSBFN_TRANSFER_IN, { complete: true, bytesReturned: 6 });
    await file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipe(1), Uint8Array.of(1, 2, 3, 4, 5, 6));
    await settle();
    expect(body()[1]).toMatchObject({ outputData: '01020304', dataTruncated: true, bytesReturned: 6 });
  });

  it('finish() writes the end line with the calls still pending and closes the sink; the text parses back', async () => {
    const { inner, port, sink, body } = setup();
    const file = await port.open(LINK);
    port.note('probe step', { step: 1 });
    inner.files[0]!.onIoctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, () => ({ pending: true }));
    void file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, new Uint8Array(12)).catch(() => undefined);
    await port.finish();
    expect(body().at(-1)).toMatchObject({ kind: 'end', pending: 1 });
    expect(sink.closed).toBe(true);
    const trace = parseDeviceTrace(sink.text());
    expect(trace.finished).toBe(true);
    expect(trace.header.backend).toBe('fake');
    expect(trace.lines.map((l) => l.kind)).toEqual(['open', 'note', 'end']);
    await file.close(); // after finish nothing more is written
    expect(body().at(-1)).toMatchObject({ kind: 'end' });
  });

  it('hands a handle registration the inner port\'s own file', async () => {
    const inner = new FakeUsbFnPort();
    const seen: unknown[] = [];
    const original = inner.watchHandle.bind(inner);
    inner.watchHandle = (file, listener) => {
      seen.push(file);
      return original(file, listener);
    };
    const port = recordingPort(inner, new MemoryTraceSink());
    const file = await port.open(LINK);
    await port.watchHandle(file, () => 0);
    expect(seen[0]).toBeInstanceOf(FakeUsbFnFile);
    expect(seen[0]).toBe(inner.files[0]);
  });
});

describe('MemoryTraceSink bound', () => {
  it('keeps the header and drops the oldest half of the other lines when full, counting them', async () => {
    const sink = new MemoryTraceSink({ maxLines: 5 });
    const port = recordingPort(new FakeUsbFnPort(), sink);
    for (let i = 0; i < 6; i++) port.note(`n${i}`);
    expect(sink.lines[0]).toMatchObject({ kind: 'header' });
    expect(sink.lines.slice(1).map((l) => (l as { text?: string }).text)).toEqual(['n2', 'n3', 'n4', 'n5']);
    expect(sink.dropped).toBe(2);
    expect(() => new MemoryTraceSink({ maxLines: 1 })).toThrow(/at least 2/);
  });
});
