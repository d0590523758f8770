/**
 * A representative set of URB events, shaped as the simulated bus reports them (simulator/capture/
 * urb-event.ts): control IN/OUT/no-data with SETUP packets, bulk OUT and IN of several sizes (0, short,
 * multiples of 512), a stall on EP0 and on a bulk endpoint, a cancelled URB, ZLP flag and a submission
 * error. Each comes with what tshark must show for it.
 */
import { fillPattern } from '../../../core/index.js';
import type { UrbEvent } from '../../../simulator/index.js';

const BUS = 1;
const DEV = 5;
const EINPROGRESS = -115;
const URB_DIR_IN = 0x200;
const URB_ZERO_PACKET = 0x40;

export interface ExpectedSetup {
  readonly bmRequestType: number;
  readonly bRequest: number;
  readonly wValue: number;
  readonly wIndex: number;
  readonly wLength: number;
  /** Standard requests are dissected by meaning (descriptor index, ...), not as raw wValue/wIndex. */
  readonly standard: boolean;
}

export interface RepresentativeUrb {
  readonly event: UrbEvent;
  readonly setup?: ExpectedSetup | undefined;
  /** Bytes tshark must report as data (usb.data_len) and, for bulk, as usb.capdata. */
  readonly dataLength: number;
  readonly label: string;
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  fillPattern(b, seed, 0);
  return b;
}

function setupBytes(s: Omit<ExpectedSetup, 'standard'>): Uint8Array {
  return Uint8Array.of(s.bmRequestType, s.bRequest, s.wValue & 0xff, s.wValue >> 8, s.wIndex & 0xff, s.wIndex >> 8, s.wLength & 0xff, s.wLength >> 8);
}

/** Builds the list; time advances 125 µs per event. */
export function representativeUrbs(): RepresentativeUrb[] {
  const out: RepresentativeUrb[] = [];
  let id = 0x1000;
  let t = 1_000_000;
  const push = (label: string, e: Omit<UrbEvent, 'busNumber' | 'deviceAddress' | 'timeUs'>, dataLength: number, setup?: ExpectedSetup): void => {
    out.push({ label, event: { ...e, busNumber: BUS, deviceAddress: DEV, timeUs: (t += 125) }, dataLength, setup });
  };

  const control = (label: string, s: Omit<ExpectedSetup, 'standard'>, reply: Uint8Array | undefined, status: number, outData?: Uint8Array): void => {
    const urbId = id++;
    const isIn = (s.bmRequestType & 0x80) !== 0;
    const ep = isIn ? 0x80 : 0x00;
    const flags = isIn ? URB_DIR_IN : 0;
    const setup: ExpectedSetup = { ...s, standard: (s.bmRequestType & 0x60) === 0 };
    push(`${label} S`, { urbId, kind: 'S', transferType: 'control', endpoint: ep, status: EINPROGRESS, length: s.wLength, setup: setupBytes(s), data: outData, transferFlags: flags }, outData?.length ?? 0, setup);
    const actual = isIn ? (reply?.length ?? 0) : status === 0 ? s.wLength : 0;
    push(`${label} C`, { urbId, kind: 'C', transferType: 'control', endpoint: ep, status, length: actual, data: isIn ? (reply ?? new Uint8Array(0)) : undefined, transferFlags: flags }, isIn ? actual : 0);
  };

  control('GET_DESCRIPTOR(device)', { bmRequestType: 0x80, bRequest: 0x06, wValue: 0x0100, wIndex: 0, wLength: 18 },
    Uint8Array.of(18, 1, 0x00, 0x02, 0, 0, 0, 64, 0x09, 0x12, 0x01, 0x00, 0x00, 0x01, 1, 2, 3, 1), 0);
  control('class IN GET_COUNTERS', { bmRequestType: 0xa1, bRequest: 0x01, wValue: 0, wIndex: 0, wLength: 48 }, pattern(48, 1), 0);
  control('class OUT ECHO_WRITE', { bmRequestType: 0x21, bRequest: 0x07, wValue: 0, wIndex: 0, wLength: 4 }, undefined, 0, Uint8Array.of(1, 2, 3, 4));
  control('class no-data RESET_STATE', { bmRequestType: 0x21, bRequest: 0x05, wValue: 0x1234, wIndex: 0x8100, wLength: 0 }, undefined, 0);
  control('vendor IN stalled', { bmRequestType: 0xc0, bRequest: 0x42, wValue: 1, wIndex: 2, wLength: 64 }, new Uint8Array(0), -32);

  const bulkOut = (n: number, flags = 0, status = 0): void => {
    const urbId = id++;
    push(`bulk OUT ${n}${flags ? ' ZLP' : ''} S`, { urbId, kind: 'S', transferType: 'bulk', endpoint: 0x01, status: EINPROGRESS, length: n, data: pattern(n, n), transferFlags: flags }, n);
    push(`bulk OUT ${n} C`, { urbId, kind: 'C', transferType: 'bulk', endpoint: 0x01, status, length: status === 0 ? n : 0, transferFlags: flags }, 0);
  };
  const bulkIn = (requested: number, n: number, status = 0): void => {
    const urbId = id++;
    push(`bulk IN ${requested} S`, { urbId, kind: 'S', transferType: 'bulk', endpoint: 0x81, status: EINPROGRESS, length: requested, transferFlags: URB_DIR_IN }, 0);
    push(`bulk IN ${n} (status ${status}) C`, { urbId, kind: 'C', transferType: 'bulk', endpoint: 0x81, status, length: n, data: pattern(n, n + 7), transferFlags: URB_DIR_IN }, n);
  };
  for (const n of [0, 1, 511, 512, 1024, 4096, 10_000]) bulkOut(n);
  bulkOut(1024, URB_ZERO_PACKET);
  for (const [req, n] of [[512, 0], [512, 13], [512, 512], [2048, 2048], [16_384, 5000]] as const) bulkIn(req, n);
  bulkIn(512, 0, -32); //  stall
  bulkIn(4096, 0, -104); // cancelled (unlinked)
  bulkOut(512, 0, -108); //  device shut down mid-transfer
  push('submission error', { urbId: id++, kind: 'E', transferType: 'bulk', endpoint: 0x02, status: -19, length: 0, transferFlags: 0 }, 0);
  return out;
}
