/**
 * The GenericUSBFn.sys model, IOCTL by IOCTL, through SimUsbFnPort over a scripted UFX link.
 * One test per documented behaviour and per assumption (docs/reference/documented-vs-inferred.md#driver, docs/simulator-driver.md).
 */
import { describe, expect, it } from 'vitest';
import {
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
  decodeUsbfnClassInformationPacket,
  decodeUsbfnClassInformationPacketEx,
  decodeUsbfnNotification,
  encodeUsbfnInterfaceInfo,
  encodeUsbfnUsbString,
} from '../../device-side/index.js';
import { SimulatorError } from '../../core/index.js';
import { interfaceDescriptorSet } from '../config/index.js';
import { UfxAbort } from '../link/index.js';
import { FIXTURE_INTERFACE_GUID, FIXTURE_INTERFACE_NAME, fixtureConfig, flush, openActivated, openConfigured, openFile, pipeIdBuffer, track, makeSimDriverRig } from './testing/index.js';

const BULK_OUT = 1; // pipe 1 = 0x01
const BULK_IN = 2; // pipe 2 = 0x81
const INT_IN = 3; // pipe 3 = 0x82

const busEvent = (file: { ioctl: (c: number, i: Uint8Array | null, o: Uint8Array | null, opt?: { signal?: AbortSignal }) => Promise<number> }, signal?: AbortSignal) => {
  const out = new Uint8Array(12);
  return { out, done: file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, out, { signal }) };
};

describe('GET_CLASS_INFO / GET_CLASS_INFO_EX', () => {
  it('reports the registry pipes per speed with PipeIds 1..n, the interface name and GUID, in 748 bytes', async () => {
    const rig = makeSimDriverRig();
    const file = await openFile(rig);
    const out = new Uint8Array(748);
    await expect(file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, out)).resolves.toBe(748);
    const info = decodeUsbfnClassInformationPacket(out);
    expect(info.interfaceName).toBe(FIXTURE_INTERFACE_NAME);
    expect(info.interfaceGuid?.toUpperCase()).toBe(FIXTURE_INTERFACE_GUID.toUpperCase());
    const summary = (ci: typeof info.fullSpeed) =>
      ci.pipes.map((p) => [p.pipeId, p.epDesc.bEndpointAddress, p.epDesc.wMaxPacketSize]);
    expect(summary(info.fullSpeed)).toEqual([[1, 0x01, 64], [2, 0x81, 64], [3, 0x82, 16]]);
    expect(summary(info.highSpeed)).toEqual([[1, 0x01, 512], [2, 0x81, 512], [3, 0x82, 16]]);
    expect(summary(info.superSpeed)).toEqual([[1, 0x01, 1024], [2, 0x81, 1024], [3, 0x82, 16]]);
    expect(info.highSpeed.interfaceNumber).toBe(0);
  });

  it('golden offsets: PipeCount @197, first HS PipeId @204, HasInterfaceGuid @550 (docs/reference/structs.md#usbfn-class-information-packet)', async () => {
    const rig = makeSimDriverRig({ config: fixtureConfig(0x41) });
    const file = await openFile(rig);
    const out = new Uint8Array(748).fill(0xee);
    await file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, out);
    expect(out[196]).toBe(0x41); // HighSpeedClassInterface.InterfaceNumber
    expect(out[197]).toBe(3); // .PipeCount
    expect([...out.subarray(200, 207)]).toEqual([7, 5, 0x01, 0x02, 0x00, 0x02, 0]); // PipeArr[0].EpDesc
    expect(out[207]).toBe(0); // padding zeroed
    expect([...out.subarray(208, 212)]).toEqual([1, 0, 0, 0]); // PipeArr[0].PipeId
    expect(out[550]).toBe(1); // HasInterfaceGuid
    expect(out[392]).toBe('S'.charCodeAt(0)); // InterfaceName[0]
  });

  it('EX packet carries BaseInterfaceNumber, InterfaceCount 1 and the same pipes', async () => {
    const rig = makeSimDriverRig({ config: fixtureConfig(0x41) });
    const file = await openFile(rig);
    const out = new Uint8Array(748);
    await expect(file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO_EX, null, out)).resolves.toBe(748);
    const info = decodeUsbfnClassInformationPacketEx(out);
    expect(info.superSpeed.baseInterfaceNumber).toBe(0x41);
    expect(info.superSpeed.interfaceCount).toBe(1);
    expect(info.superSpeed.pipes.map((p) => p.pipeId)).toEqual([1, 2, 3]);
    expect(info.interfaceName).toBe(FIXTURE_INTERFACE_NAME);
  });

  it('ASSUMPTION(drv-pipe-ids): PipeArr excludes EP0 by default; pipeArrIncludesEp0 lists it first as PipeId 0', async () => {
    const rig = makeSimDriverRig({ model: { pipeArrIncludesEp0: true } });
    const file = await openFile(rig);
    const out = new Uint8Array(748);
    await file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, out);
    const info = decodeUsbfnClassInformationPacket(out);
    expect(info.highSpeed.pipes.map((p) => [p.pipeId, p.epDesc.bEndpointAddress])).toEqual([[0, 0], [1, 0x01], [2, 0x81], [3, 0x82]]);
  });

  it('ASSUMPTION(drv-output-length): an output buffer smaller than 748 bytes fails with ERROR_INSUFFICIENT_BUFFER (122)', async () => {
    const file = await openFile(makeSimDriverRig());
    await expect(file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, new Uint8Array(747))).rejects.toMatchObject({
      win32: 122,
      win32Name: 'ERROR_INSUFFICIENT_BUFFER',
      ioctl: 'IOCTL_GENERICUSBFN_GET_CLASS_INFO',
    });
  });
});

