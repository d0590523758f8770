/**
 * The virtual host enumerates like Linux usbcore (drivers/usb/core/hub.c): two port resets around the first
 * 64-byte device descriptor read below SuperSpeed, one at SuperSpeed, and bounded retries of every step.
 */
import { describe, expect, it } from 'vitest';
import { USB_REQUEST } from '../../../core/index.js';
import type { UrbEvent } from '../../capture/index.js';
import { startSimLink } from '../testing/index.js';
import { GET_DESCRIPTOR_TRIES, GET_MAXPACKET0_TRIES, PORT_INIT_TRIES } from './enumeration.js';

/** A link with a fake class driver, not yet plugged in, recording the capture. */
async function unplugged(speed: 'full' | 'high' | 'super' = 'high') {
  const events: UrbEvent[] = [];
  const link = await startSimLink({ speed, attach: false, driver: { loopback: false }, urbSink: { record: (e) => events.push(e) } });
  /** The control requests the host submitted, in order, as `bRequest@address`. */
  const requests = (): string[] =>
    events.filter((e) => e.kind === 'S' && e.transferType === 'control').map((e) => `${requestName(e.setup![1]!, e.setup![3]!)}@${e.deviceAddress}`);
  return { ...link, events, requests };
}

function requestName(bRequest: number, descriptorType: number): string {
  if (bRequest === USB_REQUEST.GET_DESCRIPTOR) return `GET_DESCRIPTOR(${descriptorType})`;
  if (bRequest === USB_REQUEST.SET_ADDRESS) return 'SET_ADDRESS';
  if (bRequest === USB_REQUEST.SET_CONFIGURATION) return 'SET_CONFIGURATION';
  return `0x${bRequest.toString(16)}`;
}

const find = (link: Awaited<ReturnType<typeof unplugged>>, timeoutMs = 60_000) =>
  link.host.waitForDevice({ vendorId: 0x1209 }, { timeoutMs });

describe('enumeration order', () => {
  it('at high speed: reset, GET_DESCRIPTOR(DEVICE, 64) at address 0, a second reset, then SET_ADDRESS', async () => {
    const link = await unplugged('high');
    link.bus.attach();
    await find(link);
    expect(link.driver!.events.map((e) => e.type)).toEqual(['attach', 'reset', 'reset', 'configured']);
    expect(link.requests().slice(0, 3)).toEqual(['GET_DESCRIPTOR(1)@0', 'SET_ADDRESS@0', 'GET_DESCRIPTOR(1)@1']);
    // The second reset comes between the 64-byte read and SET_ADDRESS: 10 ms of reset signalling + 10 ms recovery.
    const [first, setAddress] = link.events.filter((e) => e.kind === 'S' && e.transferType === 'control');
    expect(setAddress!.timeUs - first!.timeUs).toBeGreaterThanOrEqual(20_000);
  });

  it('at SuperSpeed: one reset, SET_ADDRESS first, then GET_DESCRIPTOR(DEVICE, 8) (usbcore\'s old scheme)', async () => {
    const link = await unplugged('super');
    link.bus.attach();
    await find(link);
    expect(link.driver!.events.map((e) => e.type)).toEqual(['attach', 'reset', 'configured']);
    expect(link.requests().slice(0, 3)).toEqual(['SET_ADDRESS@0', 'GET_DESCRIPTOR(1)@1', 'GET_DESCRIPTOR(1)@1']);
    expect(link.events.find((e) => e.kind === 'S' && e.deviceAddress === 1)!.length).toBe(8);
  });
});

