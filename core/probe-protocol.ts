/**
 * The first-light probe's wire protocol: the class requests `usbfn-hil probe` (host PC) sends to the
 * function's interface so that `usbfn-hil device probe` (the Windows device) walks its steps. The two sides
 * coordinate over USB only: each request drives one device step, and the last one (REPORT) returns the
 * device's findings. A range of bRequest values apart from the test protocol's (test-protocol.ts), so a
 * device running the built-in test function is never confused by a probe and the other way round.
 *
 * Every request: bmRequestType = class | interface (| 0x80 for IN), wIndex low byte = the interface number.
 * @see docs/first-light.md
 */

/** bRequest values of the probe. */
export const PROBE_REQUEST = {
  /**
   * No data stage. wValue 0: the device answers with CONTROL_STATUS_HANDSHAKE_IN first; wValue 1: with
   * HANDSHAKE_OUT first. Whichever the driver refuses (or holds past the device's bound), the other follows.
   */
  NO_DATA: 0x70,
  /** IN, wLength n: n bytes of {@link probePatternByte} with seed wValue (TRANSFER_IN on EP0, then HANDSHAKE_OUT). */
  IN_DATA: 0x71,
  /** OUT, wLength n: n bytes of {@link probePatternByte} with seed wValue; the device checks them (TRANSFER_OUT, then HANDSHAKE_IN). */
  OUT_DATA: 0x72,
  /** No data: after the status stage the device queues a 0-byte TRANSFER_IN on the endpoint in wIndex's high byte. */
  ZLP_ARM: 0x73,
  /** No data: the device halts the endpoint in wIndex's high byte (SET_PIPE_STATE TRUE), then reads it back. */
  HALT: 0x74,
  /** IN, wLength 1: GET_PIPE_STATE of the endpoint in wIndex's high byte (1 = halted). */
  HALT_STATE: 0x75,
  /** IN, wLength 8: the device opens its interface a second time; u32 Win32 error (0 = the open succeeded), u32 0. */
  SECOND_OPEN: 0x76,
  /** IN, wLength ≤ 4096: the device's findings as UTF-8 JSON ({@link ProbeReport}), cut to wLength; the device probe then ends. */
  REPORT: 0x77,
} as const;
export type ProbeRequestName = keyof typeof PROBE_REQUEST;

/** wValue of NO_DATA: which handshake the device sends first. */
export const PROBE_HANDSHAKE_FIRST = { IN: 0, OUT: 1 } as const;

/** Largest REPORT the host asks for. */
export const PROBE_REPORT_MAX_BYTES = 4096;

/** What a probe found about one inferred behaviour (an id of docs/reference/documented-vs-inferred.md). */
export interface ProbeFinding {
  readonly id: string;
  readonly verdict: 'confirmed' | 'refuted' | 'not-settled';
  /** What was seen, in one line. */
  readonly observed: string;
}

/** The REPORT payload: the device's findings and the driver settings they call for. */
export interface ProbeReport {
  readonly findings: readonly ProbeFinding[];
  readonly recommendedSettings: Readonly<Record<string, string | number>>;
}

/** Byte `index` of the probe pattern with `seed` (both sides compute it; no state). */
export function probePatternByte(seed: number, index: number): number {
  return (Math.imul(index + 1, 0x9e) + seed * 7 + (index >>> 8)) & 0xff;
}

/** `length` bytes of the probe pattern. */
export function probePattern(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = probePatternByte(seed, i);
  return out;
}
