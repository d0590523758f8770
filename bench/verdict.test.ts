import { describe, expect, it } from 'vitest';
import { atLeast, atMost, exact, formatHeadroom, info, MARGIN, row } from './verdict.js';

describe('verdict', () => {
  it('judges a floor: pass with the margin, thin without it, FAIL below the target', () => {
    expect(atLeast(0.2875, 0.25)).toEqual({ headroom: 1.15, verdict: 'pass' });
    expect(atLeast(0.28, 0.25).verdict).toBe('thin');
    expect(atLeast(0.25, 0.25).verdict).toBe('thin');
    expect(atLeast(0.249, 0.25).verdict).toBe('FAIL');
    expect(atLeast(Number.NaN, 0.25).verdict).toBe('FAIL');
  });

  it('judges a ceiling the other way round, and a zero or negative value (heap that shrank) as infinite headroom', () => {
    expect(atMost(45, 50).verdict).toBe('thin');
    expect(atMost(20, 50)).toEqual({ headroom: 2.5, verdict: 'pass' });
    expect(atMost(51, 50).verdict).toBe('FAIL');
    expect(atMost(-0.04e6, 10e6)).toEqual({ headroom: Number.POSITIVE_INFINITY, verdict: 'pass' });
  });

  it('has no margin for exact checks, and prints the headroom column', () => {
    expect(exact(true).verdict).toBe('pass');
    expect(exact(false).verdict).toBe('FAIL');
    expect(row('f', '1', '—', info())).toEqual(['f', '1', '—', '—', 'info']);
    expect(row('f', '1', '≥ 1', atLeast(1.5, 1))).toEqual(['f', '1', '≥ 1', '1.50×', 'pass']);
    expect([formatHeadroom(Number.NaN), formatHeadroom(Number.POSITIVE_INFINITY)]).toEqual(['—', '∞']);
    expect(MARGIN).toBe(1.15);
  });
});
