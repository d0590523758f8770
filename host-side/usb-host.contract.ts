/**
 * The behavioural contract of the {@link UsbHost} seam, run unchanged against every implementation:
 * `SimUsbHost` (simulator/bus/sim-usb-host.contract.test.ts) and `NodeUsbHost` (under umockdev or on a
 * lab host). Same calls, same outcomes, same libusb names (STYLE.md §7 contract tests).
 *
 * Device-side needs are kept minimal so a real device can satisfy them: the usbfn-hil test function
 * (device-side/functions) with its bulk loopback (each OUT transfer comes back as one IN transfer with the
 * same bytes, no ZLP appended) and the test-protocol class requests ECHO_WRITE, ECHO_READ and
 * SET_ENDPOINT_HALT on its interface. Any other class request must stall.
 *
 * @see host-side/usb-host.ts, device-side/functions/test-protocol.ts
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCancelled, isTimeout, LibusbError } from '../harness/errors.js';
import { TEST_REQUEST } from '../device-side/functions/test-protocol.js';
import type { UsbControlSetup, UsbDeviceFilter, UsbDeviceHandle, UsbHost } from './usb-host.js';

/** What the suite needs from an implementation's test rig. */
export interface UsbHostContractRig {
  readonly host: UsbHost;
  /** Matches exactly the device under test. */
  readonly filter: UsbDeviceFilter;
  /** Interface of the loopback test function. */
  readonly interfaceNumber: number;
  /** Its bulk OUT and IN endpoint addresses. */
  readonly bulkOut: number;
  readonly bulkIn: number;
  /** wMaxPacketSize of those endpoints at the current speed. */
  readonly maxPacketSize: number;
  /** Releases everything the rig started. */
  close(): Promise<void>;
}

const classIf = (request: number, ifnum: number, value = 0, indexHigh = 0): UsbControlSetup => ({
  requestType: 'class',
  recipient: 'interface',
  request,
  value,
  index: (indexHigh << 8) | ifnum,
});

const pattern = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

/**
 * Declares the contract suite for one implementation.
 * @param name shown in the suite title, e.g. `SimUsbHost`.
 * @param makeRig builds a fresh rig per test (device attached, test function running).
 */
