import { describe, expect, it } from 'vitest';
import { UsageError, Win32Error } from '../core/index.js';
import {
  AbiDecodeError,
  IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS,
  IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
  IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN,
  IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT,
  IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS,
  IOCTL_GENERICUSBFN_GET_CLASS_INFO,
  IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX,
  IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET,
  IOCTL_GENERICUSBFN_GET_PIPE_STATE,
  IOCTL_GENERICUSBFN_REGISTER_USB_STRING,
  IOCTL_GENERICUSBFN_SET_PIPE_STATE,
  IOCTL_GENERICUSBFN_TRANSFER_IN,
  IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT,
  IOCTL_GENERICUSBFN_TRANSFER_OUT,
  WIN32_ERROR,
  encodeUsbfnClassInformationPacket,
  encodeUsbfnClassInformationPacketEx,
  encodeUsbfnNotification,
  encodeUsbfnUsbString,
  type UsbfnClassInformationPacket,
  type UsbfnNotification,
} from './abi/index.js';
import { FakeUsbFnFile } from './testing/index.js';
import { UsbFnClient } from './usbfn-client.js';
import type { IoctlOptions, UsbFnFile } from './usbfn-port.js';

const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
const u8 = (...v: number[]): Uint8Array => Uint8Array.from(v);
const setup = (): { file: FakeUsbFnFile; client: UsbFnClient } => {
  const file = new FakeUsbFnFile();
  return { file, client: new UsbFnClient(file) };
};
const GUID = '{6E29B7D8-0A39-4A4F-9B1B-3C8C3A5E1B20}';
const pipe = (addr: number, pipeId: number) => ({
  epDesc: { bLength: 7, bDescriptorType: 5, bEndpointAddress: addr, bmAttributes: 2, wMaxPacketSize: 512, bInterval: 0 },
  pipeId,
});
const CLASS_INFO: UsbfnClassInformationPacket = {
  fullSpeed: { interfaceNumber: 0, pipes: [pipe(0x81, 1), pipe(0x01, 2)] },
  highSpeed: { interfaceNumber: 0, pipes: [pipe(0x81, 1), pipe(0x01, 2)] },
  superSpeed: { interfaceNumber: 0, pipes: [] },
  interfaceName: 'Loopback',
  interfaceGuid: GUID,
};

describe('UsbFnClient: immediate IOCTLs', () => {
  it('getClassInfo sends GET_CLASS_INFO with no input and a 748-byte output, and decodes it', async () => {
    const { file, client } = setup();
    file.respond(IOCTL_GENERICUSBFN_GET_CLASS_INFO, { complete: true, bytes: encodeUsbfnClassInformationPacket(CLASS_INFO) });
    expect(await client.getClassInfo()).toEqual(CLASS_INFO);
    expect(file.calls[0]).toMatchObject({ code: 0x0022c022, input: null, outputBytes: 748 });
  });

  it('getClassInfo fails loudly when the driver returns fewer than 748 bytes', async () => {
    const { file, client } = setup();
    file.respond(IOCTL_GENERICUSBFN_GET_CLASS_INFO, { complete: true, bytes: encodeUsbfnClassInformationPacket(CLASS_INFO), bytesReturned: 0 });
    await expect(client.getClassInfo()).rejects.toBeInstanceOf(AbiDecodeError);
  });

  it('getClassInfoEx sends GET_CLASS_INFO_EX with a 748-byte output', async () => {
    const { file, client } = setup();
    const ex = {
      fullSpeed: { baseInterfaceNumber: 0, interfaceCount: 1, pipes: [pipe(0x81, 1)] },
      highSpeed: { baseInterfaceNumber: 0, interfaceCount: 1, pipes: [pipe(0x81, 1)] },
      superSpeed: { baseInterfaceNumber: 0, interfaceCount: 1, pipes: [] },
      interfaceName: 'X',
      interfaceGuid: undefined,
    };
    file.respond(IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX, { complete: true, bytes: encodeUsbfnClassInformationPacketEx(ex) });
    expect(await client.getClassInfoEx()).toEqual(ex);
    expect(file.calls[0]).toMatchObject({ code: 0x0022c03a, input: null, outputBytes: 748 });
  });

  it('activateBus and deactivateBus send no buffers', async () => {
    const { file, client } = setup();
    file.respond(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, { complete: true });
    file.respond(IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS, { fail: WIN32_ERROR.ERROR_NOT_SUPPORTED });
    await client.activateBus();
    await expect(client.deactivateBus()).rejects.toMatchObject({ win32Name: 'ERROR_NOT_SUPPORTED' });
    expect(file.calls.map((c) => [c.name, c.input, c.outputBytes])).toEqual([
      ['IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS', null, 0],
      ['IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS', null, 0],
    ]);
  });

  it('registerUsbString sends a 512-byte USBFN_USB_STRING', async () => {
    const { file, client } = setup();
    file.respond(IOCTL_GENERICUSBFN_REGISTER_USB_STRING, { complete: true });
    await client.registerUsbString(4, 'Serial 42');
    expect(file.calls[0]).toMatchObject({ code: 0x0022c041, outputBytes: 0, target: 'string 4' });
    expect(file.calls[0]!.input).toEqual(encodeUsbfnUsbString({ stringIndex: 4, usbString: 'Serial 42' }));
    await expect(client.registerUsbString(4, 'x'.repeat(256))).rejects.toBeInstanceOf(UsageError);
  });
});

