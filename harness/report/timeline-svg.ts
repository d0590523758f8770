/**
 * Draws a scenario's timeline as one self-contained SVG: a row per lane (host URBs, bus events, device
 * IOCTLs, the device service, CM notifications), spans for things that take time, diamonds for instants,
 * colours for stalls, ZLPs, cancellations and errors, and the details as hover titles.
 *
 * The time axis is linear except that long idle gaps (a 30-second timeout on the scenario clock, a wait for
 * re-enumeration) are cut out and drawn as a break with their length, so that the busy parts stay readable.
 */
import { LANE_TITLE, TIMELINE_LANES, type TimelineItem, type TimelineLane, type TimelineMark } from './timeline-model.js';

export interface TimelineSvgOptions {
  readonly title?: string | undefined;
  /** Width of the drawing area for time, px. Default 1200. */
  readonly widthPx?: number | undefined;
  /** Gaps longer than this (ms) are cut out of the axis. Default 25. */
  readonly breakGapMs?: number | undefined;
  /** Items drawn per lane; the rest are counted in the legend. Default 1500. */
  readonly maxItemsPerLane?: number | undefined;
}

const COLOUR: Readonly<Record<TimelineMark, string>> = {
  ok: '#43a047',
  info: '#78909c',
  zlp: '#1e88e5',
  short: '#00acc1',
  stall: '#fb8c00',
  cancelled: '#8e24aa',
  error: '#e53935',
};
const MARK_TEXT: Readonly<Record<TimelineMark, string>> = {
  ok: 'ok',
  info: 'event',
  zlp: 'zero-length packet',
  short: 'short packet',
  stall: 'stall',
  cancelled: 'cancelled / vetoed / warning',
  error: 'error',
};

