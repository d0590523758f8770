/**
 * Malformed and hostile USB/IP client input for the server's fuzz test, drawn from a seeded random source
 * (a failing input replays from its seed and index). Each input is what one connection sends: garbage in
 * the operation phase, or a valid import followed by a hostile URB-phase message.
 *
 * Not part of the simulator's public API.
 */
import {
  encodeCmdSubmit,
  encodeCmdUnlink,
  encodeOpCommon,
  encodeOpReqDevlist,
  encodeOpReqImport,
  encodeRetSubmit,
  USBIP_OP,
} from '../../host-side/index.js';
import type { SeededRandom } from '../../simulator/index.js';

/** What the server must do with an input. */
export type FuzzExpectation =
  /** End the connection calling it a protocol violation or a malformed message. */
  | 'violation'
  /** End the connection (whatever the reason: the input may be legal, or cut short). */
  | 'ends';

export interface FuzzInput {
  readonly kind: string;
  readonly bytes: Uint8Array;
  /** The connection starts with a valid OP_REQ_IMPORT (the server opens the device for it). */
  readonly imports: boolean;
  /** The client closes its side after sending; false: only the server's deadlines can end it. */
  readonly closes: boolean;
  readonly expect: FuzzExpectation;
}

/** What the generator needs to know about the export. */
export interface FuzzTarget {
  readonly busid: string;
  /** `(busnum << 16) | devnum` of the exported device. */
  readonly devid: number;
  /** The server's `maxTransferBytes`. */
  readonly maxTransferBytes: number;
}

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

function randomBytes(rnd: SeededRandom, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rnd.nextUint32() & 0xff;
  return out;
}

/** GET_DESCRIPTOR(DEVICE, 18): a legal control IN. */
const GET_DEVICE = Uint8Array.of(0x80, 0x06, 0x00, 0x01, 0x00, 0x00, 18, 0);

