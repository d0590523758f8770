/**
 * The behavioural contract of the {@link UsbHost} seam, run unchanged against every implementation:
 * `SimUsbHost` (simulator/link/host-end/sim-usb-host.contract.test.ts), `UsbIpUsbHost` over USB/IP to the simulation
 * (simulator/usbip/usbip-usb-host.contract.test.ts) and `NodeUsbHost` over real libusb under umockdev
 * (.ci/tiers/umockdev, `npm run test:umockdev`) or on a lab host. Same calls, same outcomes,
 * same libusb names (docs/architecture.md#tests: contract suites).
 *
 * Device-side needs are kept minimal so a real device can satisfy them: the usbfn-hil test function
 * (device-side/functions) with its bulk loopback (each OUT transfer comes back as one IN transfer with the
 * same bytes, no ZLP appended) and the test-protocol class requests ECHO_WRITE, ECHO_READ and
 * SET_ENDPOINT_HALT on its interface. Any other class request must stall.
 *
 * The cases are split into sections by what their outcome depends on (see {@link USB_HOST_CONTRACT_SECTIONS}),
 * so a runner that cannot reproduce one kind of behaviour (umockdev replays URBs, not time) skips that
 * section with a printed reason instead of weakening or dropping cases silently.
 *
 * @see host-side/usb-host.ts, device-side/functions/test-protocol.ts, docs/host-side.md (what runs where)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isCancelled, isTimeout, LibusbError, TEST_REQUEST } from '../core/index.js';
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

/**
 * The contract's sections, by what a case's outcome depends on:
 * - `replayable`: only on the device's answers to the URBs the host submits (and on host-side state), so
 *   a recorded capture of a run reproduces it (umockdev `--pcap` replay into real libusb);
 * - `timing`: on when something happens (a transfer timeout expiring, an abort racing the completion), which
 *   a capture cannot reproduce.
 */
export const USB_HOST_CONTRACT_SECTIONS = {
  replayable: 'outcome follows from the device answers to the submitted URBs',
  timing: 'outcome depends on timing (transfer timeouts, cancellation)',
} as const;
export type UsbHostContractSection = keyof typeof USB_HOST_CONTRACT_SECTIONS;

/** Which case a rig is built for (runners that record or replay per case use it to name their files). */
export interface UsbHostContractCaseRef {
  readonly section: UsbHostContractSection;
  readonly title: string;
}

export interface UsbHostContractOptions {
  /**
   * Sections this runner cannot check, each with the reason it prints: every case of the section is
   * reported as skipped with `<reason>`, never dropped silently.
   */
  readonly skip?: Partial<Record<UsbHostContractSection, string>> | undefined;
}

/** What a case body gets: the rig and the device opened for it. */
interface CaseContext {
  readonly rig: UsbHostContractRig;
  readonly dev: UsbDeviceHandle;
}

interface ContractCase extends UsbHostContractCaseRef {
  run(t: CaseContext): Promise<void> | void;
}

const classIf = (request: number, ifnum: number, value = 0, indexHigh = 0): UsbControlSetup => ({
  requestType: 'class',
  recipient: 'interface',
  request,
  value,
  index: (indexHigh << 8) | ifnum,
});

const pattern = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

