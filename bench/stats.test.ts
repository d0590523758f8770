import { describe, expect, it } from 'vitest';
import { median, medianOf, repeat } from './stats.js';
import { formatMarkdownTable, formatTable } from './table.js';
import { judge, type BenchReport } from './bench-report.js';

describe('stats', () => {
  it('takes the median of odd and even counts without reordering the input', () => {
    const xs = [5, 1, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
    expect(medianOf([{ v: 9 }, { v: 7 }, { v: 8 }], (r) => r.v)).toBe(8);
  });

  it('repeats a measurement in sequence', async () => {
    const seen: number[] = [];
    expect(await repeat(3, async (i) => (seen.push(i), i * 2))).toEqual([0, 2, 4]);
    expect(seen).toEqual([0, 1, 2]);
    await expect(repeat(0, () => 1)).rejects.toThrow(RangeError);
  });
});

describe('table', () => {
  it('pads columns and right-aligns numbers', () => {
    const t = formatTable(['figure', 'value'], [['a', '12 ms'], ['bbb', '3 ms']]).split('\n');
    expect(t).toEqual(['figure  value', '------  -----', 'a       12 ms', 'bbb      3 ms']);
    expect(formatMarkdownTable(['a', 'b'], [['1', 'x|y']])).toBe('| a | b |\n| --- | --- |\n| 1 | x\\|y |');
  });
});

const passing: BenchReport = {
  bulkLoopback: { transferBytes: 1048576, queued: 4, bytesPerSecond: 9e9, copyLoopBytesPerSecond: 30e9, ratio: 0.3 },
  controlTransfers: { perSecond: 60_000 },
  suite: { scenarios: 10, wallSeconds: 12, medianScenarioMs: 8 },
  virtualTimeout: { timeoutMs: 30000, wallMs: 3 },
  soak: { transfers: 100000, heapGrowthBytes: 1e6 },
  busModel: { highSpeedBytesPerSecond: 53.2e6, fullSpeedBytesPerSecond: 1.2e6 },
};

describe('judge', () => {
  const verdicts = (r: BenchReport): Record<string, string> => Object.fromEntries(judge(r).map((v) => [v[0].split(' ')[0]!, v[4]]));

  it('passes figures that meet their targets with a 15 % margin, and prints each headroom', () => {
    expect(Object.values(verdicts(passing)).every((v) => v === 'pass')).toBe(true);
    const rows = judge(passing);
    expect(rows.find((r) => r[0] === 'bulkLoopback.ratio')?.[3]).toBe('1.20×');
    expect(rows.find((r) => r[0] === 'suite.medianScenarioMs')?.[3]).toBe('2.50×');
  });

  it('calls a figure that meets its target by less than 15 % thin, not pass', () => {
    expect(verdicts({ ...passing, bulkLoopback: { ...passing.bulkLoopback, ratio: 0.28 } })['bulkLoopback.ratio']).toBe('thin');
    expect(verdicts({ ...passing, bulkLoopback: { ...passing.bulkLoopback, ratio: 0.2875 } })['bulkLoopback.ratio']).toBe('pass');
    expect(verdicts({ ...passing, virtualTimeout: { timeoutMs: 30000, wallMs: 45 } })['virtualTimeout.wallMs']).toBe('thin');
  });

  it('fails each figure that misses its target, and a bus model above the USB ceiling or more than 2 % below it', () => {
    const failed = (r: BenchReport): string[] => Object.entries(verdicts(r)).filter(([, v]) => v === 'FAIL').map(([f]) => f);
    expect(failed({ ...passing, bulkLoopback: { ...passing.bulkLoopback, ratio: 0.2 } })).toEqual(['bulkLoopback.ratio']);
    expect(failed({ ...passing, controlTransfers: { perSecond: 49_999 } })).toEqual(['controlTransfers.perSecond']);
    expect(failed({ ...passing, suite: { scenarios: 1, wallSeconds: 21, medianScenarioMs: 21 } })).toEqual(['suite.wallSeconds', 'suite.medianScenarioMs']);
    expect(failed({ ...passing, virtualTimeout: { timeoutMs: 30000, wallMs: 51 } })).toEqual(['virtualTimeout.wallMs']);
    expect(failed({ ...passing, soak: { transfers: 100000, heapGrowthBytes: 10.5e6 } })).toEqual(['soak.heapGrowthBytes']);
    expect(failed({ ...passing, busModel: { highSpeedBytesPerSecond: 53.3e6, fullSpeedBytesPerSecond: 1.19e6 } })).toEqual([
      'busModel.highSpeedBytesPerSecond',
      'busModel.fullSpeedBytesPerSecond',
    ]);
  });
});
