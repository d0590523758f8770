/**
 * The USB capture of a lab-sim session: the URBs the harness's USB/IP client exchanged with the simulated
 * device, written as a usbmon capture (LINKTYPE 220) like every other capture of the project, so Wireshark,
 * the report's timeline and the tshark tier read it the same way. Submissions carry the SETUP packet and OUT
 * data, completions the IN data, the status and the actual length, all on the harness's clock.
 */
import { type UsbIpTraceEvent, USBIP_COMMAND, USBIP_DIR } from '../../host-side/index.js';
import { UsbmonPcapWriter, type UrbEvent } from '../../simulator/index.js';

type UrbTransferType = UrbEvent['transferType'];
import type { HostCaptureResult, HostCaptureSource } from '../lab/index.js';

/** Endpoint → transfer type; EP0 is control, the rest bulk unless told (the test function's endpoints). */
export type EndpointTypes = (endpoint: number) => UrbTransferType;

interface Submitted {
  readonly endpoint: number;
  readonly transferType: UrbTransferType;
}

/**
 * Records the URB headers and payloads of a `UsbIpUsbHost` (its `trace` option) into a capture per session.
 * Install {@link UsbIpCapture.trace} once on the host; `source()` gives each session its capture.
 */
export class UsbIpCapture {
  readonly #types: EndpointTypes;
  #writer: UsbmonPcapWriter | undefined;
  #startedMs = 0;
  readonly #inFlight = new Map<number, Submitted>();

  constructor(types: EndpointTypes = (ep) => ((ep & 0x0f) === 0 ? 'control' : 'bulk')) {
    this.#types = types;
  }

  /** The `trace` option of the `UsbIpUsbHost` to record. */
  readonly trace = (e: UsbIpTraceEvent): void => {
    const writer = this.#writer;
    if (writer === undefined) return;
    const h = e.header;
    const timeUs = Math.round((performance.now() - this.#startedMs) * 1000);
    if (h.command === USBIP_COMMAND.USBIP_CMD_SUBMIT) {
      const dirIn = h.direction === USBIP_DIR.USBIP_DIR_IN;
      const endpoint = (h.ep & 0x0f) | (dirIn ? 0x80 : 0);
      const transferType = this.#types(h.ep);
      this.#inFlight.set(h.seqnum, { endpoint, transferType });
      writer.record({
        urbId: h.seqnum,
        kind: 'S',
        transferType,
        endpoint,
        deviceAddress: h.devid & 0xffff,
        busNumber: h.devid >>> 16,
        timeUs,
        status: -115,
        length: h.transferBufferLength,
        setup: transferType === 'control' ? h.setup : undefined,
        data: dirIn ? undefined : e.data,
        transferFlags: h.transferFlags,
      });
    } else if (h.command === USBIP_COMMAND.USBIP_RET_SUBMIT) {
      const s = this.#inFlight.get(h.seqnum);
      if (s === undefined) return;
      this.#inFlight.delete(h.seqnum);
      writer.record({
        urbId: h.seqnum,
        kind: 'C',
        transferType: s.transferType,
        endpoint: s.endpoint,
        deviceAddress: h.devid & 0xffff,
        busNumber: h.devid >>> 16,
        timeUs,
        status: h.status,
        length: h.actualLength,
        data: (s.endpoint & 0x80) !== 0 ? e.data : undefined,
        transferFlags: 0,
      });
    }
  };

  /** A capture source for one session (what the lab rig asks for per session). */
  source(): HostCaptureSource {
    return {
      start: async () => {
        this.#writer = new UsbmonPcapWriter({ snaplen: 64 * 1024 });
        this.#inFlight.clear();
        this.#startedMs = performance.now();
      },
      stop: async (): Promise<HostCaptureResult> => {
        const w = this.#writer;
        this.#writer = undefined;
        return w === undefined ? { unavailable: 'the session\'s USB/IP capture never started' } : { pcap: w.toBytes() };
      },
    };
  }
}