describe('UsbFnClient: pipes', () => {
  it('transferIn sends USBFNPIPEID (4 B LE) as input and the caller\'s data as the output buffer, resolving bytes sent', async () => {
    const { file, client } = setup();
    const data = u8(1, 2, 3, 4, 5);
    file.onIoctl(IOCTL_GENERICUSBFN_TRANSFER_IN, (c) => ({ complete: true, bytesReturned: c.outputBytes }));
    expect(await client.transferIn(0x01020304, data)).toBe(5);
    const call = file.calls[0]!;
    expect(call).toMatchObject({ code: 0x0022c00d, input: u8(0x04, 0x03, 0x02, 0x01), outputBytes: 5, target: 'pipe 16909060' });
    expect(call.output).toBe(data); // no copy on the hot path
  });

  it('transferInAppendZeroPacket uses its own IOCTL', async () => {
    const { file, client } = setup();
    file.respond(IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT, { complete: true, bytesReturned: 512 });
    expect(await client.transferInAppendZeroPacket(1, new Uint8Array(512))).toBe(512);
    expect(file.calls[0]).toMatchObject({ code: 0x0022c011, input: u8(1, 0, 0, 0), outputBytes: 512, target: 'pipe 1' });
  });

  it('transferOut receives into the caller\'s buffer and resolves bytes received', async () => {
    const { file, client } = setup();
    file.respond(IOCTL_GENERICUSBFN_TRANSFER_OUT, { complete: true, bytes: u8(9, 8, 7) });
    const buf = new Uint8Array(64);
    expect(await client.transferOut(2, buf)).toBe(3);
    expect(buf.subarray(0, 4)).toEqual(u8(9, 8, 7, 0));
    expect(file.calls[0]).toMatchObject({ code: 0x0022c016, input: u8(2, 0, 0, 0), outputBytes: 64 });
    expect(file.calls[0]!.output).toBe(buf);
  });

  it('handshakeIn/handshakeOut send pipe 0 with no output', async () => {
    const { file, client } = setup();
    file.respond(IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN, { complete: true });
    file.respond(IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT, { complete: true });
    await client.handshakeIn();
    await client.handshakeOut();
    expect(file.calls.map((c) => [c.code, c.input, c.output, c.target])).toEqual([
      [0x0022c018, u8(0, 0, 0, 0), null, 'pipe 0'],
      [0x0022c01c, u8(0, 0, 0, 0), null, 'pipe 0'],
    ]);
  });

  it('getPipeState reads the BOOLEAN the driver writes', async () => {
    const { file, client } = setup();
    file.respond(IOCTL_GENERICUSBFN_GET_PIPE_STATE, { complete: true, bytes: u8(1) }, { complete: true, bytes: u8(0) });
    expect(await client.getPipeState(1)).toBe(true);
    expect(await client.getPipeState(1)).toBe(false);
    expect(file.calls[0]).toMatchObject({ code: 0x0022c026, input: u8(1, 0, 0, 0), outputBytes: 1 });
  });

  it('setPipeState carries the new state in the 1-byte output buffer (METHOD_IN_DIRECT)', async () => {
    const { file, client } = setup();
    file.onIoctl(IOCTL_GENERICUSBFN_SET_PIPE_STATE, () => ({ complete: true }));
    await client.setPipeState(3, true);
    await client.setPipeState(3, false);
    expect(file.calls.map((c) => [c.code, c.input, c.output])).toEqual([
      [0x0022c029, u8(3, 0, 0, 0), u8(1)],
      [0x0022c029, u8(3, 0, 0, 0), u8(0)],
    ]);
  });

  it('reuses one pipe-id input buffer per pipe', async () => {
    const inputs: (Uint8Array | null)[] = [];
    const spy: UsbFnFile = {
      symbolicLink: 'spy',
      isOpen: true,
      ioctl: (_code: number, input: Uint8Array | null, _out: Uint8Array | null, _o?: IoctlOptions) => {
        inputs.push(input);
        return Promise.resolve(0);
      },
      close: () => Promise.resolve(),
    };
    const client = new UsbFnClient(spy);
    await client.transferIn(1, u8(1));
    await client.transferOut(1, new Uint8Array(1));
    await client.transferIn(2, u8(1));
    expect(inputs[0]).toBe(inputs[1]);
    expect(inputs[2]).not.toBe(inputs[0]);
  });

  it('rejects an invalid pipe id with a UsageError without calling the driver', async () => {
    const { file, client } = setup();
    await expect(client.transferIn(-1, u8(1))).rejects.toBeInstanceOf(UsageError);
    await expect(client.transferOut(1.5, u8(1))).rejects.toThrow(/USBFNPIPEID/);
    await expect(client.getPipeState(2 ** 32)).rejects.toBeInstanceOf(UsageError);
    expect(file.calls).toHaveLength(0);
  });
});

