/**
 * The bus-time model (docs/simulator-link.md#bus-time-model, issue 3 item 4): what one packet costs on the wire at each speed, so
 * throughput measured on the virtual clock is what the link allows and never more.
 *
 * Time on the bus timeline is an integer count of **bus units** of 1/7657 µs (7657 = 13 × 19 × 31), so
 * every USB 2.0 slot is an exact integer and long runs accumulate no rounding error:
 *
 * | speed | transfer | slots | slot | units |
 * |---|---|---|---|---|
 * | high | bulk 512 B | 13 per 125 µs microframe (USB 2.0 Table 5-10) | 125/13 µs | 73 625 |
 * | high | control 64 B | 31 per microframe (USB 2.0 Table 5-8) | 125/31 µs | 30 875 |
 * | full | bulk 64 B | 19 per 1 ms frame (USB 2.0 Table 5-9) | 1000/19 µs | 403 000 |
 * | full | control 64 B | 13 per frame (USB 2.0 Table 5-5) | 1000/13 µs | 589 000 |
 * | super | bulk 1024 B | ASSUMPTION(link-superspeed-bus-time): ≈400 MB/s effective | 2.56 µs | 19 602 |
 * | super | control 512 B | ASSUMPTION(link-superspeed-bus-time): same byte rate | 1.28 µs | 9 801 |
 *
 * Every packet costs one full slot, short packets and zero-length packets included (the slot is what the
 * host controller schedules). Setup and status stages of a control transfer cost one control slot each.
 *
 * ASSUMPTION(link-superspeed-bus-time): no USB-IF table to cite; 5 Gb/s signalling with 8b/10b coding gives 500 MB/s raw;
 * we take 80 % of it (≈400 MB/s) for packet headers, link commands and flow control, and model it as one
 * 1024-byte data packet per 2.56 µs (19 602 units: 399.996 MB/s, rounded so it never exceeds 400 MB/s).
 * ASSUMPTION(link-interrupt-bus-time): interrupt endpoints are charged like bulk packets of their wMaxPacketSize; periodic scheduling
 * by bInterval is not modelled.
 */
import type { UsbDeviceSpeed } from '../../../core/index.js';

/** Bus units per microsecond (13 × 19 × 31). */
export const BUS_UNITS_PER_US = 7657;
/** Bus units per millisecond (the Clock's unit). */
export const BUS_UNITS_PER_MS = 7_657_000;

/** Slot costs in bus units per speed. */
export interface SpeedSlots {
  /** One bulk (or interrupt) packet. */
  readonly bulk: number;
  /** One control-pipe stage packet (setup, data, status). */
  readonly control: number;
}

/** The slot table above. */
export const SLOT_UNITS: Readonly<Record<UsbDeviceSpeed, SpeedSlots>> = {
  full: { bulk: 1000 * 13 * 31, control: 1000 * 19 * 31 },
  high: { bulk: 125 * 19 * 31, control: 125 * 13 * 19 },
  super: { bulk: 19_602, control: 9_801 },
};

/** Largest bulk packet per speed, the size the slot table is computed for. */
export const BULK_MAX_PACKET: Readonly<Record<UsbDeviceSpeed, number>> = { full: 64, high: 512, super: 1024 };

/**
 * The bulk throughput ceiling of the model in bytes per second: full packets back to back.
 * High speed: 13 × 512 B / 125 µs = 53 248 000 B/s; full speed: 19 × 64 B / 1 ms = 1 216 000 B/s.
 */
export function bulkThroughputLimit(speed: UsbDeviceSpeed): number {
  return (BULK_MAX_PACKET[speed] * BUS_UNITS_PER_US * 1_000_000) / SLOT_UNITS[speed].bulk;
}

/** Converts a Clock time (ms) to bus units, rounding up so the bus never runs ahead of the clock. */
export function msToBusUnits(ms: number): number {
  const u = ms * BUS_UNITS_PER_MS;
  const r = Math.round(u);
  // Times the bus itself produced come back as r/BUS_UNITS_PER_MS: accept the float noise.
  return Math.abs(u - r) < 1e-6 ? r : Math.ceil(u);
}

/** Converts bus units to Clock ms. */
export function busUnitsToMs(units: number): number {
  return units / BUS_UNITS_PER_MS;
}
