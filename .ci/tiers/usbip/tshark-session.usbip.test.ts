/**
 * tshark's USB/IP dissector (Wireshark, not written by this project) decodes a captured session with the
 * export: a device list, an import, the descriptor reads of the open, control OUT/IN, a stall, bulk OUT/IN
 * with and without a ZLP, a URB unlinked after its timeout and one unlinked by an abort. No frame is
 * malformed, and every message tshark sees has the seqnum, endpoint, flags, setup packet, lengths and
 * status that the session's client sent and received (its trace of every header).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsbIpUsbHost, type UsbIpCmdSubmit, type UsbIpTraceEvent } from '../../../host-side/index.js';
import { TEST_REQUEST } from '../../../core/index.js';
import {
  captureLoopback,
  decodeUsbIp,
  EXPERT_SEVERITY_ERROR,
  fieldValues,
  findTool,
  IN_CI,
  startServe,
  usbipPdus,
  type ServeProcess,
  type TsharkLayers,
} from './system-tools.js';

const [tshark, dumpcap] = await Promise.all([findTool('tshark'), findTool('dumpcap')]);

/** `80:06:00:01` → bytes. */
const colonHex = (s: string | undefined): number[] => (s === undefined || s === '' ? [] : s.split(':').map((b) => Number.parseInt(b, 16)));
const num = (v: unknown): number => Number(v);
/** The n-th value of a field that may occur more than once in a PDU (tshark repeats some, e.g. devid). */
const nth = (v: unknown, n: number): number => num(Array.isArray(v) ? v[n] : n === 0 ? v : undefined);