const LEFT = 150;
const TOP = 56;
const ROW = 16;
const MAX_ROWS = 16;
const BREAK_PX = 34;
const CHAR_PX = 6.2;
/** Most pixels one millisecond may take (so that a scenario that lasts 0.1 ms is not stretched absurdly). */
const MAX_PX_PER_MS = 400;

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function fmtMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10_000 ? 1 : 3)} s`;
  if (ms >= 1) return `${ms.toFixed(ms >= 100 ? 0 : 2)} ms`;
  return `${(ms * 1000).toFixed(0)} µs`;
}

/** A piecewise-linear time → x mapping with long gaps cut out. */
interface Axis {
  x(ms: number): number;
  readonly width: number;
  readonly breaks: readonly { x: number; gapMs: number }[];
  readonly ticks: readonly { x: number; ms: number }[];
}

function buildAxis(items: readonly TimelineItem[], widthPx: number, breakGapMs: number): Axis {
  const points = [...new Set(items.flatMap((i) => [i.startMs, i.endMs ?? i.startMs]))].sort((a, b) => a - b);
  if (points.length === 0) points.push(0);
  const gaps: { from: number; to: number; cut: boolean }[] = [];
  for (let k = 1; k < points.length; k++) {
    const from = points[k - 1]!;
    const to = points[k]!;
    const cut = to - from > breakGapMs;
    gaps.push({ from, to, cut });
  }
  const cuts = gaps.filter((g) => g.cut).length;
  const available = Math.max(200, widthPx - cuts * BREAK_PX);
  const linear = gaps.filter((g) => !g.cut);
  // Every step between two moments gets at least `minPx`, so that a burst of events 10 µs apart stays
  // in order and readable; the rest of the width is spread linearly (binary search for the scale).
  const minPx = linear.length === 0 ? 0 : Math.min(14, available / linear.length);
  const widthAt = (s: number): number => linear.reduce((sum, g) => sum + Math.max(minPx, (g.to - g.from) * s), 0);
  let lo = 0;
  let hi = MAX_PX_PER_MS;
  if (widthAt(hi) <= available) lo = hi;
  else for (let k = 0; k < 40; k++) { const mid = (lo + hi) / 2; if (widthAt(mid) <= available) lo = mid; else hi = mid; }
  const pxPerMs = lo;
  // Cumulative x at each point.
  const xs = [0];
  const breaks: { x: number; gapMs: number }[] = [];
  for (const g of gaps) {
    const x0 = xs[xs.length - 1]!;
    if (g.cut) breaks.push({ x: x0 + BREAK_PX / 2, gapMs: g.to - g.from });
    xs.push(x0 + (g.cut ? BREAK_PX : Math.max(minPx, (g.to - g.from) * pxPerMs)));
  }
  const first = points[0]!;
  const x = (ms: number): number => {
    // Binary search for the segment holding ms.
    let lo = 0;
    let hi = points.length - 1;
    if (ms <= first) return 0;
    if (ms >= points[hi]!) return xs[hi]!;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (points[mid]! <= ms) lo = mid;
      else hi = mid;
    }
    const a = points[lo]!;
    const b = points[hi]!;
    return xs[lo]! + ((ms - a) / (b - a)) * (xs[hi]! - xs[lo]!);
  };
  // Ticks: the start, the end, the edges of every break, and regular steps inside linear stretches,
  // thinned to ~90 px apart.
  const candidates: number[] = [first, ...gaps.filter((g) => g.cut).flatMap((g) => [g.from, g.to]), points[points.length - 1]!];
  gaps.forEach((g, k) => {
    if (g.cut) return;
    const x0 = xs[k]!;
    const x1 = xs[k + 1]!;
    for (let tx = Math.ceil(x0 / 150) * 150; tx < x1; tx += 150) candidates.push(g.from + ((tx - x0) / (x1 - x0)) * (g.to - g.from));
  });
  candidates.sort((a, b) => a - b);
  const ticks: { x: number; ms: number }[] = [];
  for (const ms of candidates) {
    const tx = x(ms);
    if (ticks.length === 0 || tx - ticks[ticks.length - 1]!.x >= 90) ticks.push({ x: tx, ms });
  }
  return { x, width: xs[xs.length - 1]!, breaks, ticks };
}

interface Placed {
  readonly item: TimelineItem;
  readonly x0: number;
  readonly x1: number;
  readonly row: number;
  readonly showLabel: boolean;
}

/** Greedy placement into sub-rows so that spans and labels do not overlap; beyond MAX_ROWS labels are dropped. */
function place(items: readonly TimelineItem[], axis: Axis): { placed: Placed[]; rows: number; rightPx: number } {
  const sorted = [...items].sort((a, b) => a.startMs - b.startMs || (a.endMs ?? a.startMs) - (b.endMs ?? b.startMs));
  const rowEnd: number[] = [];
  const placed: Placed[] = [];
  for (const item of sorted) {
    const x0 = axis.x(item.startMs);
    const x1 = Math.max(x0, axis.x(item.endMs ?? item.startMs));
    const labelPx = item.label.length * CHAR_PX;
    const labelEnd = x1 - x0 >= labelPx + 8 ? x1 : Math.max(x1, x0 + 8) + 4 + labelPx;
    let row = rowEnd.findIndex((end) => end <= x0 - 2);
    let showLabel = true;
    if (row < 0 && rowEnd.length < MAX_ROWS) {
      row = rowEnd.length;
      rowEnd.push(0);
    }
    if (row < 0) {
      // No free row: draw the mark in the row that frees first, without its label.
      row = rowEnd.indexOf(Math.min(...rowEnd));
      showLabel = false;
    }
    rowEnd[row] = Math.max(rowEnd[row]!, showLabel ? labelEnd : x1 + 3);
    placed.push({ item, x0, x1, row, showLabel });
  }
  return { placed, rows: Math.max(1, rowEnd.length), rightPx: Math.max(0, ...rowEnd) };
}

/**
 * Renders the items as a standalone SVG document (UTF-8 text).
 * @example attachSvg('timeline', renderTimelineSvg([...urbItems(events), ...deviceLogItems(log)]))
 */
export function renderTimelineSvg(items: readonly TimelineItem[], options: TimelineSvgOptions = {}): string {
  const widthPx = options.widthPx ?? 1200;
  const maxPerLane = options.maxItemsPerLane ?? 1500;
  const kept: TimelineItem[] = [];
  const omitted = new Map<TimelineLane, number>();
  const perLane = new Map<TimelineLane, number>();
  for (const item of [...items].sort((a, b) => a.startMs - b.startMs)) {
    const n = perLane.get(item.lane) ?? 0;
    if (n >= maxPerLane) {
      omitted.set(item.lane, (omitted.get(item.lane) ?? 0) + 1);
      continue;
    }
    perLane.set(item.lane, n + 1);
    kept.push(item);
  }
  const axis = buildAxis(kept, widthPx, options.breakGapMs ?? 25);
  const lanes = TIMELINE_LANES.filter((l) => perLane.has(l));
  const out: string[] = [];
  let y = TOP;
  let right = axis.width;
  const body: string[] = [];
  for (const lane of lanes) {
    const { placed, rows, rightPx } = place(
      kept.filter((i) => i.lane === lane),
      axis,
    );
    const h = rows * ROW + 8;
    right = Math.max(right, rightPx);
    body.push(`<g class="lane" data-lane="${lane}">`);
    body.push(`<rect x="0" y="${y}" width="100%" height="${h}" fill="${lanes.indexOf(lane) % 2 === 0 ? '#fafafa' : '#f0f0f0'}"/>`);
    const more = omitted.get(lane);
    body.push(`<text x="8" y="${y + 14}" class="lane-title">${esc(LANE_TITLE[lane])}</text>`);
    if (more !== undefined) body.push(`<text x="8" y="${y + 28}" class="note">+${more} not drawn</text>`);
    for (const p of placed) {
      const cy = y + 4 + p.row * ROW + ROW / 2;
      const colour = COLOUR[p.item.mark];
      const tip = `<title>${esc(`${fmtMs(p.item.startMs)}${p.item.endMs !== undefined && p.item.endMs !== p.item.startMs ? ` → ${fmtMs(p.item.endMs)}` : ''}: ${p.item.detail ?? p.item.label}`)}</title>`;
      const cls = `mark mark-${p.item.mark}`;
      if (p.x1 - p.x0 >= 2) {
        body.push(`<rect class="${cls}" x="${(LEFT + p.x0).toFixed(1)}" y="${cy - 5}" width="${(p.x1 - p.x0).toFixed(1)}" height="10" rx="2" fill="${colour}">${tip}</rect>`);
      } else {
        const cx = LEFT + p.x0;
        body.push(`<path class="${cls}" d="M${cx.toFixed(1)} ${cy - 5}l5 5l-5 5l-5 -5z" fill="${colour}">${tip}</path>`);
      }
      if (p.showLabel) {
        const inside = p.x1 - p.x0 >= p.item.label.length * CHAR_PX + 8;
        const lx = inside ? p.x0 + 4 : Math.max(p.x1, p.x0 + 6) + 4;
        body.push(`<text x="${(LEFT + lx).toFixed(1)}" y="${cy + 4}" class="label${inside ? ' inside' : ''}">${esc(p.item.label)}</text>`);
      }
    }
    body.push('</g>');
    y += h;
  }
  const height = y + 30;
  const width = LEFT + Math.max(axis.width + 40, right + 12);
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${height}" viewBox="0 0 ${Math.ceil(width)} ${height}" font-family="sans-serif">`);
  out.push('<style>.label{font-size:11px;fill:#263238}.inside{fill:#ffffff}.lane-title{font-size:12px;font-weight:bold;fill:#37474f}.note{font-size:10px;fill:#b71c1c}.tick{font-size:10px;fill:#546e7a}.title{font-size:14px;font-weight:bold}</style>');
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  if (options.title !== undefined) out.push(`<text x="8" y="18" class="title">${esc(options.title)}</text>`);
  // Legend: the marks that occur.
  let lx = 8;
  for (const mark of Object.keys(COLOUR) as TimelineMark[]) {
    if (!kept.some((i) => i.mark === mark)) continue;
    out.push(`<rect x="${lx}" y="30" width="10" height="10" fill="${COLOUR[mark]}"/><text x="${lx + 14}" y="39" class="tick">${esc(MARK_TEXT[mark])}</text>`);
    lx += 24 + MARK_TEXT[mark].length * CHAR_PX;
  }
  if (kept.length === 0) out.push(`<text x="8" y="${TOP + 14}" class="label">nothing was recorded</text>`);
  out.push(...body);
  // Axis, ticks and breaks.
  out.push(`<line x1="${LEFT}" y1="${y + 4}" x2="${LEFT + axis.width}" y2="${y + 4}" stroke="#90a4ae"/>`);
  for (const t of axis.ticks) {
    out.push(`<line x1="${LEFT + t.x}" y1="${y}" x2="${LEFT + t.x}" y2="${y + 8}" stroke="#90a4ae"/><text x="${LEFT + t.x}" y="${y + 20}" class="tick" text-anchor="middle">${esc(fmtMs(t.ms))}</text>`);
  }
  for (const b of axis.breaks) {
    out.push(
      `<g class="break"><line x1="${LEFT + b.x}" y1="${TOP}" x2="${LEFT + b.x}" y2="${y + 4}" stroke="#b0bec5" stroke-dasharray="3 3"/>` +
        `<text x="${LEFT + b.x}" y="${TOP - 4}" class="tick" text-anchor="middle">⋯ ${esc(fmtMs(b.gapMs))}</text></g>`,
    );
  }
  out.push('</svg>');
  return out.join('\n');
}