describe('ACTIVATE / DEACTIVATE and call order', () => {
  it('ACTIVATE_USB_BUS reaches UFX once; a second ACTIVATE succeeds without effect (ASSUMPTION(drv-second-activate))', async () => {
    const rig = makeSimDriverRig();
    const file = await openFile(rig);
    await expect(file.ioctl(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, null, null)).resolves.toBe(0);
    await expect(file.ioctl(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, null, null)).resolves.toBe(0);
    expect(rig.link.activations).toBe(1);
    expect(rig.model.activated).toBe(true);
  });

  it('DEACTIVATE_USB_BUS is not supported: ERROR_NOT_SUPPORTED (50) (IOCTL pages; code ASSUMPTION(drv-deactivate-code))', async () => {
    const file = await openActivated(makeSimDriverRig());
    await expect(file.ioctl(IOCTL_GENERICUSBFN_DEACTIVATE_USB_BUS, null, null)).rejects.toMatchObject({ win32: 50 });
  });

  it('transfers before ACTIVATE_USB_BUS fail with ERROR_BAD_COMMAND (22) (Kernel IOCTL pages call order; code ASSUMPTION(drv-invalid-state))', async () => {
    const rig = makeSimDriverRig();
    const file = await openFile(rig);
    await expect(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipeIdBuffer(BULK_IN), new Uint8Array(8))).rejects.toMatchObject({
      win32Name: 'ERROR_BAD_COMMAND',
    });
    await expect(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeIdBuffer(0), new Uint8Array(8))).rejects.toMatchObject({ win32: 22 });
    expect(rig.link.pending()).toHaveLength(0);
  });

  it('GET_INTERFACE_DESCRIPTOR_SET and REGISTER_USB_STRING before ACTIVATE fail with 22 (IOCTL pages "must be sent after")', async () => {
    const file = await openFile(makeSimDriverRig());
    const info = encodeUsbfnInterfaceInfo({ interfaceNumber: 0, speed: 2, size: 0 });
    await expect(file.ioctl(IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET, info, new Uint8Array(64))).rejects.toMatchObject({ win32: 22 });
    const str = encodeUsbfnUsbString({ stringIndex: 5, usbString: 'x' });
    await expect(file.ioctl(IOCTL_GENERICUSBFN_REGISTER_USB_STRING, str, null)).rejects.toMatchObject({ win32: 22 });
  });

  it('transfers after ACTIVATE but before UsbfnEventConfigured fail with ERROR_BAD_COMMAND (22) (UFX page; code ASSUMPTION(drv-invalid-state))', async () => {
    const rig = makeSimDriverRig();
    const file = await openActivated(rig);
    rig.link.attach();
    rig.link.reset('high');
    await flush();
    await expect(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeIdBuffer(BULK_OUT), new Uint8Array(64))).rejects.toMatchObject({
      win32Name: 'ERROR_BAD_COMMAND',
      target: 'pipe 1',
    });
    await expect(file.ioctl(IOCTL_GENERICUSBFN_GET_PIPE_STATE, pipeIdBuffer(BULK_IN), new Uint8Array(1))).rejects.toMatchObject({ win32: 22 });
  });

  it('EP0 is usable after reset, before Configured (UFX page "EP0 once the host connection exists")', async () => {
    const rig = makeSimDriverRig();
    const file = await openActivated(rig);
    await expect(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipeIdBuffer(0), new Uint8Array(2))).rejects.toMatchObject({ win32: 22 });
    rig.link.attach();
    rig.link.reset('full');
    await flush();
    const t = track(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipeIdBuffer(0), Uint8Array.of(1, 2)));
    await flush();
    expect(rig.link.pending(0x80)).toHaveLength(1);
    rig.link.hostTake(0x80);
    await flush();
    expect(t.value).toBe(2);
  });
});

