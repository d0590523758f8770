import { describe, expect, it } from 'vitest';
import { IntrusiveList, type ListLinks } from './intrusive-list.js';

class Item implements ListLinks<Item> {
  listPrev: Item | undefined = undefined;
  listNext: Item | undefined = undefined;
  listOwner: IntrusiveList<Item> | undefined = undefined;
  constructor(readonly n: number) {}
}

const ns = (l: IntrusiveList<Item>): number[] => l.toArray().map((i) => i.n);

describe('IntrusiveList', () => {
  it('keeps insertion order through adds and removals at the head, middle and tail', () => {
    const l = new IntrusiveList<Item>();
    const items = [1, 2, 3, 4, 5].map((n) => new Item(n));
    for (const i of items) l.add(i);
    expect(ns(l)).toEqual([1, 2, 3, 4, 5]);
    expect(l.delete(items[2]!)).toBe(true); // middle
    expect(l.delete(items[0]!)).toBe(true); // head
    expect(l.delete(items[4]!)).toBe(true); // tail
    expect(ns(l)).toEqual([2, 4]);
    expect(l.size).toBe(2);
    expect(l.first?.n).toBe(2);
    l.add(items[0]!);
    expect(ns(l)).toEqual([2, 4, 1]);
  });

  it('clears a removed item\'s links so it keeps no other item reachable', () => {
    const l = new IntrusiveList<Item>();
    const [a, b, c] = [new Item(1), new Item(2), new Item(3)];
    l.add(a);
    l.add(b);
    l.add(c);
    l.delete(b);
    expect(b.listPrev).toBeUndefined();
    expect(b.listNext).toBeUndefined();
    expect(b.listOwner).toBeUndefined();
    expect(a.listNext).toBe(c);
    expect(c.listPrev).toBe(a);
  });

  it('answers delete and has for items it does not hold, and ignores a second add', () => {
    const l = new IntrusiveList<Item>();
    const a = new Item(1);
    expect(l.delete(a)).toBe(false);
    expect(l.has(a)).toBe(false);
    l.add(a);
    l.add(a);
    expect(l.size).toBe(1);
    expect(l.has(a)).toBe(true);
    expect(l.shift()).toBe(a);
    expect(l.shift()).toBeUndefined();
    expect(l.size).toBe(0);
  });

  it('refuses an item that is in another list', () => {
    const a = new Item(1);
    new IntrusiveList<Item>().add(a);
    expect(() => new IntrusiveList<Item>().add(a)).toThrow(/SIM_LIST_MISUSE/);
  });

  it('iterates a snapshot, so items can be removed while iterating', () => {
    const l = new IntrusiveList<Item>();
    for (const n of [1, 2, 3]) l.add(new Item(n));
    const seen: number[] = [];
    for (const i of l) {
      seen.push(i.n);
      l.delete(i);
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(l.size).toBe(0);
  });
});
