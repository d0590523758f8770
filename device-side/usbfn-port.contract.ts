/**
 * The behavioural contract of the {@link UsbFnPort} seam (docs/architecture.md#tests): one suite that every
 * implementation runs, so the simulator raises the same error class and name as Windows in the same
 * situation.
 *
 * Two sections:
 * - **(a) no driver needed**: Configuration Manager and CreateFileW behaviour that holds on any Windows
 *   (or Wine) machine without GenericUSBFn.sys: open of a missing link, an empty interface list,
 *   a registration round trip. `Win32UsbFnPort` runs it under Wine.
 * - **(b) with a driver**: the IOCTL behaviour of GenericUSBFn.sys (docs/reference/documented-vs-inferred.md#driver-documented, plus the few
 *   assumptions the harness depends on). It needs a function that is present, not yet activated, and a
 *   way to make the host enumerate it ({@link UsbFnPortContractDriver.configure}). `SimUsbFnPort` runs
 *   it in `simulator/usbfn/sim-usbfn-port.contract.test.ts`; a lab rig can run it on a real device.
 *
 * @example
 * describeUsbFnPortContract('SimUsbFnPort', () => makePort(), { withDriver: async () => makeDriverSubject() });
 * @see docs/reference/ioctls.md, docs/reference/errors.md, docs/reference/documented-vs-inferred.md; docs/architecture.md#seams
 */
import { describe, expect, it } from 'vitest';
import { delay, withTimeout, ConfigRetError, Win32Error, isCancelled, isGone } from '../core/index.js';
import {
  IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS,
  IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
  IOCTL_GENERICUSBFN_GET_CLASS_INFO,
  IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET,
  IOCTL_GENERICUSBFN_TRANSFER_OUT,
  USBFN_NOTIFICATION_SIZE,
  decodeMultiSz,
  decodeUsbfnClassInformationPacket,
  decodeUsbfnInterfaceInfo,
  decodeUsbfnNotification,
  encodeUsbfnInterfaceInfo,
  type UsbfnClassInformationPacket,
} from './abi/index.js';
import type { GuidString, UsbFnFile, UsbFnPort } from './usbfn-port.js';

/** A class GUID no device uses (made up for this suite). */
const UNUSED_GUID = '{5C0F1E2D-9A8B-4C7D-B6E5-F4A3B2C1D0E9}';
/** A symbolic link that cannot exist (its class GUID is {@link UNUSED_GUID}). */
const MISSING_LINK = '\\\\?\\USBFN#CONTRACT_MISSING#0#{5c0f1e2d-9a8b-4c7d-b6e5-f4a3b2c1d0e9}';
/** Bound on every wait of the suite, on the port's clock (virtual in sim). */
const WAIT_MS = 5_000;
/** How long "still pending" is observed, on the port's clock. */
const PENDING_MS = 50;

/** Section (b): a function behind `port` and a way to make the host enumerate it. */
export interface UsbFnPortContractDriver {
  /** The port, with the function's device interface present and the bus not yet activated. */
  readonly port: UsbFnPort;
  /** The function's device-interface class GUID (its `InterfaceGUID`). */
  readonly interfaceClassGuid: GuidString;
  /**
   * Makes the host enumerate the function (attach, reset, SET_CONFIGURATION(1)). Called only after the
   * suite sent ACTIVATE_USB_BUS. Resolves once the host has configured the device.
   */
  configure(): Promise<void>;
  /** Releases the rig (the suite closes its own handles first). */
  dispose?(): Promise<void>;
}

/** Options of {@link describeUsbFnPortContract}. */
export interface UsbFnPortContractOptions {
  /** A fresh driver subject per test of section (b); omit where no driver exists (Wine) to skip (b). */
  readonly withDriver?: (() => Promise<UsbFnPortContractDriver>) | undefined;
}

/**
 * Declares the UsbFnPort contract suite for one implementation.
 * @param makePort a fresh port for each test of section (a).
 */