describe('buffer checks', () => {
  it('an unknown IOCTL code fails with ERROR_INVALID_FUNCTION (1) (ASSUMPTION(drv-unknown-ioctl))', async () => {
    const file = await openFile(makeSimDriverRig());
    await expect(file.ioctl(0x0022c044, null, null)).rejects.toMatchObject({ win32: 1, ioctl: 'IOCTL_0x0022C044' });
  });

  it('a USBFNPIPEID input that is not 4 bytes fails with ERROR_INVALID_PARAMETER (87) (ASSUMPTION(drv-input-length))', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    for (const input of [null, new Uint8Array(3), new Uint8Array(8)]) {
      await expect(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, input, new Uint8Array(64))).rejects.toMatchObject({ win32: 87 });
    }
    expect(rig.link.pending()).toHaveLength(0);
  });

  it('a pipe id GET_CLASS_INFO does not list fails with 87 (ASSUMPTION(drv-bad-pipe))', async () => {
    const file = await openConfigured(makeSimDriverRig());
    await expect(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipeIdBuffer(9), new Uint8Array(4))).rejects.toMatchObject({ win32: 87 });
  });

  it('a transfer against the endpoint direction fails with 87 (ASSUMPTION(drv-bad-pipe))', async () => {
    const file = await openConfigured(makeSimDriverRig());
    await expect(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipeIdBuffer(BULK_OUT), new Uint8Array(4))).rejects.toMatchObject({ win32: 87 });
    await expect(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeIdBuffer(BULK_IN), new Uint8Array(4))).rejects.toMatchObject({ win32: 87 });
  });

  it('a BUS_EVENT_NOTIFICATION output shorter than 12 bytes fails with 122 (ASSUMPTION(drv-output-length))', async () => {
    const file = await openActivated(makeSimDriverRig());
    await expect(file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, new Uint8Array(11))).rejects.toMatchObject({ win32: 122 });
  });

  it('SET_PIPE_STATE without its 1-byte state buffer fails with 87 (IN_DIRECT: the driver reads it; ASSUMPTION(drv-output-length))', async () => {
    const file = await openConfigured(makeSimDriverRig());
    await expect(file.ioctl(IOCTL_GENERICUSBFN_SET_PIPE_STATE, pipeIdBuffer(BULK_IN), null)).rejects.toMatchObject({ win32: 87 });
  });
});