describe('UsbFnClient: errors and cancellation', () => {
  it('rejects with the port\'s Win32Error itself (never re-wrapped), name and context kept', async () => {
    const { file, client } = setup();
    file.respond(IOCTL_GENERICUSBFN_TRANSFER_IN, { fail: WIN32_ERROR.ERROR_GEN_FAILURE });
    const err: unknown = await client.transferIn(1, u8(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Win32Error);
    expect(err).toMatchObject({ win32: 31, win32Name: 'ERROR_GEN_FAILURE', ioctl: 'IOCTL_GENERICUSBFN_TRANSFER_IN', target: 'pipe 1' });
    expect((err as Win32Error).message).toMatch(/^\[WIN32 ERROR_GEN_FAILURE\(31\)\] DeviceIoControl\(IOCTL_GENERICUSBFN_TRANSFER_IN, pipe 1\)/);
    expect((err as Win32Error).cause).toBeUndefined();
  });

  it('abort cancels a pending transfer through the port (CancelIoEx → ERROR_OPERATION_ABORTED)', async () => {
    const { file, client } = setup();
    file.respond(IOCTL_GENERICUSBFN_TRANSFER_OUT, { pending: true });
    const ac = new AbortController();
    const p = client.transferOut(2, new Uint8Array(8), { signal: ac.signal });
    await flush();
    expect(file.pending()).toHaveLength(1);
    ac.abort();
    await expect(p).rejects.toMatchObject({ win32Name: 'ERROR_OPERATION_ABORTED', target: 'pipe 2' });
    expect(file.cancelIoExCount).toBe(1);
    expect(file.calls[0]!.state).toBe('cancelled');
  });

  it('passes the signal to handshakes and state calls too', async () => {
    const { file, client } = setup();
    file.respond(IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN, { pending: true });
    const ac = new AbortController();
    const p = client.handshakeIn({ signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ win32: 995 });
    expect(file.calls[0]!.signal).toBe(ac.signal);
  });
});

describe('UsbFnClient.getInterfaceDescriptorSet', () => {
  const set = u8(9, 4, 0, 0, 1, 0xff, 0, 0, 0, 7, 5, 0x81, 2, 0, 2, 0);
  const header = (ifNum: number, speed: number, size: number): number[] => [ifNum, 0, 0, 0, speed, 0, 0, 0, size & 0xff, size >> 8];

  it('sends USBFN_INTERFACE_INFO and decodes header + descriptor set', async () => {
    const { file, client } = setup();
    file.respond(IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET, { complete: true, bytes: u8(...header(1, 2, 26), ...set) });
    expect(await client.getInterfaceDescriptorSet(1, 'high')).toEqual({ interfaceNumber: 1, speed: 2, descriptorSet: set });
    expect(file.calls[0]).toMatchObject({ code: 0x0022c03e, input: u8(...header(1, 2, 256), 0, 0), outputBytes: 256, target: 'interface 1' });
  });

  it('retries ERROR_INSUFFICIENT_BUFFER with the Size the driver wrote', async () => {
    const { file, client } = setup();
    const big = new Uint8Array(400 - 10).fill(0);
    big.set(set);
    file.respond(
      IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET,
      { fail: WIN32_ERROR.ERROR_INSUFFICIENT_BUFFER, bytes: u8(...header(1, 2, 400)) },
      { complete: true, bytes: u8(...header(1, 2, 26), ...set) },
    );
    const r = await client.getInterfaceDescriptorSet(1, 2);
    expect(r.descriptorSet).toEqual(set);
    expect(file.calls.map((c) => c.outputBytes)).toEqual([256, 400]);
    expect(file.calls[1]!.input!.subarray(8, 10)).toEqual(u8(400 & 0xff, 400 >> 8));
  });

  it('adds the header when the driver reports a Size that counts only the descriptors', async () => {
    const { file, client } = setup();
    file.respond(
      IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET,
      { fail: WIN32_ERROR.ERROR_INSUFFICIENT_BUFFER, bytes: u8(...header(0, 2, 250)) },
      { complete: true, bytes: u8(...header(0, 2, 16), ...set) },
    );
    await client.getInterfaceDescriptorSet(0, 2);
    expect(file.calls.map((c) => c.outputBytes)).toEqual([256, 260]);
  });

  it('bounds the retries and then rejects with the driver\'s ERROR_INSUFFICIENT_BUFFER', async () => {
    const file = new FakeUsbFnFile();
    const client = new UsbFnClient(file, { descriptorSetAttempts: 3 });
    file.onIoctl(IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET, (c) => ({
      fail: WIN32_ERROR.ERROR_INSUFFICIENT_BUFFER,
      bytes: u8(...header(0, 2, c.outputBytes + 100)),
    }));
    await expect(client.getInterfaceDescriptorSet(0, 2)).rejects.toMatchObject({ win32Name: 'ERROR_INSUFFICIENT_BUFFER' });
    expect(file.calls.map((c) => c.outputBytes)).toEqual([256, 356, 456]);
  });

  it('rejects an unusable Size with AbiDecodeError chaining the driver error', async () => {
    const { file, client } = setup();
    file.respond(IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET, { fail: WIN32_ERROR.ERROR_INSUFFICIENT_BUFFER, bytes: u8(...header(0, 2, 0)) });
    const err: unknown = await client.getInterfaceDescriptorSet(0, 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbiDecodeError);
    expect((err as AbiDecodeError).cause).toBeInstanceOf(Win32Error);
  });

  it('passes other errors through unchanged', async () => {
    const { file, client } = setup();
    file.respond(IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET, { fail: WIN32_ERROR.ERROR_INVALID_PARAMETER });
    await expect(client.getInterfaceDescriptorSet(9, 1)).rejects.toMatchObject({ win32Name: 'ERROR_INVALID_PARAMETER' });
    expect(file.calls).toHaveLength(1);
  });
});

describe('UsbFnClient.busEvents', () => {
  const ev = (n: UsbfnNotification): Uint8Array => encodeUsbfnNotification(n);
  const pendingBusEvents = (file: FakeUsbFnFile) => file.pending(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION);

  it('keeps `depth` 12-byte requests outstanding, re-arms, and yields in completion order', async () => {
    const { file, client } = setup();
    file.onIoctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, () => ({ pending: true }));
    const ac = new AbortController();
    const it = client.busEvents({ signal: ac.signal, depth: 3 })[Symbol.asyncIterator]();
    await flush();
    const first = pendingBusEvents(file);
    expect(first).toHaveLength(3);
    for (const c of first) expect(c).toMatchObject({ code: 0x0022c036, input: null, outputBytes: 12 });

    first[1]!.complete(ev({ type: 'reset', busSpeed: 2 }));
    first[0]!.complete(ev({ type: 'attach' }));
    expect(await it.next()).toEqual({ value: { type: 'reset', busSpeed: 2 }, done: false });
    expect(await it.next()).toEqual({ value: { type: 'attach' }, done: false });
    expect(pendingBusEvents(file)).toHaveLength(3); // re-armed
    expect(file.callsOf(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION)).toHaveLength(5);

    const next = it.next(); // waits for the next completion
    pendingBusEvents(file)[0]!.complete(ev({ type: 'configured', configurationValue: 1 }));
    expect(await next).toEqual({ value: { type: 'configured', configurationValue: 1 }, done: false });
    ac.abort();
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('uses the constructor depth by default (4)', async () => {
    const { file, client } = setup();
    file.onIoctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, () => ({ pending: true }));
    const ac = new AbortController();
    client.busEvents({ signal: ac.signal })[Symbol.asyncIterator]();
    expect(pendingBusEvents(file)).toHaveLength(4);
    ac.abort();
    const two = new UsbFnClient(new FakeUsbFnFile(), { busEventDepth: 2 });
    expect(() => new UsbFnClient(file, { busEventDepth: 0 })).toThrow(UsageError);
    expect(() => two.busEvents({ depth: -1 })).toThrow(UsageError);
  });

  it('ends cleanly when the signal aborts, cancelling every outstanding request', async () => {
    const { file, client } = setup();
    file.onIoctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, () => ({ pending: true }));
    const ac = new AbortController();
    const seen: string[] = [];
    const loop = (async () => {
      for await (const e of client.busEvents({ signal: ac.signal, depth: 2 })) seen.push(e.type);
    })();
    await flush();
    pendingBusEvents(file)[0]!.complete(ev({ type: 'suspend' }));
    await flush();
    ac.abort();
    await loop;
    expect(seen).toEqual(['suspend']);
    expect(pendingBusEvents(file)).toHaveLength(0);
    expect(file.cancelIoExCount).toBe(2);
  });

  it('does not issue requests when the signal is already aborted', async () => {
    const { file, client } = setup();
    const ac = new AbortController();
    ac.abort();
    const got: unknown[] = [];
    for await (const e of client.busEvents({ signal: ac.signal })) got.push(e);
    expect(got).toEqual([]);
    expect(file.calls).toHaveLength(0);
  });

  it('ends cleanly when the handle is closed, after yielding events that completed before', async () => {
    const { file, client } = setup();
    file.onIoctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, () => ({ pending: true }));
    const it = client.busEvents({ depth: 2 })[Symbol.asyncIterator]();
    pendingBusEvents(file)[0]!.complete(ev({ type: 'detach', busSpeed: 1 }));
    await flush();
    await file.close();
    expect(await it.next()).toEqual({ value: { type: 'detach', busSpeed: 1 }, done: false });
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('throws other errors and cancels the rest', async () => {
    const { file, client } = setup();
    file.onIoctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, () => ({ pending: true }));
    const it = client.busEvents({ depth: 3 })[Symbol.asyncIterator]();
    const next = it.next();
    pendingBusEvents(file)[1]!.fail(WIN32_ERROR.ERROR_GEN_FAILURE);
    await expect(next).rejects.toMatchObject({ win32Name: 'ERROR_GEN_FAILURE', ioctl: 'IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION' });
    expect(pendingBusEvents(file)).toHaveLength(0);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('treats ERROR_OPERATION_ABORTED on an open handle (not our abort) as an error', async () => {
    const { file, client } = setup();
    file.onIoctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, () => ({ pending: true }));
    const it = client.busEvents({ depth: 1 })[Symbol.asyncIterator]();
    pendingBusEvents(file)[0]!.fail(WIN32_ERROR.ERROR_OPERATION_ABORTED);
    await expect(it.next()).rejects.toMatchObject({ win32Name: 'ERROR_OPERATION_ABORTED' });
  });

  it('breaking out of the loop cancels the outstanding requests', async () => {
    const { file, client } = setup();
    file.onIoctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, () => ({ pending: true }));
    file.respond(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, { complete: true, bytes: ev({ type: 'attach' }) });
    const seen: string[] = [];
    for await (const e of client.busEvents({ depth: 2 })) {
      seen.push(e.type);
      expect(pendingBusEvents(file)).toHaveLength(2); // the completed slot was re-armed
      break;
    }
    expect(seen).toEqual(['attach']);
    expect(pendingBusEvents(file)).toHaveLength(0);
    expect(file.cancelIoExCount).toBe(2);
  });

  it("busEventBytes 'strict' reports a byte count other than 12 as AbiDecodeError", async () => {
    const file = new FakeUsbFnFile();
    const client = new UsbFnClient(file, { busEventBytes: 'strict' });
    file.respond(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, { complete: true, bytes: ev({ type: 'attach' }), bytesReturned: 8 });
    file.onIoctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, () => ({ pending: true }));
    const it = client.busEvents({ depth: 1 })[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toBeInstanceOf(AbiDecodeError);
  });

  it("busEventBytes 'tolerant' (default) decodes 4..12 bytes from the zeroed buffer and reports the count; < 4 still fails", async () => {
    const counts: number[] = [];
    const file = new FakeUsbFnFile();
    const client = new UsbFnClient(file, { onBusEventBytes: (n) => counts.push(n) });
    // The driver wrote Event + 4 union bytes of a SetupPacket event and said 8: the rest of the 12 bytes reads as 0.
    file.respond(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, { complete: true, bytes: ev({ type: 'reset', busSpeed: 2 }).subarray(0, 8), bytesReturned: 8 });
    file.respond(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, { complete: true, bytes: ev({ type: 'attach' }), bytesReturned: 12 });
    file.respond(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, { complete: true, bytes: ev({ type: 'attach' }), bytesReturned: 3 });
    file.onIoctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, () => ({ pending: true }));
    const it = client.busEvents({ depth: 1 })[Symbol.asyncIterator]();
    await expect(it.next()).resolves.toEqual({ value: { type: 'reset', busSpeed: 2 }, done: false });
    await expect(it.next()).resolves.toEqual({ value: { type: 'attach' }, done: false });
    await expect(it.next()).rejects.toMatchObject({ code: 'ABI_DECODE', actualBytes: 3 });
    expect(counts).toEqual([8]);
  });

  it('zeroes each buffer before its request, so a short count never shows the previous event', async () => {
    const file = new FakeUsbFnFile();
    const client = new UsbFnClient(file);
    const seen: number[][] = [];
    file.onIoctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, (call) => {
      seen.push([...call.output!]);
      return seen.length === 1
        ? { complete: true, bytes: ev({ type: 'setupPacket', setupPacket: { bmRequestType: 0xa1, bRequest: 1, wValue: 2, wIndex: 3, wLength: 4 } }) }
        : seen.length === 2
          ? { complete: true, bytes: ev({ type: 'attach' }).subarray(0, 4), bytesReturned: 4 }
          : { pending: true };
    });
    const it = client.busEvents({ depth: 1 })[Symbol.asyncIterator]();
    await it.next();
    await expect(it.next()).resolves.toEqual({ value: { type: 'attach' }, done: false });
    expect(seen[1]).toEqual(new Array(12).fill(0));
    await it.return?.();
  });
});