const CASES: readonly ContractCase[] = [
  {
    section: 'replayable',
    title: 'lists the device by filter and nothing for a filter that does not match',
    async run({ rig }) {
      const found = await rig.host.listDevices(rig.filter);
      expect(found).toHaveLength(1);
      expect(found[0]!.interfaces.map((i) => i.interfaceNumber)).toContain(rig.interfaceNumber);
      const vid = found[0]!.vendorId;
      expect(await rig.host.listDevices({ vendorId: vid, productId: (found[0]!.productId + 1) & 0xffff, serialNumber: found[0]!.serialNumber })).toEqual([]);
    },
  },
  {
    section: 'replayable',
    title: 'opens with descriptor data in info',
    run({ rig, dev }) {
      expect(dev.info.vendorId).toBe(rig.filter.vendorId ?? dev.info.vendorId);
      expect(['full', 'high', 'super']).toContain(dev.info.speed);
    },
  },
  {
    section: 'replayable',
    title: 'fails to claim a missing interface with LIBUSB_ERROR_NOT_FOUND',
    async run({ dev }) {
      await expect(dev.claimInterface(0xfe)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NOT_FOUND' });
    },
  },
  {
    section: 'replayable',
    title: 'fails to claim an interface held by another handle with LIBUSB_ERROR_BUSY',
    async run({ rig, dev }) {
      await dev.claimInterface(rig.interfaceNumber);
      const other = await rig.host.open(dev.info);
      try {
        await expect(other.claimInterface(rig.interfaceNumber)).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_BUSY' });
      } finally {
        await other.close();
      }
    },
  },
  {
    section: 'replayable',
    title: 'rejects a bulk transfer on an endpoint of an unclaimed interface with LIBUSB_ERROR_NOT_FOUND',
    async run({ rig, dev }) {
      await expect(dev.bulkIn(rig.bulkIn, 64, { timeoutMs: 100 })).rejects.toMatchObject({ libusbName: 'LIBUSB_ERROR_NOT_FOUND' });
    },
  },
  {
    section: 'replayable',
    title: 'writes and reads back a control payload (control OUT then IN)',
    async run({ rig, dev }) {
      const payload = pattern(10, 1);
      expect(await dev.controlOut(classIf(TEST_REQUEST.ECHO_WRITE, rig.interfaceNumber), payload)).toEqual({ status: 'ok', bytesWritten: 10 });
      const back = await dev.controlIn(classIf(TEST_REQUEST.ECHO_READ, rig.interfaceNumber), 64);
      expect(back.status).toBe('ok');
      expect(back.data).toEqual(payload);
    },
  },
  {
    section: 'replayable',
    title: 'truncates a control IN answer to wLength',
    async run({ rig, dev }) {
      await dev.controlOut(classIf(TEST_REQUEST.ECHO_WRITE, rig.interfaceNumber), pattern(10, 2));
      const back = await dev.controlIn(classIf(TEST_REQUEST.ECHO_READ, rig.interfaceNumber), 4);
      expect(back.data).toEqual(pattern(10, 2).subarray(0, 4));
    },
  },
  {
    section: 'replayable',
    title: 'resolves status stall for an unsupported class request and keeps EP0 usable',
    async run({ rig, dev }) {
      const r = await dev.controlIn(classIf(0x7e, rig.interfaceNumber), 8);
      expect(r.status).toBe('stall');
      const status = await dev.controlIn({ requestType: 'standard', recipient: 'device', request: 0x00, value: 0, index: 0 }, 2);
      expect(status.status).toBe('ok');
      expect(status.data.length).toBe(2);
    },
  },
  {
    section: 'replayable',
    title: 'loops a short bulk transfer back: a short packet ends the host IN',
    async run({ rig, dev }) {
      await dev.claimInterface(rig.interfaceNumber);
      const data = pattern(100, 3);
      await expect(dev.bulkOut(rig.bulkOut, data)).resolves.toEqual({ status: 'ok', bytesWritten: 100 });
      const back = await dev.bulkIn(rig.bulkIn, 4096);
      expect(back).toMatchObject({ status: 'ok' });
      expect(back.data).toEqual(data);
    },
  },
  {
    section: 'replayable',
    title: 'ends a bulk OUT that is a multiple of wMaxPacketSize with a ZLP when asked, and reads it back by length',
    async run({ rig, dev }) {
      await dev.claimInterface(rig.interfaceNumber);
      const data = pattern(2 * rig.maxPacketSize, 4);
      await dev.bulkOut(rig.bulkOut, data, { zeroLengthPacket: true });
      const back = await dev.bulkIn(rig.bulkIn, 2 * rig.maxPacketSize);
      expect(back.data).toEqual(data);
    },
  },
  {
    section: 'timing',
    title: 'times a bulk IN out with LIBUSB_TRANSFER_TIMED_OUT when the device has nothing to send',
    async run({ rig, dev }) {
      await dev.claimInterface(rig.interfaceNumber);
      const err: unknown = await dev.bulkIn(rig.bulkIn, 64, { timeoutMs: 100 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LibusbError);
      expect(err).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_TIMED_OUT', endpoint: rig.bulkIn });
      expect(isTimeout(err)).toBe(true);
    },
  },
  {
    section: 'replayable',
    title: 'resolves status stall on a halted endpoint and works again after clearHalt',
    async run({ rig, dev }) {
      await dev.claimInterface(rig.interfaceNumber);
      await dev.controlOut(classIf(TEST_REQUEST.SET_ENDPOINT_HALT, rig.interfaceNumber, 1, rig.bulkIn));
      expect((await dev.bulkIn(rig.bulkIn, 64, { timeoutMs: 1000 })).status).toBe('stall');
      await dev.clearHalt(rig.bulkIn);
      await dev.bulkOut(rig.bulkOut, pattern(5, 5));
      expect((await dev.bulkIn(rig.bulkIn, 64, { timeoutMs: 1000 })).data).toEqual(pattern(5, 5));
    },
  },
  {
    section: 'timing',
    title: 'cancels a pending transfer through its AbortSignal with LIBUSB_TRANSFER_CANCELLED',
    async run({ rig, dev }) {
      await dev.claimInterface(rig.interfaceNumber);
      const ac = new AbortController();
      const pending = dev.bulkIn(rig.bulkIn, 64, { timeoutMs: 5000, signal: ac.signal });
      ac.abort();
      const err: unknown = await pending.catch((e: unknown) => e);
      expect(err).toMatchObject({ libusbName: 'LIBUSB_TRANSFER_CANCELLED' });
      expect(isCancelled(err)).toBe(true);
    },
  },
  {
    section: 'replayable',
    title: 'ends the hotplug iterator when its signal aborts',
    async run({ rig }) {
      const ac = new AbortController();
      const it = rig.host.hotplugEvents({ signal: ac.signal })[Symbol.asyncIterator]();
      const next = it.next();
      ac.abort();
      await expect(next).resolves.toMatchObject({ done: true });
    },
  },
  {
    section: 'replayable',
    title: 'closes idempotently',
    async run({ dev }) {
      await dev.close();
      await expect(dev.close()).resolves.toBeUndefined();
    },
  },
];

/** Every case of the contract, in the order the suite runs them (for runners that record or replay per case). */
export const USB_HOST_CONTRACT_CASES: readonly UsbHostContractCaseRef[] = CASES.map(({ section, title }) => ({ section, title }));

/**
 * Declares the contract suite for one implementation: `UsbHost contract: <name>` › `<section>` › `<case>`.
 * @param name shown in the suite title, e.g. `SimUsbHost`.
 * @param makeRig builds a fresh rig per case (device attached, test function running); it is told which case.
 * @param options sections to skip, each with the reason printed for every case it skips.
 */
export function describeUsbHostContract(
  name: string,
  makeRig: (which: UsbHostContractCaseRef) => Promise<UsbHostContractRig>,
  options: UsbHostContractOptions = {},
): void {
  describe(`UsbHost contract: ${name}`, () => {
    for (const section of Object.keys(USB_HOST_CONTRACT_SECTIONS) as UsbHostContractSection[]) {
      const cases = CASES.filter((c) => c.section === section);
      const skipReason = options.skip?.[section];
      describe(section, () => {
        if (skipReason !== undefined) {
          // Reported as skipped with the note, one per case, so a report shows exactly what did not run here.
          for (const c of cases) it(c.title, (ctx) => ctx.skip(`${section} section skipped for ${name}: ${skipReason}`));
          return;
        }
        let rig: UsbHostContractRig | undefined;
        let dev: UsbDeviceHandle | undefined;

        afterEach(async () => {
          try {
            await dev?.close();
          } finally {
            dev = undefined;
            const r = rig;
            rig = undefined;
            await r?.close();
          }
        });

        for (const c of cases) {
          it(c.title, async () => {
            rig = await makeRig({ section: c.section, title: c.title });
            const info = await rig.host.waitForDevice(rig.filter, { timeoutMs: 5000 });
            dev = await rig.host.open(info);
            await c.run({ rig, dev });
          });
        }
      });
    }
  });
}
