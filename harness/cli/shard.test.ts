import { describe, expect, it } from 'vitest';
import { filesOfShard, parseShard } from './shard.js';

describe('shards', () => {
  it('parses i/N and rejects anything else with the fix', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(parseShard(undefined)).toBeUndefined();
    for (const bad of ['0/2', '3/2', '1/0', 'a/b', '1', '1/2/3']) expect(() => parseShard(bad)).toThrow(/--shard 1\/4/);
  });

  it('balances by scenario count, covers every file exactly once and is the same on every shard', () => {
    const files = new Map([
      ['a.test.ts', 30],
      ['b.test.ts', 15],
      ['c.test.ts', 14],
      ['d.test.ts', 9],
      ['e.test.ts', 5],
      ['f.test.ts', 5],
      ['g.test.ts', 5],
      ['h.test.ts', 4],
      ['i.test.ts', 4],
      ['j.test.ts', 2],
    ]);
    const shards = [1, 2].map((index) => filesOfShard(files, { index, count: 2 }));
    expect([...shards[0]!, ...shards[1]!].sort()).toEqual([...files.keys()].sort());
    const load = shards.map((fs) => fs.reduce((n, f) => n + files.get(f)!, 0));
    expect(Math.abs(load[0]! - load[1]!)).toBeLessThanOrEqual(1);
    expect(filesOfShard(files, { index: 1, count: 2 })).toEqual(shards[0]);
    expect(filesOfShard(files, { index: 1, count: 1 })).toEqual([...files.keys()].sort());
  });
});
