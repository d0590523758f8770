/**
 * How `npm run bench` judges a figure against its target, with the margin the project promises: another
 * machine of the same kind can be 20 % slower, so a figure that only just meets its target here is not a
 * pass there. Every timed figure reports its headroom (how many times over the target it is, on the side
 * that matters) and is `thin` when that is below {@link MARGIN}.
 *
 * @see bench/README.md#verdicts-and-margin
 */

/** The headroom a timed figure needs beyond its target (15 %). */
export const MARGIN = 1.15;

/**
 * `pass`: meets the target with {@link MARGIN}; `thin`: meets it without; `FAIL`: misses it; `info`: a
 * measurement printed for what it tells, with no target.
 */
export type Verdict = 'pass' | 'thin' | 'FAIL' | 'info';

/** A bench table row: figure, value, target, headroom, verdict. */
export type Row = readonly [figure: string, value: string, target: string, headroom: string, verdict: Verdict];

/** The table's header, in {@link Row}'s order. */
export const ROW_HEADER = ['figure', 'value', 'target', 'headroom', 'verdict'] as const;

/** A judged figure: its headroom (value / target for "at least", target / value for "at most") and verdict. */
export interface Judged {
  readonly headroom: number;
  readonly verdict: Verdict;
}

function judged(headroom: number): Judged {
  const verdict: Verdict = !(headroom >= 1) ? 'FAIL' : headroom < MARGIN ? 'thin' : 'pass';
  return { headroom, verdict };
}

/** A figure whose target is a floor (`value ≥ target`). */
export function atLeast(value: number, target: number): Judged {
  return judged(value / target);
}

/** A figure whose target is a ceiling (`value ≤ target`; a value of 0 has infinite headroom). */
export function atMost(value: number, target: number): Judged {
  return judged(value <= 0 ? Number.POSITIVE_INFINITY : target / value);
}

/** A check that has no margin (a band, a bit-exact result): pass or FAIL only. */
export function exact(ok: boolean): Judged {
  return { headroom: Number.NaN, verdict: ok ? 'pass' : 'FAIL' };
}

/** A measurement without a target (printed, never failed). */
export function info(): Judged {
  return { headroom: Number.NaN, verdict: 'info' };
}

/** The headroom cell: `1.23×`, `∞` or `—` (for exact checks). */
export function formatHeadroom(headroom: number): string {
  if (Number.isNaN(headroom)) return '—';
  if (!Number.isFinite(headroom)) return '∞';
  return `${headroom.toFixed(2)}×`;
}

/** Builds a {@link Row}. */
export function row(figure: string, value: string, target: string, j: Judged): Row {
  return [figure, value, target, formatHeadroom(j.headroom), j.verdict];
}
