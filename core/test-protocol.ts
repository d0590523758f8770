/**
 * The vendor test protocol between the host agent and the device's built-in test functions
 * (docs/architecture.md#observable-through-usb): class requests addressed to the function's interface, which GenericUSBFn.sys forwards
 * to the service as UsbfnEventSetupPacket. It makes device state observable through USB alone, so a
 * scenario asserts the same way in `sim` and `lab`.
 *
 * Every request: bmRequestType = class | interface (| 0x80 for IN), wIndex low byte = the function's
 * interface number. All multi-byte fields are little-endian.
 *
 * This file is the single definition of the wire contract: the device-side test functions implement it
 * and host-side/agent speaks it (the one device-side file host-side may import; eslint.config.js).
 */

/** bRequest values of the test protocol. */
export const TEST_REQUEST = {
  /** IN, wLength ≥ 48: the {@link TestCounters} block. */
  GET_COUNTERS: 0x01,
  /** IN: u32 win32 error + u32 USBFN ioctl function code + UTF-8 name of the last failure, truncated to wLength. */
  GET_LAST_ERROR: 0x02,
  /** OUT, 4-byte data stage: u32 length of the IN transfers the source queues from now on (0xFFFFFFFF = its default). */
  SET_NEXT_IN_LENGTH: 0x03,
  /** IN, wLength 8: the setup packet of the previous class request the function saw. */
  ECHO_LAST_SETUP: 0x04,
  /** No data: resets counters, last error, echo buffer, stall rules and policies. */
  RESET_STATE: 0x05,
  /** OUT, 4-byte data stage: u8 bRequest to affect, u8 mode ({@link STALL_MODE}), u16 reserved. */
  SET_STALL_POLICY: 0x06,
  /** OUT, any length ≤ 4096: stores the payload (control write). */
  ECHO_WRITE: 0x07,
  /** IN: returns the stored payload, truncated to wLength (control read-back). */
  ECHO_READ: 0x08,
  /** No data, wValue = {@link ZLP_POLICY}: how the loopback ends IN transfers that are a multiple of wMaxPacketSize. */
  SET_ZLP_POLICY: 0x09,
  /** IN, wLength = n: returns n bytes of the seeded pattern from offset wValue (lets hosts check wLength handling). */
  READ_PATTERN: 0x0a,
  /** No data: halts (wValue=1) or un-halts (wValue=0) the endpoint whose address is wIndex high byte, via SET_PIPE_STATE. */
  SET_ENDPOINT_HALT: 0x0b,
} as const;
export type TestRequestName = keyof typeof TEST_REQUEST;

/** SET_STALL_POLICY modes. */
export const STALL_MODE = { NEVER: 0, ONCE: 1, ALWAYS: 2 } as const;

/** SET_ZLP_POLICY values. */
export const ZLP_POLICY = {
  /** TRANSFER_IN: never append a zero-length packet (the host must ask for an exact length). */
  NEVER: 0,
  /** TRANSFER_IN_APPEND_ZERO_PKT: a ZLP follows a payload that is a multiple of wMaxPacketSize. */
  APPEND_ON_MULTIPLE: 1,
} as const;

/** Largest ECHO_WRITE payload the functions store. */
export const ECHO_MAX_BYTES = 4096;

/** Counters the test functions keep (GET_COUNTERS). */
export interface TestCounters {
  readonly controlRequests: number;
  readonly stalledRequests: number;
  readonly bulkOutTransfers: number;
  readonly bulkInTransfers: number;
  readonly bulkOutBytes: bigint;
  readonly bulkInBytes: bigint;
  readonly patternErrors: number;
  readonly cancelledTransfers: number;
  readonly failedTransfers: number;
  readonly lastWin32Error: number;
}

/** Byte size of the encoded counters block. */
export const TEST_COUNTERS_BYTES = 48;

/** Encodes counters (device side). Layout: 4 × u32, 2 × u64, 4 × u32 = 48 bytes. */
export function encodeTestCounters(c: TestCounters): Uint8Array {
  const out = new Uint8Array(TEST_COUNTERS_BYTES);
  const v = new DataView(out.buffer);
  v.setUint32(0, c.controlRequests >>> 0, true);
  v.setUint32(4, c.stalledRequests >>> 0, true);
  v.setUint32(8, c.bulkOutTransfers >>> 0, true);
  v.setUint32(12, c.bulkInTransfers >>> 0, true);
  v.setBigUint64(16, c.bulkOutBytes, true);
  v.setBigUint64(24, c.bulkInBytes, true);
  v.setUint32(32, c.patternErrors >>> 0, true);
  v.setUint32(36, c.cancelledTransfers >>> 0, true);
  v.setUint32(40, c.failedTransfers >>> 0, true);
  v.setUint32(44, c.lastWin32Error >>> 0, true);
  return out;
}

/** Decodes counters (host side). Throws RangeError naming the sizes if the block is short. */
export function decodeTestCounters(bytes: Uint8Array): TestCounters {
  if (bytes.byteLength < TEST_COUNTERS_BYTES) {
    throw new RangeError(
      `test counters block is ${bytes.byteLength} bytes, expected ${TEST_COUNTERS_BYTES}: ask GET_COUNTERS with wLength ≥ ${TEST_COUNTERS_BYTES}`,
    );
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    controlRequests: v.getUint32(0, true),
    stalledRequests: v.getUint32(4, true),
    bulkOutTransfers: v.getUint32(8, true),
    bulkInTransfers: v.getUint32(12, true),
    bulkOutBytes: v.getBigUint64(16, true),
    bulkInBytes: v.getBigUint64(24, true),
    patternErrors: v.getUint32(32, true),
    cancelledTransfers: v.getUint32(36, true),
    failedTransfers: v.getUint32(40, true),
    lastWin32Error: v.getUint32(44, true),
  };
}

/**
 * The seeded byte pattern the source/sink function sends and verifies: byte i of a stream with `seed`
 * is a function of (seed, i) only, so either side can check any slice without keeping state.
 */
export function patternByte(seed: number, index: number): number {
  let x = (Math.imul(index >>> 0, 0x9e3779b1) ^ seed) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x85ebca6b) >>> 0;
  return (x ^ (x >>> 13)) & 0xff;
}

/** Fills `target` with the pattern starting at stream offset `offset`. */
export function fillPattern(target: Uint8Array, seed: number, offset: number): void {
  for (let i = 0; i < target.length; i++) target[i] = patternByte(seed, offset + i);
}

/** Index of the first byte that differs from the pattern, or -1. */
export function findPatternMismatch(data: Uint8Array, seed: number, offset: number): number {
  for (let i = 0; i < data.length; i++) if (data[i] !== patternByte(seed, offset + i)) return i;
  return -1;
}