describe('BUS_EVENT_NOTIFICATION', () => {
  it('pends until the next bus event and returns a 12-byte USBFN_NOTIFICATION (Service page)', async () => {
    const rig = makeSimDriverRig();
    const file = await openActivated(rig);
    const { out, done } = busEvent(file);
    const t = track(done);
    await flush();
    expect(t.done).toBe(false);
    rig.link.attach();
    rig.link.reset('super');
    await flush();
    expect(t.value).toBe(12);
    expect(decodeUsbfnNotification(out)).toEqual({ type: 'attach' });
    const second = busEvent(file);
    await expect(second.done).resolves.toBe(12);
    expect(decodeUsbfnNotification(second.out)).toMatchObject({ type: 'reset', busSpeed: 3 });
  });

  it('several outstanding requests complete oldest first, one event each (UFX page, Kernel IOCTL pages)', async () => {
    const rig = makeSimDriverRig();
    const file = await openActivated(rig);
    const reqs = [busEvent(file), busEvent(file), busEvent(file)];
    await flush();
    rig.link.enumerate('high');
    await Promise.all(reqs.map((r) => r.done));
    expect(reqs.map((r) => decodeUsbfnNotification(r.out).type)).toEqual(['attach', 'reset', 'configured']);
    expect(decodeUsbfnNotification(reqs[2]!.out)).toMatchObject({ configurationValue: 1 });
  });

  it('queues events while no request is outstanding and hands them out in order (UFX page event queue)', async () => {
    const rig = makeSimDriverRig();
    const file = await openActivated(rig);
    rig.link.enumerate('full');
    const setup = Uint8Array.of(0xa1, 0x01, 0, 0, 0, 0, 0x30, 0);
    rig.link.setupPacket(setup);
    rig.link.setInterface(0, 1);
    await flush();
    const types: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      const r = busEvent(file);
      await r.done;
      types.push(decodeUsbfnNotification(r.out));
    }
    expect(types).toEqual([
      { type: 'attach' },
      { type: 'reset', busSpeed: 1 },
      { type: 'configured', configurationValue: 1 },
      { type: 'setupPacket', setupPacket: expect.objectContaining({ bmRequestType: 0xa1, bRequest: 1, wLength: 0x30 }) },
      { type: 'setInterface', interfaceNumber: 0, alternateInterfaceNumber: 1 },
    ]);
  });

  it('ASSUMPTION(drv-event-queue): a full queue drops the oldest event and logs the overflow', async () => {
    const rig = makeSimDriverRig({ model: { eventQueueDepth: 2 } });
    const file = await openActivated(rig);
    rig.link.attach();
    rig.link.suspend();
    rig.link.resume();
    await flush();
    const a = busEvent(file);
    await a.done;
    const b = busEvent(file);
    await b.done;
    expect([decodeUsbfnNotification(a.out).type, decodeUsbfnNotification(b.out).type]).toEqual(['suspend', 'resume']);
    expect(rig.model.log.entries().filter((e) => e.kind === 'busEvent').map((e) => e.kind === 'busEvent' && e.delivery)).toEqual([
      'queued',
      'queued',
      'overflow',
    ]);
    expect(file.fileObject.events.dropped).toBe(1);
  });

  it('ASSUMPTION(drv-event-queue): with no handle open, bus events are lost (logged noHandle)', async () => {
    const rig = makeSimDriverRig();
    const file = await openActivated(rig);
    await file.close();
    rig.link.attach();
    await flush();
    const again = await openFile(rig);
    const r = busEvent(again);
    const t = track(r.done);
    await flush();
    expect(t.done).toBe(false);
    expect(rig.model.log.entries().some((e) => e.kind === 'busEvent' && e.delivery === 'noHandle')).toBe(true);
    await again.close();
  });

  it('detach completes a pending BUS_EVENT_NOTIFICATION successfully with UsbfnEventDetach (ASSUMPTION(drv-detach-event))', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    for (let i = 0; i < 3; i++) await busEvent(file).done; // drain attach/reset/configured
    const r = busEvent(file);
    rig.link.detach();
    await expect(r.done).resolves.toBe(12);
    expect(decodeUsbfnNotification(r.out).type).toBe('detach');
  });
});

