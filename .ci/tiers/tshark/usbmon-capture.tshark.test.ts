/**
 * The tshark tier (issue 3): captures written by UsbmonPcapWriter — from a representative set of URB
 * events and from a real simulated run — decode in tshark with no malformed packets and with the right
 * URB fields, setup fields, lengths and statuses.
 *
 * In CI (CI=true) a missing tshark fails; locally the tier is skipped with the reason.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readUsbmonCapture, type UsbmonRecord, UsbmonPcapWriter } from '../../../simulator/index.js';
import { simulatedRun } from './simulated-run.js';
import { representativeUrbs } from './representative-urbs.js';
import { type TsharkFrame, EXPERT_SEVERITY_ERROR, decodeWithTshark, findTshark, tsharkVersion } from './tshark.js';

const tshark = await findTshark();
const inCi = process.env['CI'] === 'true';
const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;
const hexBytes = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');

if (tshark === undefined) {
  if (inCi) {
    describe('tshark tier', () => {
      it('needs tshark (CI=true): install it with apt-get install -y tshark', () => {
        expect.fail('tshark is not installed; .ci/run must install it (apt-get install -y tshark) before npm run test:tshark');
      });
    });
  } else {
    describe.skip('tshark tier (skipped: tshark not found on PATH; install it with `sudo apt-get install tshark`)', () => {
      it('decodes usbmon captures', () => undefined);
    });
  }
} else {
  const tsharkPath = tshark;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'usbfn-tshark-'));
    console.log(`tshark tier: ${await tsharkVersion(tsharkPath)}`);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function assertWellFormed(frames: TsharkFrame[]): void {
    frames.forEach((f, i) => {
      expect(f.has('_ws.malformed'), `frame ${i + 1} is malformed`).toBe(false);
      expect(f.all('_ws.expert.severity'), `frame ${i + 1} has an expert error: ${f.all('_ws.expert.message').join('; ')}`).not.toContain(EXPERT_SEVERITY_ERROR);
    });
  }

  describe('tshark tier: representative URB events', () => {
    const urbs = representativeUrbs();
    let frames: TsharkFrame[];
    beforeAll(async () => {
      const w = new UsbmonPcapWriter();
      for (const u of urbs) w.record(u.event);
      const path = join(dir, 'representative.pcap');
      await w.writeFile(path);
      frames = await decodeWithTshark(tsharkPath, path);
    });

    it('decodes every record as one USB frame with no malformed packets or expert errors', () => {
      expect(frames).toHaveLength(urbs.length);
      for (const f of frames) expect(f.get('frame.protocols')).toBe('usb');
      assertWellFormed(frames);
    });

    it('shows URB type, transfer type, endpoint, device, bus, id, status and lengths', () => {
      urbs.forEach((u, i) => {
        const f = frames[i]!;
        const e = u.event;
        const where = `${u.label} (frame ${i + 1})`;
        expect(f.get('usb.urb_type'), where).toBe(`'${e.kind}'`);
        expect(f.get('usb.transfer_type'), where).toBe(hex2(e.transferType === 'control' ? 2 : 3));
        expect(f.get('usb.endpoint_address'), where).toBe(hex2(e.endpoint));
        expect(f.get('usb.device_address'), where).toBe(String(e.deviceAddress));
        expect(f.get('usb.bus_id'), where).toBe(String(e.busNumber));
        expect(BigInt(f.get('usb.urb_id') ?? '-1'), where).toBe(BigInt(e.urbId));
        expect(f.get('usb.urb_status'), where).toBe(String(e.status));
        expect(f.get('usb.urb_len'), where).toBe(String(e.length));
        expect(f.get('usb.data_len'), where).toBe(String(u.dataLength));
        expect(f.get('usb.copy_of_transfer_flags'), where).toBe(`0x${e.transferFlags.toString(16).padStart(8, '0')}`);
      });
    });

    it('shows the SETUP fields of every control submit', () => {
      const withSetup = urbs.map((u, i) => [u, frames[i]!] as const).filter(([u]) => u.setup !== undefined);
      expect(withSetup.length).toBe(5);
      for (const [u, f] of withSetup) {
        const s = u.setup!;
        expect(f.get('usb.setup_flag'), u.label).toBe("'\\0'");
        expect(f.get('usb.bmRequestType'), u.label).toBe(hex2(s.bmRequestType));
        expect(f.get('usb.setup.bRequest'), u.label).toBe(String(s.bRequest));
        expect(f.get('usb.setup.wLength'), u.label).toBe(String(s.wLength));
        if (s.standard) {
          expect(f.get('usb.DescriptorIndex'), u.label).toBe(hex2(s.wValue & 0xff));
        } else {
          expect(f.get('usb.setup.wValue'), u.label).toBe(`0x${s.wValue.toString(16).padStart(4, '0')}`);
          expect(f.get('usb.setup.wIndex'), u.label).toBe(String(s.wIndex));
        }
      }
    });

    it('shows bulk payloads byte-exact as usb.capdata', () => {
      let checked = 0;
      urbs.forEach((u, i) => {
        const e = u.event;
        if (e.transferType !== 'bulk' || u.dataLength === 0 || e.data === undefined) return;
        expect(frames[i]!.get('usb.capdata'), u.label).toBe(hexBytes(e.data));
        checked++;
      });
      expect(checked).toBeGreaterThanOrEqual(10);
    });

    it('decodes the device descriptor returned by GET_DESCRIPTOR', () => {
      const f = frames[1]!;
      expect(f.get('usb.idVendor')).toBe('0x1209');
      expect(f.get('usb.idProduct')).toBe('0x0001');
      expect(f.get('usb.bMaxPacketSize0')).toBe('64');
    });
  });

  describe('tshark tier: snaplen', () => {
    it('reports captured vs original lengths for records capped by snaplen', async () => {
      const w = new UsbmonPcapWriter({ snaplen: 64 + 100 });
      const data = new Uint8Array(4096).fill(0xab);
      w.record({ urbId: 1, kind: 'S', transferType: 'bulk', endpoint: 0x01, deviceAddress: 2, busNumber: 1, timeUs: 0, status: -115, length: 4096, data, transferFlags: 0 });
      const path = join(dir, 'snaplen.pcap');
      await w.writeFile(path);
      const [f] = await decodeWithTshark(tsharkPath, path);
      expect(f?.get('frame.len')).toBe(String(64 + 4096));
      expect(f?.get('frame.cap_len')).toBe(String(64 + 100));
      expect(f?.get('usb.urb_len')).toBe('4096');
      expect(f?.get('usb.data_len')).toBe('100');
      assertWellFormed([f!]);
    });
  });

  describe('tshark tier: a simulated run (enumeration, class requests, loopback, stall)', () => {
    let frames: TsharkFrame[];
    let records: UsbmonRecord[];
    let run: Awaited<ReturnType<typeof simulatedRun>>;
    beforeAll(async () => {
      run = await simulatedRun(7);
      const path = join(dir, 'simulated.pcap');
      await run.capture.writeFile(path);
      records = readUsbmonCapture(run.capture.toBytes()).records;
      frames = await decodeWithTshark(tsharkPath, path);
    });

    it('the run itself behaved (loopbacks byte-exact, the unknown request stalled)', () => {
      expect(run.loopbacksOk).toBe(true);
      expect(run.stallStatus).toBe('stall');
    });

    it('decodes every URB of the run with no malformed packets', () => {
      expect(frames).toHaveLength(records.length);
      expect(records.length).toBeGreaterThan(40);
      assertWellFormed(frames);
    });

    it('shows each URB as written: type, endpoint, status, lengths, setup fields, bulk payloads', () => {
      let setups = 0;
      records.forEach((r, i) => {
        const f = frames[i]!;
        const e = r.event;
        const where = `record ${i + 1} (${e.kind} ${e.transferType} 0x${e.endpoint.toString(16)})`;
        expect(f.get('usb.urb_type'), where).toBe(`'${e.kind}'`);
        expect(f.get('usb.endpoint_address'), where).toBe(hex2(e.endpoint));
        expect(f.get('usb.urb_status'), where).toBe(String(e.status));
        expect(f.get('usb.urb_len'), where).toBe(String(e.length));
        expect(f.get('usb.data_len'), where).toBe(String(r.lenCap));
        if (e.setup !== undefined) {
          setups++;
          expect(f.get('usb.bmRequestType'), where).toBe(hex2(e.setup[0]!));
          expect(f.get('usb.setup.bRequest'), where).toBe(String(e.setup[1]));
          expect(f.get('usb.setup.wLength'), where).toBe(String(e.setup[6]! | (e.setup[7]! << 8)));
          if ((e.setup[0]! & 0x60) !== 0) {
            expect(f.get('usb.setup.wValue'), where).toBe(`0x${(e.setup[2]! | (e.setup[3]! << 8)).toString(16).padStart(4, '0')}`);
            expect(f.get('usb.setup.wIndex'), where).toBe(String(e.setup[4]! | (e.setup[5]! << 8)));
          }
        }
        if (e.transferType === 'bulk' && e.data !== undefined && e.data.length > 0) {
          expect(f.get('usb.capdata'), where).toBe(hexBytes(e.data));
        }
      });
      expect(setups).toBeGreaterThan(10);
    });

    it('pairs every submit with one completion of the same URB id', () => {
      const open = new Map<number, number>();
      for (const { event: e } of records) {
        if (e.kind === 'S') open.set(e.urbId, (open.get(e.urbId) ?? 0) + 1);
        else if (e.kind === 'C') {
          expect(open.get(e.urbId), `completion of urb ${e.urbId} without a submit`).toBe(1);
          open.delete(e.urbId);
        }
      }
      expect([...open.keys()]).toEqual([]);
    });
  });
}
