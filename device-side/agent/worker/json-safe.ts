/**
 * Plain JSON data of whatever a device log entry's `detail` holds, for the IPC channel and the wire:
 * bigint counters become numbers (or decimal strings past 2^53), bytes a short hex string, errors their
 * JSON, and anything JSON cannot carry (functions, symbols, cycles, deep nesting) is dropped or cut.
 */
import { HarnessError } from '../../../core/index.js';

/** Bytes shown of a byte array (the rest is summarised by its length). */
const MAX_BYTES = 64;
const MAX_DEPTH = 6;
const MAX_STRING = 4_096;

export function jsonSafe(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  switch (typeof value) {
    case 'string':
      return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}… (${value.length} chars)` : value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return null;
  const obj = value as object;
  if (seen.has(obj)) return '[cycle]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (obj instanceof HarnessError) return obj.toJSON();
  if (obj instanceof Error) return { name: obj.name, message: obj.message };
  if (ArrayBuffer.isView(obj)) {
    const bytes = new Uint8Array(obj.buffer, obj.byteOffset, obj.byteLength);
    const hex = Buffer.from(bytes.subarray(0, MAX_BYTES)).toString('hex');
    return bytes.length > MAX_BYTES ? `${hex}… (${bytes.length} bytes)` : hex;
  }
  seen.add(obj);
  try {
    if (Array.isArray(obj)) return obj.map((v) => jsonSafe(v, depth + 1, seen) ?? null);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      const safe = jsonSafe(v, depth + 1, seen);
      if (safe !== undefined) out[k] = safe;
    }
    return out;
  } finally {
    seen.delete(obj);
  }
}