describe('UsbFnClient: the zeroLengthIn setting (docs/reference/documented-vs-inferred.md#link-zero-length-in)', () => {
  const issue = async (setting: 'null-buffer' | 'empty-buffer' | 'append-zero-packet' | undefined, append: boolean) => {
    const file = new FakeUsbFnFile()
      .onIoctl(IOCTL_GENERICUSBFN_TRANSFER_IN, () => ({ complete: true, bytesReturned: 0 }))
      .onIoctl(IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT, () => ({ complete: true, bytesReturned: 0 }));
    const client = new UsbFnClient(file, setting === undefined ? {} : { zeroLengthIn: setting });
    await (append ? client.transferInAppendZeroPacket(2, new Uint8Array(0)) : client.transferIn(2, new Uint8Array(0)));
    const call = file.calls[0]!;
    return { name: call.name.replace('IOCTL_GENERICUSBFN_', ''), output: call.output === null ? null : call.output.length };
  };

  it("'null-buffer' (default): TRANSFER_IN with no output buffer", async () => {
    expect(await issue(undefined, false)).toEqual({ name: 'TRANSFER_IN', output: null });
    expect(await issue('null-buffer', true)).toEqual({ name: 'TRANSFER_IN_APPEND_ZERO_PKT', output: null });
  });

  it("'empty-buffer': TRANSFER_IN with a zero-length (non-NULL) output buffer", async () => {
    expect(await issue('empty-buffer', false)).toEqual({ name: 'TRANSFER_IN', output: 0 });
  });

  it("'append-zero-packet': TRANSFER_IN_APPEND_ZERO_PKT with no buffer, whichever call was made", async () => {
    expect(await issue('append-zero-packet', false)).toEqual({ name: 'TRANSFER_IN_APPEND_ZERO_PKT', output: null });
  });

  it('leaves transfers with data alone', async () => {
    const file = new FakeUsbFnFile().onIoctl(IOCTL_GENERICUSBFN_TRANSFER_IN, (c) => ({ complete: true, bytesReturned: c.outputBytes }));
    await new UsbFnClient(file, { zeroLengthIn: 'append-zero-packet' }).transferIn(2, u8(1, 2));
    expect(file.calls.map((c) => [c.name, c.outputBytes])).toEqual([['IOCTL_GENERICUSBFN_TRANSFER_IN', 2]]);
  });
});