describe('transfers', () => {
  it('TRANSFER_IN hands the output buffer to UFX and resolves with the bytes the host took', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    const data = Uint8Array.of(1, 2, 3);
    const t = track(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipeIdBuffer(BULK_IN), data));
    await flush();
    const [queued] = rig.link.pending(0x81);
    expect(queued?.data).toBe(data); // IN_DIRECT: the driver reads the caller's buffer, no copy
    expect(queued?.appendZeroLengthPacket).toBe(false);
    rig.link.hostTake(0x81);
    await flush();
    expect(t.value).toBe(3);
  });

  it('TRANSFER_IN_APPEND_ZERO_PKT maps to the ZLP flag of the UFX request (IOCTL pages, Kernel IOCTL pages)', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    const p = file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN_APPEND_ZERO_PKT, pipeIdBuffer(BULK_IN), new Uint8Array(512));
    await flush();
    expect(rig.link.pending(0x81)[0]?.appendZeroLengthPacket).toBe(true);
    rig.link.hostTake(0x81);
    await expect(p).resolves.toBe(512);
  });

  it('TRANSFER_OUT receives host data into the caller buffer; a short packet returns the count', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    const buf = new Uint8Array(512);
    const p = file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeIdBuffer(BULK_OUT), buf);
    await flush();
    rig.link.hostSend(0x01, Uint8Array.of(9, 8, 7));
    await expect(p).resolves.toBe(3);
    expect([...buf.subarray(0, 3)]).toEqual([9, 8, 7]);
  });

  it('host data beyond the buffer fails with ERROR_MORE_DATA (234), keeping what arrived (ASSUMPTION(drv-out-overflow))', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    const buf = new Uint8Array(4);
    const p = file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeIdBuffer(BULK_OUT), buf);
    await flush();
    rig.link.hostSend(0x01, Uint8Array.of(1, 2, 3, 4, 5, 6));
    await expect(p).rejects.toMatchObject({ win32: 234, win32Name: 'ERROR_MORE_DATA' });
    expect([...buf]).toEqual([1, 2, 3, 4]);
    const entry = rig.model.log.entries().find((e) => e.kind === 'ioctl' && e.win32 === 234);
    expect(entry).toMatchObject({ bytesReturned: 4 });
  });

  it('failPending: the driver fails its pending TRANSFER_OUT with the injected error; false when none is pending', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    const p = file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeIdBuffer(BULK_OUT), new Uint8Array(64));
    await flush();
    expect(rig.model.failPending({ ioctl: 'TRANSFER_OUT', win32: 31 })).toBe(true);
    await expect(p).rejects.toMatchObject({ win32: 31, win32Name: 'ERROR_GEN_FAILURE', data: { detail: expect.stringMatching(/injected by failPending/) } });
    expect(rig.link.pending(0x01)).toEqual([]);
    expect(rig.model.failPending({ ioctl: 'TRANSFER_OUT', win32: 31 })).toBe(false);
    expect(() => rig.model.failPending({ ioctl: 'NOT_AN_IOCTL', win32: 31 })).toThrow(/unknown IOCTL name/);
  });

  it('several transfers may be outstanding on one pipe and complete in order (UFX page)', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    const ps = [1, 2, 3].map((n) => file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipeIdBuffer(BULK_IN), new Uint8Array(n)));
    await flush();
    expect(rig.link.pending(0x81).map((t) => t.data.length)).toEqual([1, 2, 3]);
    rig.link.hostTake(0x81);
    rig.link.hostTake(0x81);
    rig.link.hostTake(0x81);
    await expect(Promise.all(ps)).resolves.toEqual([1, 2, 3]);
  });

  for (const [what, act] of [
    ['reset', (l: ReturnType<typeof makeSimDriverRig>['link']) => l.reset('high')],
    ['detach', (l: ReturnType<typeof makeSimDriverRig>['link']) => l.detach()],
    ['SET_CONFIGURATION(0)', (l: ReturnType<typeof makeSimDriverRig>['link']) => l.unconfigure()],
  ] as const) {
    it(`a ${what} purge ends pending transfers with ERROR_OPERATION_ABORTED (995) (UFX page; ASSUMPTION(drv-purge-cancelled))`, async () => {
      const rig = makeSimDriverRig();
      const file = await openConfigured(rig);
      const p = file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeIdBuffer(BULK_OUT), new Uint8Array(64));
      await flush();
      act(rig.link);
      await expect(p).rejects.toMatchObject({ win32: 995, win32Name: 'ERROR_OPERATION_ABORTED' });
      // WDF purged-queue rule: new requests before the next Configured fail with 22 (ASSUMPTION(drv-invalid-state)).
      await expect(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeIdBuffer(BULK_OUT), new Uint8Array(64))).rejects.toMatchObject({ win32: 22 });
    });
  }

  it('SET_CONFIGURATION(0) leaves EP0 requests alone (interface endpoints only, UFX page)', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    const ep0 = track(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeIdBuffer(0), new Uint8Array(8)));
    await flush();
    rig.link.unconfigure();
    await flush();
    expect(ep0.done).toBe(false);
    rig.link.hostSend(0x00, Uint8Array.of(1));
    await flush();
    expect(ep0.value).toBe(1);
  });

  it('UFX invalidState / invalidParameter endings map to 22 / 87 (ASSUMPTION(drv-invalid-state), ASSUMPTION(drv-bad-pipe))', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    const a = file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipeIdBuffer(BULK_IN), new Uint8Array(1));
    const b = file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipeIdBuffer(BULK_IN), new Uint8Array(1));
    await flush();
    const [ta, tb] = rig.link.pending(0x81);
    ta!.abort('invalidState');
    tb!.abort('invalidParameter');
    await expect(a).rejects.toMatchObject({ win32: 22 });
    await expect(b).rejects.toMatchObject({ win32: 87 });
  });

  it('a link failure that is not a UfxAbort surfaces as SimulatorError, never as a Win32 code', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    rig.link.transferIn = () => {
      throw new TypeError('boom');
    };
    const err = await file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipeIdBuffer(BULK_IN), new Uint8Array(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimulatorError);
    expect(err).toMatchObject({ code: 'SIM_LINK_FAILURE' });
  });

  it('a UfxAbort thrown synchronously by the link is mapped like a rejection', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    rig.link.transferOut = () => {
      throw new UfxAbort('invalidParameter');
    };
    await expect(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeIdBuffer(BULK_OUT), new Uint8Array(1))).rejects.toMatchObject({ win32: 87 });
  });
});