if (tshark === undefined || dumpcap === undefined) {
  describe('usbip tier: tshark decodes a USB/IP session', () => {
    const missing = [tshark === undefined ? 'tshark' : '', dumpcap === undefined ? 'dumpcap' : ''].filter(Boolean).join(' and ');
    // CI installs the tools, so there their absence fails; elsewhere the tier is skipped with the reason.
    it.skipIf(!IN_CI)(`needs ${missing} (apt-get install tshark)`, () => {
      expect.fail(`${missing} not installed: .ci/run installs tshark (with dumpcap) before npm run test:usbip`);
    });
  });
} else {
  describe('usbip tier: tshark decodes a captured USB/IP session', () => {
    let serve: ServeProcess;
    let dir: string;
    let frames: TsharkLayers[] = [];
    const trace: UsbIpTraceEvent[] = [];
    let busid = '';

    beforeAll(async () => {
      serve = await startServe();
      dir = mkdtempSync(join(tmpdir(), 'usbfn-hil-usbip-'));
      const capture = await captureLoopback(dumpcap, serve.port, join(dir, 'session.pcapng'));
      try {
        await using host = new UsbIpUsbHost({ port: serve.port, pollIntervalMs: 50, trace: (e) => trace.push(e) });
        const info = await host.waitForDevice({ vendorId: 0x1209, productId: 0x0001 }, { timeoutMs: 10_000 });
        busid = info.id;
        await using dev = await host.open(info);
        await dev.claimInterface(0);
        const classIf = (request: number) => ({ requestType: 'class' as const, recipient: 'interface' as const, request, value: 0, index: 0 });
        await dev.controlOut(classIf(TEST_REQUEST.ECHO_WRITE), Uint8Array.of(1, 2, 3, 4, 5));
        expect((await dev.controlIn(classIf(TEST_REQUEST.ECHO_READ), 64)).data).toEqual(Uint8Array.of(1, 2, 3, 4, 5));
        expect((await dev.controlIn(classIf(0x7e), 8)).status).toBe('stall');
        const data = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
        await dev.bulkOut(0x01, data);
        expect((await dev.bulkIn(0x81, 4096)).data).toEqual(data);
        await expect(dev.bulkIn(0x81, 64, { timeoutMs: 100 })).rejects.toMatchObject({ libusbName: 'LIBUSB_TRANSFER_TIMED_OUT' });
        const ac = new AbortController();
        const aborted = dev.bulkIn(0x81, 64, { signal: ac.signal });
        setTimeout(() => ac.abort(), 20);
        await expect(aborted).rejects.toMatchObject({ libusbName: 'LIBUSB_TRANSFER_CANCELLED' });
        // Last: the ZLP that ends this OUT comes back from the loopback as an empty IN nobody reads.
        await dev.bulkOut(0x01, new Uint8Array(1024).fill(0x5a), { zeroLengthPacket: true });
        expect((await dev.bulkIn(0x81, 1024)).data.length).toBe(1024);
      } finally {
        await new Promise((resolve) => setTimeout(resolve, 300));
        await capture.stop();
      }
      frames = await decodeUsbIp(tshark, join(dir, 'session.pcapng'), serve.port);
    });

    afterAll(async () => {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      if (serve !== undefined) expect(await serve.stop()).toBe(0);
    });

    it('decodes every frame without a malformed packet or an expert error', () => {
      expect(frames.length).toBeGreaterThan(20);
      for (const [i, f] of frames.entries()) {
        expect(f['_ws.malformed'], `frame ${i + 1} is malformed`).toBeUndefined();
        expect(fieldValues(f, '_ws.expert.severity').filter((s) => s === EXPERT_SEVERITY_ERROR), `frame ${i + 1}`).toEqual([]);
      }
    });

    it('decodes the device list and the import: operations, busid and ids', () => {
      const ops = frames.flatMap((f) => usbipPdus(f).map((p) => p['usbip.operation'])).filter((x) => x !== undefined).map(num);
      expect(ops).toEqual(expect.arrayContaining([0x8005, 0x0005, 0x8003, 0x0003]));
      expect(frames.flatMap((f) => fieldValues(f, 'usbip.busid'))).toContain(busid);
      expect(frames.flatMap((f) => fieldValues(f, 'usbip.idVendor')).map(num)).toContain(0x1209);
      expect(frames.flatMap((f) => fieldValues(f, 'usbip.idProduct')).map(num)).toContain(0x0001);
    });

    it('shows each URB message with the seqnum, endpoint, flags, setup and lengths the session used', () => {
      const seen = frames.flatMap((f) => usbipPdus(f)).filter((p) => p['usbip.urb'] !== undefined);
      const key = (command: number, seqnum: number): string => `${command}/${seqnum}`;
      const bySeq = new Map(seen.map((p) => [key(num(p['usbip.urb']), nth(p['usbip.sequence_no'], 0)), p]));
      const headers = trace.map((t) => t.header);
      expect(seen).toHaveLength(headers.length);
      const submits = new Map<number, UsbIpCmdSubmit>();
      for (const h of headers) {
        const p = bySeq.get(key(h.command, h.seqnum));
        expect(p, `tshark has no command ${h.command} seqnum ${h.seqnum}`).toBeDefined();
        switch (h.command) {
          case 1:
            submits.set(h.seqnum, h);
            expect(nth(p!['usbip.devid'], 0)).toBe(h.devid);
            expect(nth(p!['usbip.endpoint_number.direction'], 0)).toBe(h.direction);
            expect(nth(p!['usbip.endpoint_number'], 0)).toBe(h.ep);
            expect(nth(p!['usbip.transfer_flags'], 0)).toBe(h.transferFlags);
            expect(nth(p!['usbip.transfer_buffer_length'], 0)).toBe(h.transferBufferLength);
            expect(colonHex(p!['usbip.setup'] as string)).toEqual([...h.setup]);
            break;
          case 3:
            expect(nth(p!['usbip.status'], 0)).toBe(h.status);
            expect(nth(p!['usbip.actual_length'], 0)).toBe(h.actualLength);
            break;
          case 2:
            expect(nth(p!['usbip.devid'], 0)).toBe(h.devid);
            // Wireshark shows unlink_seqnum as a second "Sequence" of the PDU.
            expect(nth(p!['usbip.sequence_no'], 1)).toBe(h.unlinkSeqnum);
            break;
          case 4:
            expect(nth(p!['usbip.status'], 0)).toBe(h.status);
            break;
        }
      }
      // The session had what it was meant to have: a stall, a timed-out and an aborted unlink, a ZLP flag.
      expect(headers.some((h) => h.command === 3 && h.status === -32)).toBe(true);
      expect(headers.filter((h) => h.command === 4 && h.status === -104)).toHaveLength(2);
      expect([...submits.values()].some((h) => (h.transferFlags & 0x40) !== 0 && h.transferBufferLength === 1024)).toBe(true);
    });

    it('hands the control setups to the USB dissector, which reads the same requests', () => {
      const control = trace.map((t) => t.header).filter((h): h is UsbIpCmdSubmit => h.command === 1 && h.ep === 0);
      const decoded = frames.flatMap((f) =>
        usbipPdus(f).some((p) => num(p['usbip.urb']) === 1) ? fieldValues(f, 'usb.bmRequestType').map((bm, i) => [num(bm), num(fieldValues(f, 'usb.setup.wLength')[i])]) : [],
      );
      expect(decoded).toEqual(control.map((h) => [h.setup[0], h.setup[6]! | (h.setup[7]! << 8)]));
    });
  });
}
