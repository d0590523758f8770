/**
 * End to end through the whole simulator: device-side IOCTLs over SimUsbFnPort → GenericUSBFn model →
 * UFX link → virtual bus ← SimUsbHost. No service code: the test plays the service with raw IOCTLs.
 */
import { describe, expect, it } from 'vitest';
import {
  IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS,
  IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
  IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT,
  IOCTL_GENERICUSBFN_GET_CLASS_INFO,
  IOCTL_GENERICUSBFN_SET_PIPE_STATE,
  IOCTL_GENERICUSBFN_TRANSFER_IN,
  IOCTL_GENERICUSBFN_TRANSFER_OUT,
  decodeMultiSz,
  decodeUsbfnClassInformationPacket,
  decodeUsbfnNotification,
  type UsbFnFile,
  type UsbfnNotification,
} from '../device-side/index.js';
import { createSimulation, type Simulation } from './simulation.js';

const pipe = (n: number): Uint8Array => Uint8Array.of(n, 0, 0, 0);

async function nextEvent(file: UsbFnFile): Promise<UsbfnNotification> {
  const out = new Uint8Array(12);
  await file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, out);
  return decodeUsbfnNotification(out);
}

async function waitFor(file: UsbFnFile, type: UsbfnNotification['type']): Promise<UsbfnNotification> {
  for (;;) {
    const e = await nextEvent(file);
    if (e.type === type) return e;
  }
}

/** The service's start: list → open → GET_CLASS_INFO → ACTIVATE (*Service page* order). */
async function startFunction(sim: Simulation): Promise<{ file: UsbFnFile; outPipe: number; inPipe: number }> {
  const query = { interfaceClassGuid: sim.function().interfaceGuid };
  const [link] = decodeMultiSz(await sim.port.getInterfaceList(query, await sim.port.getInterfaceListSize(query)));
  const file = await sim.port.open(link!);
  const info = new Uint8Array(748);
  await file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, info);
  const pipes = decodeUsbfnClassInformationPacket(info).highSpeed.pipes;
  await file.ioctl(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, null, null);
  return {
    file,
    outPipe: pipes.find((p) => p.epDesc.bEndpointAddress === 0x01)!.pipeId,
    inPipe: pipes.find((p) => p.epDesc.bEndpointAddress === 0x81)!.pipeId,
  };
}

describe('createSimulation (end to end)', () => {
  it('the host enumerates after ACTIVATE; a class IN request is answered with TRANSFER_IN + HANDSHAKE_OUT', async () => {
    await using sim = createSimulation({ seed: 3 });
    const { file } = await startFunction(sim);
    const info = await sim.host.waitForDevice({ vendorId: 0x1209 }, { timeoutMs: 2000 });
    expect(info.productId).toBe(0x0001);
    await waitFor(file, 'configured');
    const dev = await sim.host.open(info);
    await dev.claimInterface(0);
    const reply = dev.controlIn({ requestType: 'class', recipient: 'interface', request: 0x42, value: 7, index: 0 }, 4, { timeoutMs: 1000 });
    const setup = await waitFor(file, 'setupPacket');
    expect(setup).toMatchObject({ setupPacket: expect.objectContaining({ bmRequestType: 0xa1, bRequest: 0x42, wValue: 7, wLength: 4 }) });
    await expect(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipe(0), Uint8Array.of(1, 2, 3, 4))).resolves.toBe(4);
    await file.ioctl(IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT, pipe(0), null);
    const r = await reply;
    expect(r.status).toBe('ok');
    expect([...r.data]).toEqual([1, 2, 3, 4]);
    await dev.close();
    await file.close();
  });

  it('runs on the wall clock with realTime: enumeration waits out the 100 ms attach debounce in wall time', async () => {
    const t0 = performance.now();
    await using sim = createSimulation({ seed: 3, realTime: true });
    expect(sim.clock.realTime).toBe(true);
    const { file } = await startFunction(sim);
    const info = await sim.host.waitForDevice({ vendorId: 0x1209 }, { timeoutMs: 2000 });
    // USB 2.0 §7.1.7.3 debounce (100 ms) + reset (10 ms) + recovery (10 ms) before the first request.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(120);
    expect(sim.clock.now()).toBeGreaterThanOrEqual(120);
    expect(info.productId).toBe(0x0001);
    await file.close();
  });

  it('SET_PIPE_STATE(TRUE) on pipe 0 answers the class request with a STALL', async () => {
    await using sim = createSimulation();
    const { file } = await startFunction(sim);
    const info = await sim.host.waitForDevice({ vendorId: 0x1209 }, { timeoutMs: 2000 });
    await waitFor(file, 'configured');
    const dev = await sim.host.open(info);
    await dev.claimInterface(0);
    const reply = dev.controlOut({ requestType: 'class', recipient: 'interface', request: 0x01, value: 0, index: 0 }, undefined, { timeoutMs: 1000 });
    await waitFor(file, 'setupPacket');
    await file.ioctl(IOCTL_GENERICUSBFN_SET_PIPE_STATE, pipe(0), Uint8Array.of(1));
    await expect(reply).resolves.toMatchObject({ status: 'stall' });
    await dev.close();
    await file.close();
  });

  it('bulk data flows both ways; unplugging ends a pending device transfer with 995', async () => {
    await using sim = createSimulation();
    const { file, outPipe, inPipe } = await startFunction(sim);
    const info = await sim.host.waitForDevice({ vendorId: 0x1209 }, { timeoutMs: 2000 });
    await waitFor(file, 'configured');
    const dev = await sim.host.open(info);
    await dev.claimInterface(0);
    const rx = new Uint8Array(512);
    const devOut = file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(outPipe), rx);
    await expect(dev.bulkOut(0x01, Uint8Array.of(5, 6, 7), { timeoutMs: 1000 })).resolves.toMatchObject({ status: 'ok', bytesWritten: 3 });
    await expect(devOut).resolves.toBe(3);
    const hostIn = dev.bulkIn(0x81, 512, { timeoutMs: 1000 });
    await expect(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_IN, pipe(inPipe), Uint8Array.of(9, 9))).resolves.toBe(2);
    expect([...(await hostIn).data]).toEqual([9, 9]);
    const pending = file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipe(outPipe), rx);
    pending.catch(() => undefined);
    sim.detach();
    await expect(pending).rejects.toMatchObject({ win32: 995 });
    await expect(waitFor(file, 'detach')).resolves.toMatchObject({ type: 'detach' });
    await file.close();
  });

  it('power off removes the interface: open handles see ERROR_DEVICE_REMOVED, new opens ERROR_FILE_NOT_FOUND', async () => {
    await using sim = createSimulation();
    const { file } = await startFunction(sim);
    const link = sim.function().symbolicLink!;
    await sim.powerOff();
    await expect(file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, new Uint8Array(748))).rejects.toMatchObject({ win32: 1617 });
    await file.close();
    await expect(sim.port.open(link)).rejects.toMatchObject({ win32: 2 });
    sim.powerOn();
    const again = await sim.port.open(sim.function().symbolicLink!);
    await again.close();
  });
});