describe('pipe state and control transfers', () => {
  it('a stall holds transfers until SET_PIPE_STATE(FALSE) clears it (UFX page)', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    await expect(file.ioctl(IOCTL_GENERICUSBFN_SET_PIPE_STATE, pipeIdBuffer(BULK_IN), Uint8Array.of(1))).resolves.toBe(0);
    const state = new Uint8Array(1);
    await expect(file.ioctl(IOCTL_GENERICUSBFN_GET_PIPE_STATE, pipeIdBuffer(BULK_IN), state)).resolves.toBe(1);
    expect(state[0]).toBe(1);
    const t = track(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipeIdBuffer(BULK_IN), new Uint8Array(10)));
    await flush();
    expect(rig.link.hostTake(0x81)).toBeUndefined();
    await flush();
    expect(t.done).toBe(false); // held, not failed
    await file.ioctl(IOCTL_GENERICUSBFN_SET_PIPE_STATE, pipeIdBuffer(BULK_IN), Uint8Array.of(0));
    await file.ioctl(IOCTL_GENERICUSBFN_GET_PIPE_STATE, pipeIdBuffer(BULK_IN), state);
    expect(state[0]).toBe(0);
    rig.link.hostTake(0x81);
    await flush();
    expect(t.value).toBe(10);
  });

  it('SET_PIPE_STATE(TRUE) on pipe 0 stalls the current control transfer; GET on pipe 0 reads FALSE (ASSUMPTION(drv-pipe-state-ep0))', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    await file.ioctl(IOCTL_GENERICUSBFN_SET_PIPE_STATE, pipeIdBuffer(0), Uint8Array.of(1));
    expect(rig.link.controlStalls).toBe(1);
    await file.ioctl(IOCTL_GENERICUSBFN_SET_PIPE_STATE, pipeIdBuffer(0), Uint8Array.of(0));
    expect(rig.link.controlStalls).toBe(1);
    const state = Uint8Array.of(0xff);
    await file.ioctl(IOCTL_GENERICUSBFN_GET_PIPE_STATE, pipeIdBuffer(0), state);
    expect(state[0]).toBe(0);
  });

  it('a control read: TRANSFER_IN on pipe 0, then HANDSHAKE_OUT (Service page)', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    const data = file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipeIdBuffer(0), Uint8Array.of(0xab, 0xcd));
    await flush();
    expect(rig.link.pending(0x80).map((t) => t.kind)).toEqual(['controlIn']);
    rig.link.hostTake(0x80);
    await expect(data).resolves.toBe(2);
    const hs = file.ioctl(IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT, pipeIdBuffer(0), null);
    await flush();
    expect(rig.link.pending().map((t) => t.handshakeDirection)).toEqual(['out']);
    rig.link.hostHandshake();
    await expect(hs).resolves.toBe(0);
  });

  it('a no-data setup may be answered with either handshake (ASSUMPTION(drv-no-data-handshake): accept both)', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    for (const code of [IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN, IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT]) {
      const hs = file.ioctl(code, pipeIdBuffer(0), null);
      await flush();
      rig.link.hostHandshake();
      await expect(hs).resolves.toBe(0);
    }
  });

  it('a handshake on a pipe other than 0 fails with 87 (ASSUMPTION(drv-bad-pipe))', async () => {
    const file = await openConfigured(makeSimDriverRig());
    await expect(file.ioctl(IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN, pipeIdBuffer(BULK_IN), null)).rejects.toMatchObject({ win32: 87 });
  });

  it('interrupt pipes are addressed like bulk ones', async () => {
    const rig = makeSimDriverRig();
    const file = await openConfigured(rig);
    const p = file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipeIdBuffer(INT_IN), new Uint8Array(16));
    await flush();
    rig.link.hostTake(0x82);
    await expect(p).resolves.toBe(16);
  });
});

