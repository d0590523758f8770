import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../core/index.js';
import { benchesMatching, BENCH_INVENTORY_ENV, loadBenchInventory, validateBenchInventory } from './bench-inventory.js';

const bench = (id: string, tags: string[], speed = 'high'): Record<string, unknown> => ({
  bench: { id, tags, speed },
  device: { vendorId: '0x1209', productId: 1 },
  function: { interfaceNumber: 0, bulkOut: '0x01', bulkIn: '0x81' },
  agent: { url: 'http://127.0.0.1:7311', tokenEnv: `${id.toUpperCase().replaceAll('-', '_')}_TOKEN` },
});

const inventory = { benches: [bench('lab-01', ['speed-high', 'hub-uhubctl']), bench('lab-02', ['speed-high']), bench('lab-03', ['speed-full'], 'full')] };

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function file(name: string, text: string): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'usbfn-inventory-'));
  dirs.push(dir);
  const path = join(dir, name);
  writeFileSync(path, text);
  return { dir, path };
}

describe('bench inventory', () => {
  it('reads the file USBFN_HIL_BENCHES names (a BOM is fine), each entry a validated lab configuration', () => {
    const { dir } = file('benches.json', `\uFEFF${JSON.stringify(inventory)}`);
    const inv = loadBenchInventory({ [BENCH_INVENTORY_ENV]: 'benches.json' }, dir);
    expect(inv.benches.map((b) => b.config.bench.id)).toEqual(['lab-01', 'lab-02', 'lab-03']);
    expect(inv.benches[0]!.config).toMatchObject({ device: { vendorId: 0x1209 }, function: { bulkIn: 0x81 }, agent: { tokenEnv: 'LAB_01_TOKEN' } });
    // The entry as written is what a run is handed as its lab configuration.
    expect(inv.benches[2]!.entry).toEqual(inventory.benches[2]);
  });

  it('says where it looked when there is no file, and names the JSON error of a broken one', () => {
    const { dir } = file('broken.json', '{ "benches": [ ');
    expect(() => loadBenchInventory({}, dir)).toThrow(/^\[INVALID_CONFIG\] no bench inventory at .*usbfn-hil\.benches\.json: write one \(docs\/ci\.md#bench-inventory\) or point USBFN_HIL_BENCHES at it$/);
    expect(() => loadBenchInventory({ [BENCH_INVENTORY_ENV]: 'broken.json' }, dir)).toThrow(/broken\.json is not valid JSON \(/);
  });

  it('reports every problem at once, with the entry it is in: bad entries, duplicate ids, unknown fields, no bench', () => {
    const bad = { benches: [bench('lab-01', []), { ...bench('lab-02', []), device: { vendorId: 'x', productId: 1 } }, bench('lab-01', [])], extra: 1 };
    let err: unknown;
    try {
      validateBenchInventory(bad, 'inv.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    const message = (err as UsageError).message;
    expect(message).toMatch(/^\[INVALID_CONFIG\] inv\.json:\n/);
    expect(message).toContain('unknown field "extra"');
    expect(message).toMatch(/inv\.json benches\[1\]: device\.vendorId/);
    // Positions are the file's: the invalid entry in between keeps its place.
    expect(message).toContain('benches[2] has bench.id "lab-01" like benches[0]: give every bench its own id');
    expect(message).toMatch(/\(format: docs\/ci\.md#bench-inventory\)$/);
    expect(() => validateBenchInventory({ benches: [] }, 'inv.json')).toThrow(/the inventory lists no bench/);
    expect(() => validateBenchInventory([], 'inv.json')).toThrow(/a bench inventory is \{ "benches": \[ <lab configuration>, \.\.\. \] \}/);
  });

  it('selects a bench by id first, else every bench with the tag, and names what there is when nothing matches', () => {
    const inv = validateBenchInventory(inventory, 'inv.json');
    expect(benchesMatching(inv, 'lab-02').map((b) => b.config.bench.id)).toEqual(['lab-02']);
    expect(benchesMatching(inv, 'speed-high').map((b) => b.config.bench.id)).toEqual(['lab-01', 'lab-02']);
    expect(() => benchesMatching(inv, 'speed-super')).toThrow(
      "[INVALID_ARGUMENT] --bench 'speed-super' names no bench of inv.json: give a bench id (lab-01, lab-02, lab-03) or a tag (hub-uhubctl, speed-full, speed-high)",
    );
  });
});
