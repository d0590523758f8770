/**
 * The neutral model of a scenario's transfer timeline: what happened on the host, on the bus, in the
 * driver and in Configuration Manager, on one time axis. Adapters turn each world's records into it
 * (timeline-sources.ts); the renderer draws it (timeline-svg.ts). Nothing here knows which world ran.
 */

/** The rows of the picture, top to bottom. */
export const TIMELINE_LANES = ['host', 'bus', 'driver', 'service', 'cm'] as const;
export type TimelineLane = (typeof TIMELINE_LANES)[number];

/** How a lane is titled in the picture. */
export const LANE_TITLE: Readonly<Record<TimelineLane, string>> = {
  host: 'host URBs',
  bus: 'bus events',
  driver: 'device IOCTLs',
  service: 'device service',
  cm: 'CM notifications',
};

/** What a mark means, which decides its colour: a stall, a zero-length packet and an error stand out. */
export type TimelineMark = 'ok' | 'info' | 'zlp' | 'short' | 'stall' | 'cancelled' | 'error';

export interface TimelineItem {
  readonly lane: TimelineLane;
  /** Start on the scenario clock, ms. */
  readonly startMs: number;
  /** End, ms; equal to `startMs` (or absent) for an instant. */
  readonly endMs?: number | undefined;
  /** Short text drawn next to the mark, e.g. `bulk IN 0x81 512 B`. */
  readonly label: string;
  /** Longer text shown on hover. */
  readonly detail?: string | undefined;
  readonly mark: TimelineMark;
}