export function describeUsbHostContract(name: string, makeRig: () => Promise<UsbHostContractRig>): void {
  describe(`UsbHost contract: ${name}`, () => {
    let rig: UsbHostContractRig;
    let dev: UsbDeviceHandle;

    beforeEach(async () => {
      rig = await makeRig();
      const info = await rig.host.waitForDevice(rig.filter, { timeoutMs: 5000 });
      dev = await rig.host.open(info);
    });

    afterEach(async () => {
      await dev.close();
      await rig.close();
    });

    it('lists the device by filter and nothing for a filter that does not match', async () => {
      const found = await rig.host.listDevices(rig.filter);
      expect(found).toHaveLength(1);
      expect(found[0]!.interfaces.map((i) => i.interfaceNumber)).toContain(rig.interfaceNumber);
      const vid = found[0]!.vendorId;
      expect(await rig.host.listDevices({ vendorId: vid, productId: (found[0]!.productId + 1) & 0xffff, serialNumber: found[0]!.serialNumber })).toEqual([]);
    });

    it('opens with descriptor data in info', () => {
      expect(dev.info.vendorId).toBe(rig.filter.vendorId ?? dev.info.vendorId);
      expect(['full', 'high', 'super']).toContain(dev.info.speed);
    });

    it('fails to claim a missing interface with LIBUSB_ERROR_NOT_FOUND', async () => {
      await expect(dev.claimInterface(0xfe)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NOT_FOUND' });
    });

    it('fails to claim an interface held by another handle with LIBUSB_ERROR_BUSY', async () => {
      await dev.claimInterface(rig.interfaceNumber);
      const other = await rig.host.open(dev.info);
      try {
        await expect(other.claimInterface(rig.interfaceNumber)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_BUSY' });
      } finally {
        await other.close();
      }
    });

    it('rejects a bulk transfer on an endpoint of an unclaimed interface with LIBUSB_ERROR_NOT_FOUND', async () => {
      await expect(dev.bulkIn(rig.bulkIn, 64, { timeoutMs: 100 })).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NOT_FOUND' });
    });

    it('writes and reads back a control payload (control OUT then IN)', async () => {
      const payload = pattern(10, 1);
      expect(await dev.controlOut(classIf(TEST_REQUEST.ECHO_WRITE, rig.interfaceNumber), payload)).toEqual({ status: 'ok', bytesWritten: 10 });
      const back = await dev.controlIn(classIf(TEST_REQUEST.ECHO_READ, rig.interfaceNumber), 64);
      expect(back.status).toBe('ok');
      expect(back.data).toEqual(payload);
    });

    it('truncates a control IN answer to wLength', async () => {
      await dev.controlOut(classIf(TEST_REQUEST.ECHO_WRITE, rig.interfaceNumber), pattern(10, 2));
      const back = await dev.controlIn(classIf(TEST_REQUEST.ECHO_READ, rig.interfaceNumber), 4);
      expect(back.data).toEqual(pattern(10, 2).subarray(0, 4));
    });

    it('resolves status stall for an unsupported class request and keeps EP0 usable', async () => {
      const r = await dev.controlIn(classIf(0x7e, rig.interfaceNumber), 8);
      expect(r.status).toBe('stall');
      const status = await dev.controlIn({ requestType: 'standard', recipient: 'device', request: 0x00, value: 0, index: 0 }, 2);
      expect(status.status).toBe('ok');
      expect(status.data.length).toBe(2);
    });

    it('loops a short bulk transfer back: a short packet ends the host IN', async () => {
      await dev.claimInterface(rig.interfaceNumber);
      const data = pattern(100, 3);
      await expect(dev.bulkOut(rig.bulkOut, data)).resolves.toEqual({ status: 'ok', bytesWritten: 100 });
      const back = await dev.bulkIn(rig.bulkIn, 4096);
      expect(back).toMatchObject({ status: 'ok' });
      expect(back.data).toEqual(data);
    });

    it('ends a bulk OUT that is a multiple of wMaxPacketSize with a ZLP when asked, and reads it back by length', async () => {
      await dev.claimInterface(rig.interfaceNumber);
      const data = pattern(2 * rig.maxPacketSize, 4);
      await dev.bulkOut(rig.bulkOut, data, { zeroLengthPacket: true });
      const back = await dev.bulkIn(rig.bulkIn, 2 * rig.maxPacketSize);
      expect(back.data).toEqual(data);
    });

    it('times a bulk IN out with LIBUSB_TRANSFER_TIMED_OUT when the device has nothing to send', async () => {
      await dev.claimInterface(rig.interfaceNumber);
      const err: unknown = await dev.bulkIn(rig.bulkIn, 64, { timeoutMs: 100 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LibusbError);
      expect(err).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_TIMED_OUT', endpoint: rig.bulkIn });
      expect(isTimeout(err)).toBe(true);
    });

    it('resolves status stall on a halted endpoint and works again after clearHalt', async () => {
      await dev.claimInterface(rig.interfaceNumber);
      await dev.controlOut(classIf(TEST_REQUEST.SET_ENDPOINT_HALT, rig.interfaceNumber, 1, rig.bulkIn));
      expect((await dev.bulkIn(rig.bulkIn, 64, { timeoutMs: 1000 })).status).toBe('stall');
      await dev.clearHalt(rig.bulkIn);
      await dev.bulkOut(rig.bulkOut, pattern(5, 5));
      expect((await dev.bulkIn(rig.bulkIn, 64, { timeoutMs: 1000 })).data).toEqual(pattern(5, 5));
    });

    it('cancels a pending transfer through its AbortSignal with LIBUSB_TRANSFER_CANCELLED', async () => {
      await dev.claimInterface(rig.interfaceNumber);
      const ac = new AbortController();
      const pending = dev.bulkIn(rig.bulkIn, 64, { timeoutMs: 5000, signal: ac.signal });
      ac.abort();
      const err: unknown = await pending.catch((e: unknown) => e);
      expect(err).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_CANCELLED' });
      expect(isCancelled(err)).toBe(true);
    });

    it('ends the hotplug iterator when its signal aborts', async () => {
      const ac = new AbortController();
      const it = rig.host.hotplugEvents({ signal: ac.signal })[Symbol.asyncIterator]();
      const next = it.next();
      ac.abort();
      await expect(next).resolves.toMatchObject({ done: true });
    });

    it('closes idempotently', async () => {
      await dev.close();
      await expect(dev.close()).resolves.toBeUndefined();
    });
  });
}
