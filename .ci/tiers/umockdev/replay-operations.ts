/**
 * The host operations the umockdev tier runs, written once and run in both worlds: on the simulator (or,
 * until it exists, described by synthetic URB events) and on NodeUsbHost under `umockdev-run` replaying
 * the capture. Results are plain data so the two runs compare with one deep-equality.
 */
import type { UrbEvent } from '../../../simulator/index.js';
import { buildSetup, encodeSetup, type UsbControlSetup, type UsbDeviceHandle } from '../../../host-side/index.js';

/** One host call and, for the synthetic capture, how the device answered it. */
export type ReplayOp =
  | { readonly kind: 'controlIn'; readonly setup: UsbControlSetup; readonly length: number; readonly reply: Uint8Array | 'stall' }
  | { readonly kind: 'controlOut'; readonly setup: UsbControlSetup; readonly data: Uint8Array; readonly reply?: 'stall' | undefined }
  | { readonly kind: 'bulkOut'; readonly endpoint: number; readonly data: Uint8Array; readonly reply?: 'stall' | undefined }
  | { readonly kind: 'bulkIn'; readonly endpoint: number; readonly length: number; readonly reply: Uint8Array | 'stall' };

/** What one host call returned (or how it failed). */
export interface ReplayResult {
  readonly op: string;
  readonly status: string;
  /** Bytes received (IN) or written (OUT). */
  readonly length: number;
  /** IN data as hex. */
  readonly data?: string | undefined;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

function label(op: ReplayOp): string {
  switch (op.kind) {
    case 'controlIn':
    case 'controlOut':
      return `${op.kind}(${op.setup.requestType} ${op.setup.recipient} 0x${op.setup.request.toString(16)}, ${op.kind === 'controlIn' ? op.length : op.data.length})`;
    case 'bulkOut':
      return `bulkOut(0x${op.endpoint.toString(16)}, ${op.data.length})`;
    case 'bulkIn':
      return `bulkIn(0x${op.endpoint.toString(16)}, ${op.length})`;
  }
}

/**
 * Runs `ops` in order on an opened handle with the interface already claimed. A rejected call is a
 * result (`status` = the libusb name), so a difference shows up in the comparison, not as a crash.
 */
export async function runOperations(handle: UsbDeviceHandle, ops: readonly ReplayOp[], timeoutMs = 2000): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  for (const op of ops) {
    const name = label(op);
    try {
      switch (op.kind) {
        case 'controlIn': {
          const r = await handle.controlIn(op.setup, op.length, { timeoutMs });
          results.push({ op: name, status: r.status, length: r.data.length, data: hex(r.data) });
          break;
        }
        case 'controlOut': {
          const r = await handle.controlOut(op.setup, op.data, { timeoutMs });
          results.push({ op: name, status: r.status, length: r.bytesWritten });
          break;
        }
        case 'bulkOut': {
          const r = await handle.bulkOut(op.endpoint, op.data, { timeoutMs });
          results.push({ op: name, status: r.status, length: r.bytesWritten });
          break;
        }
        case 'bulkIn': {
          const r = await handle.bulkIn(op.endpoint, op.length, { timeoutMs });
          results.push({ op: name, status: r.status, length: r.data.length, data: hex(r.data) });
          break;
        }
      }
    } catch (e) {
      const status = e instanceof Error && 'libusbName' in e ? String((e as { libusbName: unknown }).libusbName) : e instanceof Error ? e.message : String(e);
      results.push({ op: name, status, length: 0 });
    }
  }
  return results;
}

/** The results a correct host must get for `ops` answered as the ops say (the synthetic world). */
export function expectedResults(ops: readonly ReplayOp[]): ReplayResult[] {
  return ops.map((op) => {
    const name = label(op);
    switch (op.kind) {
      case 'controlIn':
      case 'bulkIn':
        return op.reply === 'stall'
          ? { op: name, status: 'stall', length: 0, data: '' }
          : { op: name, status: 'ok', length: op.reply.length, data: hex(op.reply) };
      case 'controlOut':
      case 'bulkOut':
        return op.reply === 'stall' ? { op: name, status: 'stall', length: 0 } : { op: name, status: 'ok', length: op.data.length };
    }
  });
}