/** The generator, by kind. Each returns one input. */
export function fuzzKinds(target: FuzzTarget): readonly ((rnd: SeededRandom) => FuzzInput)[] {
  const importReq = encodeOpReqImport(target.busid);
  const submit = (over: Partial<Parameters<typeof encodeCmdSubmit>[0]>): Uint8Array =>
    encodeCmdSubmit({ seqnum: 1, devid: target.devid, direction: 1, ep: 1, transferFlags: 0, transferBufferLength: 64, startFrame: 0, numberOfPackets: 0, interval: 0, setup: new Uint8Array(8), ...over });
  const op = (kind: string, bytes: Uint8Array, expect: FuzzExpectation, closes = true): FuzzInput => ({ kind, bytes, imports: false, closes, expect });
  const urb = (kind: string, bytes: Uint8Array, expect: FuzzExpectation, closes = true): FuzzInput => ({ kind, bytes: concat(importReq, bytes), imports: true, closes, expect });
  return [
    // Operation phase.
    (r) => op('random bytes', randomBytes(r, r.int(1, 256)), 'ends'),
    (r) => {
      const whole = r.int(0, 1) === 0 ? importReq : encodeOpReqDevlist();
      return op('truncated operation header', whole.subarray(0, r.int(1, whole.length - 1)), 'ends');
    },
    (r) => {
      const b = encodeOpReqDevlist();
      let version = r.int(0, 0xffff);
      if (version === 0x0111) version = 0x0106;
      new DataView(b.buffer).setUint16(0, version);
      return op('wrong version', b, 'violation');
    },
    (r) => {
      let code = r.int(0, 0xffff);
      if (code === USBIP_OP.OP_REQ_DEVLIST || code === USBIP_OP.OP_REQ_IMPORT) code = 0x8002;
      return op('unknown operation code', encodeOpCommon(code, r.nextUint32()), 'violation');
    },
    (r) => op('garbage busid', concat(encodeOpCommon(USBIP_OP.OP_REQ_IMPORT, 0), randomBytes(r, 32)), 'ends'),
    (r) => op('unknown busid', encodeOpReqImport(`9-${r.int(1, 99)}.${r.int(0, 9)}`), 'ends'),
    () => op('device list (legal)', encodeOpReqDevlist(), 'ends'),
    // URB phase, after a valid import.
    (r) => urb('random usbip_header', randomBytes(r, 48), 'ends'),
    (r) => urb('devid of another device', submit({ devid: (target.devid + r.int(1, 0xffff)) >>> 0 }), 'violation'),
    (r) => urb('bad direction', submit({ direction: r.int(2, 0x7fffffff) }), 'violation'),
    (r) => urb('endpoint number over 15', submit({ ep: r.int(16, 0x7fffffff) }), 'violation'),
    (r) => urb('endpoint the device lacks, either direction', submit({ ep: r.int(2, 15), direction: r.int(0, 1), transferBufferLength: 0 }), 'violation'),
    (r) => urb('huge transfer_buffer_length', submit({ transferBufferLength: r.int(target.maxTransferBytes + 1, 0xffffffff) }), 'violation'),
    () => urb('seqnum already in flight', concat(submit({ seqnum: 7 }), submit({ seqnum: 7 })), 'violation'),
    (r) => urb('a reply from the client', encodeRetSubmit({ seqnum: r.nextUint32(), devid: target.devid, direction: 0, ep: 0, status: 0, actualLength: 0, startFrame: 0, numberOfPackets: 0, errorCount: 0 }), 'violation'),
    (r) => urb('control length contradicts wLength', submit({ ep: 0, transferBufferLength: r.int(0, 17), setup: GET_DEVICE }), 'violation'),
    (r) => urb('wrong direction: a control OUT for an IN request', concat(submit({ ep: 0, direction: 0, transferBufferLength: 18, setup: GET_DEVICE }), randomBytes(r, 18)), 'violation'),
    (r) => urb('unlink of an unknown seqnum (legal)', encodeCmdUnlink({ seqnum: 2, devid: target.devid, direction: 0, ep: 0, unlinkSeqnum: r.nextUint32() }), 'ends'),
    (r) => {
      const n = r.int(1, 4096);
      return urb('payload cut short', concat(submit({ direction: 0, transferBufferLength: n }), randomBytes(r, r.int(0, n - 1))), 'ends');
    },
    (r) => urb('header cut short', submit({}).subarray(0, r.int(1, 47)), 'ends'),
    (r) => urb('garbage after a legal control IN', concat(submit({ ep: 0, transferBufferLength: 18, setup: GET_DEVICE }), randomBytes(r, r.int(1, 100))), 'ends'),
    (r) => urb('bulk IN then its unlink (legal)', concat(submit({ seqnum: 5, transferBufferLength: r.int(1, 4096) }), encodeCmdUnlink({ seqnum: 6, devid: target.devid, direction: 0, ep: 0, unlinkSeqnum: 5 })), 'ends'),
  ];
}

/** Inputs that stay silent mid-message without closing: only the server's deadlines end them. */
export function stallingInputs(target: FuzzTarget, rnd: SeededRandom): FuzzInput[] {
  const importReq = encodeOpReqImport(target.busid);
  return [
    { kind: 'silent mid operation header', bytes: importReq.subarray(0, rnd.int(1, 39)), imports: false, closes: false, expect: 'ends' },
    {
      kind: 'silent mid usbip_header',
      bytes: concat(importReq, encodeCmdSubmit({ seqnum: 1, devid: target.devid, direction: 1, ep: 1, transferFlags: 0, transferBufferLength: 8, startFrame: 0, numberOfPackets: 0, interval: 0, setup: new Uint8Array(8) }).subarray(0, rnd.int(1, 47))),
      imports: true,
      closes: false,
      expect: 'ends',
    },
  ];
}

/** Splits `bytes` into 1–4 chunks at random points (the server must reassemble messages cut anywhere). */
export function chunked(bytes: Uint8Array, rnd: SeededRandom): Uint8Array[] {
  const cuts = new Set<number>();
  const n = rnd.int(0, Math.min(3, Math.max(0, bytes.length - 1)));
  while (cuts.size < n) cuts.add(rnd.int(1, bytes.length - 1));
  const points = [0, ...[...cuts].sort((a, b) => a - b), bytes.length];
  const out: Uint8Array[] = [];
  for (let i = 0; i + 1 < points.length; i++) out.push(bytes.subarray(points[i], points[i + 1]));
  return out;
}