describe('GET_INTERFACE_DESCRIPTOR_SET', () => {
  it('too small: writes Size, fails with ERROR_INSUFFICIENT_BUFFER (122); the retry succeeds (IOCTL pages)', async () => {
    const rig = makeSimDriverRig();
    const file = await openActivated(rig);
    const input = encodeUsbfnInterfaceInfo({ interfaceNumber: 0, speed: 2, size: 0 });
    const small = new Uint8Array(12);
    await expect(file.ioctl(IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET, input, small)).rejects.toMatchObject({ win32: 122 });
    const expected = interfaceDescriptorSet(rig.link.config, 0, 'high');
    const size = small[8]! | (small[9]! << 8);
    expect(size).toBe(expected.length); // ASSUMPTION(drv-descriptor-set-size): Size counts the descriptor bytes only
    const big = new Uint8Array(10 + size);
    await expect(file.ioctl(IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET, input, big)).resolves.toBe(10 + size);
    expect(big.subarray(10)).toEqual(expected);
    expect([big[0], big[4]]).toEqual([0, 2]);
  });

  it('interfaceInfoSizeIncludesHeader makes Size count the 10-byte header (the other reading)', async () => {
    const rig = makeSimDriverRig({ model: { interfaceInfoSizeIncludesHeader: true } });
    const file = await openActivated(rig);
    const small = new Uint8Array(12);
    await expect(
      file.ioctl(IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET, encodeUsbfnInterfaceInfo({ interfaceNumber: 0, speed: 1, size: 0 }), small),
    ).rejects.toMatchObject({ win32: 122 });
    expect(small[8]! | (small[9]! << 8)).toBe(10 + interfaceDescriptorSet(rig.link.config, 0, 'full').length);
  });

  it('ASSUMPTION(drv-descriptor-set-size): another interface number or a Low/unknown speed fails with 87', async () => {
    const file = await openActivated(makeSimDriverRig());
    const out = new Uint8Array(256);
    await expect(
      file.ioctl(IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET, encodeUsbfnInterfaceInfo({ interfaceNumber: 1, speed: 2, size: 0 }), out),
    ).rejects.toMatchObject({ win32: 87 });
    await expect(
      file.ioctl(IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET, encodeUsbfnInterfaceInfo({ interfaceNumber: 0, speed: 0, size: 0 }), out),
    ).rejects.toMatchObject({ win32: 87 });
  });
});

describe('REGISTER_USB_STRING', () => {
  it('registers a string after ACTIVATE and reports it to the bus', async () => {
    const seen: [number, string][] = [];
    const rig = makeSimDriverRig({ model: { onUsbString: (i, s) => seen.push([i, s]) } });
    const file = await openActivated(rig);
    await expect(
      file.ioctl(IOCTL_GENERICUSBFN_REGISTER_USB_STRING, encodeUsbfnUsbString({ stringIndex: 0x20, usbString: 'Loopback Ω' }), null),
    ).resolves.toBe(0);
    expect(rig.model.usbStrings.get(0x20)).toBe('Loopback Ω');
    expect(seen).toEqual([[0x20, 'Loopback Ω']]);
  });

  it('ASSUMPTION(drv-register-string): StringIndex 0 (the LANGID table) and a short input fail with 87', async () => {
    const file = await openActivated(makeSimDriverRig());
    await expect(file.ioctl(IOCTL_GENERICUSBFN_REGISTER_USB_STRING, encodeUsbfnUsbString({ stringIndex: 0, usbString: 'x' }), null)).rejects.toMatchObject({
      win32: 87,
    });
    await expect(file.ioctl(IOCTL_GENERICUSBFN_REGISTER_USB_STRING, new Uint8Array(100), null)).rejects.toMatchObject({ win32: 87 });
  });
});