const EINPROGRESS = -115;
const EPIPE = -32;
const URB_DIR_IN = 0x200;

/**
 * The usbmon URB events of `ops` as the kernel would record them on bus `busNumber`, device
 * `deviceAddress` (control: S with setup [+ OUT data], C [+ IN data]; bulk: S [+ OUT data], C [+ IN data]).
 */
export function syntheticUrbEvents(ops: readonly ReplayOp[], busNumber: number, deviceAddress: number): UrbEvent[] {
  const events: UrbEvent[] = [];
  let urbId = 0x10000;
  let timeUs = 1_000_000;
  const base = { busNumber, deviceAddress } as const;
  for (const op of ops) {
    urbId += 0x100;
    timeUs += 250;
    switch (op.kind) {
      case 'controlIn': {
        const setup = encodeSetup(buildSetup(op.setup, 'in', op.length));
        const data = op.reply === 'stall' ? new Uint8Array(0) : op.reply;
        events.push({ ...base, urbId, kind: 'S', transferType: 'control', endpoint: 0x80, timeUs, status: EINPROGRESS, length: op.length, setup, transferFlags: URB_DIR_IN });
        events.push({ ...base, urbId, kind: 'C', transferType: 'control', endpoint: 0x80, timeUs: timeUs + 125, status: op.reply === 'stall' ? EPIPE : 0, length: data.length, data, transferFlags: URB_DIR_IN });
        break;
      }
      case 'controlOut': {
        const setup = encodeSetup(buildSetup(op.setup, 'out', op.data.length));
        const stall = op.reply === 'stall';
        events.push({ ...base, urbId, kind: 'S', transferType: 'control', endpoint: 0x00, timeUs, status: EINPROGRESS, length: op.data.length, setup, data: op.data, transferFlags: 0 });
        events.push({ ...base, urbId, kind: 'C', transferType: 'control', endpoint: 0x00, timeUs: timeUs + 125, status: stall ? EPIPE : 0, length: stall ? 0 : op.data.length, transferFlags: 0 });
        break;
      }
      case 'bulkOut': {
        const stall = op.reply === 'stall';
        events.push({ ...base, urbId, kind: 'S', transferType: 'bulk', endpoint: op.endpoint, timeUs, status: EINPROGRESS, length: op.data.length, data: op.data, transferFlags: 0 });
        events.push({ ...base, urbId, kind: 'C', transferType: 'bulk', endpoint: op.endpoint, timeUs: timeUs + 125, status: stall ? EPIPE : 0, length: stall ? 0 : op.data.length, transferFlags: 0 });
        break;
      }
      case 'bulkIn': {
        const data = op.reply === 'stall' ? new Uint8Array(0) : op.reply;
        events.push({ ...base, urbId, kind: 'S', transferType: 'bulk', endpoint: op.endpoint, timeUs, status: EINPROGRESS, length: op.length, transferFlags: URB_DIR_IN });
        events.push({ ...base, urbId, kind: 'C', transferType: 'bulk', endpoint: op.endpoint, timeUs: timeUs + 125, status: op.reply === 'stall' ? EPIPE : 0, length: data.length, data, transferFlags: URB_DIR_IN });
        break;
      }
    }
  }
  return events;
}

/** Serializes ops for the replay client (Uint8Array → hex). */
export function opsToJson(ops: readonly ReplayOp[]): string {
  return JSON.stringify(ops, (_k, v: unknown) => (v instanceof Uint8Array ? { hex: hex(v) } : v));
}

/** Inverse of {@link opsToJson}. */
export function opsFromJson(json: string): ReplayOp[] {
  return JSON.parse(json, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && 'hex' in v && typeof (v as { hex: unknown }).hex === 'string'
      ? new Uint8Array(Buffer.from((v as { hex: string }).hex, 'hex'))
      : v,
  ) as ReplayOp[];
}