describe('enumeration retries (bounded, as usbcore)', () => {
  it('a lost first GET_DESCRIPTOR times out after 5 s; the host resets and reads again, and the device enumerates', async () => {
    const link = await unplugged();
    link.bus.dropNextUrb(0);
    const t0 = link.clock.now();
    link.bus.attach();
    const info = await find(link);
    expect(info.deviceAddress).toBe(1);
    expect(link.clock.now() - t0).toBeGreaterThan(5_000);
    expect(link.clock.now() - t0).toBeLessThan(5_400);
    expect(link.requests().slice(0, 3)).toEqual(['GET_DESCRIPTOR(1)@0', 'GET_DESCRIPTOR(1)@0', 'SET_ADDRESS@0']);
  });

  it('a stalled SET_ADDRESS is sent again 200 ms later', async () => {
    const link = await unplugged();
    let stalls = 1;
    link.ufx.use((s) => (s.bRequest === USB_REQUEST.SET_ADDRESS && stalls-- > 0 ? { stall: true } : undefined));
    link.bus.attach();
    await find(link);
    const setAddress = link.events.filter((e) => e.kind === 'S' && e.setup?.[1] === USB_REQUEST.SET_ADDRESS);
    expect(setAddress).toHaveLength(2);
    expect(setAddress[1]!.timeUs - setAddress[0]!.timeUs).toBeGreaterThanOrEqual(200_000);
  });

  it('gives up after PORT_INIT_TRIES attempts and says so when a device never answers its descriptor', async () => {
    const link = await unplugged();
    link.ufx.use((s) => (s.bRequest === USB_REQUEST.GET_DESCRIPTOR ? { stall: true } : undefined));
    link.bus.attach();
    const err: unknown = await find(link, 30_000).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'TimeoutError' });
    expect((err as Error).message).toMatch(/enumeration failed: .*4 attempts failed .*GET_DESCRIPTOR\(DEVICE, 64\) at address 0 stalled/);
    const reads = link.requests().filter((r) => r === 'GET_DESCRIPTOR(1)@0').length;
    expect(reads).toBe(PORT_INIT_TRIES * GET_DESCRIPTOR_TRIES * GET_MAXPACKET0_TRIES);
    // Each attempt: one reset, and one after each round of reads.
    expect(link.driver!.events.filter((e) => e.type === 'reset')).toHaveLength(PORT_INIT_TRIES * (1 + GET_DESCRIPTOR_TRIES));
  });

  it('a stalled SET_CONFIGURATION leaves the device listed but unconfigured; the host can configure it itself', async () => {
    const link = await unplugged();
    let stalls = 1;
    link.ufx.use((s) => (s.bRequest === USB_REQUEST.SET_CONFIGURATION && stalls-- > 0 ? { stall: true } : undefined));
    link.bus.attach();
    const info = await find(link);
    const dev = await link.host.open(info);
    await expect(dev.claimInterface(0)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NOT_FOUND' });
    expect(link.driver!.events.map((e) => e.type)).not.toContain('configured');
    await dev.selectConfiguration(1);
    await dev.claimInterface(0);
    expect(link.driver!.events.at(-1)).toEqual({ type: 'configured', configurationValue: 1 });
  });
});

describe('a port reset the host starts (usbcore error recovery, another process\'s libusb_reset_device)', () => {
  it('ends the transfers in flight CANCELLED now, enumerates the device again at its address, and open handles stay valid', async () => {
    const link = await unplugged();
    link.bus.attach();
    const info = await find(link);
    const dev = await link.host.open(info);
    await dev.claimInterface(0);
    const read = dev.bulkIn(0x81, 64).catch((e: unknown) => e);
    const seen = link.driver!.events.length;
    await link.host.port(link.bus).resetNow();
    await expect(read).resolves.toMatchObject({ libusbName: 'LIBUSB_TRANSFER_CANCELLED' });
    // The fault's reset, then hub_port_init's second reset around the 64-byte read, then Configured again.
    expect(link.driver!.events.slice(seen).map((e) => e.type)).toEqual(['reset', 'reset', 'configured']);
    expect(link.requests().filter((r) => r === 'SET_ADDRESS@0')).toHaveLength(2);
    link.ufx.link(0).transferIn(0x81, Uint8Array.of(7, 8, 9), false);
    expect((await dev.bulkIn(0x81, 64)).data).toEqual(Uint8Array.of(7, 8, 9));
    expect(dev.info.deviceAddress).toBe(info.deviceAddress);
  });
});