export function describeUsbFnPortContract(
  name: string,
  makePort: () => UsbFnPort | Promise<UsbFnPort>,
  options: UsbFnPortContractOptions = {},
): void {
  describe(`UsbFnPort contract: ${name}`, () => {
    describe('(a) without a driver', () => {
      it('open of a missing symbolic link fails with Win32Error ERROR_FILE_NOT_FOUND or ERROR_PATH_NOT_FOUND (isGone)', async () => {
        const port = await makePort();
        const err = await port.open(MISSING_LINK).then(
          (f) => f.close().then(() => new Error('open of a missing link succeeded')),
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(Win32Error);
        expect(err).toMatchObject({ api: 'CreateFileW' });
        expect(['ERROR_FILE_NOT_FOUND', 'ERROR_PATH_NOT_FOUND']).toContain((err as Win32Error).win32Name);
        expect(isGone(err)).toBe(true);
      });

      it('the interface list of an unused class GUID is empty (size ≥ 1, one NUL)', async () => {
        const port = await makePort();
        const query = { interfaceClassGuid: UNUSED_GUID };
        const chars = await port.getInterfaceListSize(query);
        expect(chars).toBeGreaterThanOrEqual(1);
        const raw = await port.getInterfaceList(query, chars);
        expect(raw.length).toBe(chars * 2);
        expect(decodeMultiSz(raw)).toEqual([]);
      });

      it('a malformed class GUID is a ConfigRetError, not a crash', async () => {
        const port = await makePort();
        const err = await port.getInterfaceListSize({ interfaceClassGuid: 'not-a-guid' }).catch((e: unknown) => e);
        // Win32 ports cannot even build a GUID from it: they must still reject with ConfigRetError or a UsageError.
        expect(err).toBeInstanceOf(Error);
        if (err instanceof ConfigRetError) expect(err.crName).toMatch(/^CR_/);
      });

      it('register / unregister round trip for an interface class', async () => {
        const port = await makePort();
        const reg = await port.watchInterfaces(UNUSED_GUID, () => 0);
        expect(typeof reg.id).toBe('string');
        expect(reg.id.length).toBeGreaterThan(0);
        await expect(reg.unregister()).resolves.toBeUndefined();
      });
    });

    const withDriver = options.withDriver;
    describe.skipIf(withDriver === undefined)(
      withDriver === undefined ? '(b) with a driver — skipped: this port has no GenericUSBFn.sys behind it (runs on a real device or over the simulator)' : '(b) with a driver',
      () => {
      /** Runs `body` with a fresh subject and a handle to its function; closes and disposes afterwards. */
      async function withFunction(body: (d: UsbFnPortContractDriver, file: UsbFnFile) => Promise<void>): Promise<void> {
        const d = await withDriver!();
        let file: UsbFnFile | undefined;
        try {
          const query = { interfaceClassGuid: d.interfaceClassGuid };
          const links = decodeMultiSz(await d.port.getInterfaceList(query, await d.port.getInterfaceListSize(query)));
          expect(links.length).toBeGreaterThan(0);
          file = await d.port.open(links[0]!);
          await body(d, file);
        } finally {
          await file?.close();
          await d.dispose?.();
        }
      }

      const wait = <T>(d: UsbFnPortContractDriver, p: Promise<T>, what: string): Promise<T> =>
        withTimeout(d.port.clock, p, what, WAIT_MS);

      async function classInfo(file: UsbFnFile): Promise<UsbfnClassInformationPacket> {
        const out = new Uint8Array(748);
        expect(await file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, out)).toBe(748);
        return decodeUsbfnClassInformationPacket(out);
      }

      function pipeId(n: number): Uint8Array {
        const b = new Uint8Array(4);
        new DataView(b.buffer).setUint32(0, n, true);
        return b;
      }

      /** Observes a pending request without awaiting it. */
      function observe<T>(p: Promise<T>): { settled: boolean } {
        const state = { settled: false };
        p.then(
          () => (state.settled = true),
          () => (state.settled = true),
        );
        return state;
      }

      it('GET_CLASS_INFO returns 748 bytes: the interface GUID and distinct pipes with endpoint descriptors', async () => {
        await withFunction(async (d, file) => {
          const info = await classInfo(file);
          expect(info.interfaceGuid?.toUpperCase()).toBe(d.interfaceClassGuid.toUpperCase());
          expect(info.interfaceName.length).toBeGreaterThan(0);
          for (const ci of [info.fullSpeed, info.highSpeed, info.superSpeed]) {
            const ids = ci.pipes.map((p) => p.pipeId);
            expect(new Set(ids).size).toBe(ids.length);
            for (const p of ci.pipes) expect(p.epDesc.bDescriptorType).toBe(5);
          }
          expect(info.highSpeed.pipes.filter((p) => p.epDesc.bEndpointAddress !== 0).length).toBeGreaterThan(0);
        });
      });

      it('ACTIVATE_USB_BUS succeeds with 0 bytes', async () => {
        await withFunction(async (_d, file) => {
          await expect(file.ioctl(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, null, null)).resolves.toBe(0);
        });
      });

      it('BUS_EVENT_NOTIFICATION stays pending until a bus event, then returns a 12-byte USBFN_NOTIFICATION', async () => {
        await withFunction(async (d, file) => {
          await file.ioctl(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, null, null);
          const out = new Uint8Array(USBFN_NOTIFICATION_SIZE);
          const p = file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, out);
          const state = observe(p);
          await delay(d.port.clock, PENDING_MS);
          expect(state.settled).toBe(false);
          await d.configure();
          await expect(wait(d, p, 'BUS_EVENT_NOTIFICATION')).resolves.toBe(USBFN_NOTIFICATION_SIZE);
          expect(['attach', 'reset', 'configured', 'suspend', 'resume']).toContain(decodeUsbfnNotification(out).type);
        });
      });

      it('CancelIoEx (abort) ends a pending request with ERROR_OPERATION_ABORTED (995)', async () => {
        await withFunction(async (d, file) => {
          await file.ioctl(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, null, null);
          const ac = new AbortController();
          const p = file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, new Uint8Array(12), { signal: ac.signal });
          await delay(d.port.clock, PENDING_MS);
          ac.abort();
          const err = await wait(d, p, 'cancelled BUS_EVENT_NOTIFICATION').catch((e: unknown) => e);
          expect(err).toBeInstanceOf(Win32Error);
          expect(err).toMatchObject({ win32: 995, win32Name: 'ERROR_OPERATION_ABORTED', ioctl: 'IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION' });
          expect(isCancelled(err)).toBe(true);
        });
      });

      it('close cancels pending requests (995); I/O after close fails with ERROR_INVALID_HANDLE (6)', async () => {
        await withFunction(async (d, file) => {
          await file.ioctl(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, null, null);
          const p = file.ioctl(IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION, null, new Uint8Array(12));
          await delay(d.port.clock, PENDING_MS);
          await file.close();
          expect(file.isOpen).toBe(false);
          await expect(wait(d, p, 'BUS_EVENT_NOTIFICATION after close')).rejects.toMatchObject({ win32: 995 });
          await expect(file.ioctl(IOCTL_GENERICUSBFN_GET_CLASS_INFO, null, new Uint8Array(748))).rejects.toMatchObject({
            win32: 6,
            win32Name: 'ERROR_INVALID_HANDLE',
          });
        });
      });

      it('a transfer before UsbfnEventConfigured fails with ERROR_BAD_COMMAND (22)', async () => {
        await withFunction(async (_d, file) => {
          const info = await classInfo(file);
          const out = info.highSpeed.pipes.find((p) => p.epDesc.bEndpointAddress !== 0 && (p.epDesc.bEndpointAddress & 0x80) === 0);
          expect(out, 'the function needs an OUT pipe for this test').toBeDefined();
          await file.ioctl(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, null, null);
          await expect(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, pipeId(out!.pipeId), new Uint8Array(64))).rejects.toMatchObject({
            win32: 22,
            win32Name: 'ERROR_BAD_COMMAND',
          });
        });
      });

      it('a USBFNPIPEID input of the wrong length fails with ERROR_INVALID_PARAMETER (87)', async () => {
        await withFunction(async (d, file) => {
          const info = await classInfo(file);
          const out = info.highSpeed.pipes.find((p) => p.epDesc.bEndpointAddress !== 0 && (p.epDesc.bEndpointAddress & 0x80) === 0)!;
          await file.ioctl(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, null, null);
          await d.configure();
          const bad = pipeId(out.pipeId).subarray(0, 3);
          await expect(file.ioctl(IOCTL_GENERICUSBFN_TRANSFER_OUT, bad, new Uint8Array(64))).rejects.toMatchObject({ win32: 87 });
        });
      });

      it('GET_INTERFACE_DESCRIPTOR_SET: too small → ERROR_INSUFFICIENT_BUFFER (122) with Size; the retry returns the set', async () => {
        await withFunction(async (_d, file) => {
          const info = await classInfo(file);
          await file.ioctl(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, null, null);
          const ifNum = info.highSpeed.interfaceNumber;
          const input = encodeUsbfnInterfaceInfo({ interfaceNumber: ifNum, speed: 2, size: 0 });
          const small = new Uint8Array(12);
          await expect(file.ioctl(IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET, input, small)).rejects.toMatchObject({ win32: 122 });
          const size = small[8]! | (small[9]! << 8);
          expect(size).toBeGreaterThan(0);
          // Size may or may not count the 10-byte header (docs/reference/documented-vs-inferred.md#drv-descriptor-set-size): room for both readings.
          const big = new Uint8Array(10 + size);
          const returned = await file.ioctl(IOCTL_GENERICUSBFN_GET_INTERFACE_DESCRIPTOR_SET, input, big);
          expect(returned).toBeGreaterThanOrEqual(10 + 9);
          const set = decodeUsbfnInterfaceInfo(big.subarray(0, returned)).descriptorSet;
          expect([set[0], set[1], set[2]]).toEqual([9, 4, ifNum]); // USB_INTERFACE_DESCRIPTOR first
        });
      });
      },
    );
  });
}
