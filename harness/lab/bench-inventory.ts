/**
 * The bench inventory: a file listing every bench (device + host PC pair) a team owns, each as a complete
 * lab configuration (docs/lab-config.md), so that `usbfn-hil bench list` can show them with live health and
 * `usbfn-hil run --mode lab --bench <name|tag>` can take a free one.
 *
 *   { "benches": [ { "bench": { "id": "lab-01", "tags": ["speed-high"], "speed": "high" }, "agent": {...}, ... } ] }
 *
 * Tokens never appear in it: each bench names the environment variable holding its agent's token.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../../core/index.js';
import { validateLabConfig, type LabConfig } from './lab-config.js';

export const BENCH_INVENTORY_ENV = 'USBFN_HIL_BENCHES';
export const DEFAULT_BENCH_INVENTORY = 'usbfn-hil.benches.json';
const DOC = 'docs/ci.md#bench-inventory';

export interface InventoryBench {
  readonly config: LabConfig;
  /** The entry as written (what a run is given as its lab configuration). */
  readonly entry: Readonly<Record<string, unknown>>;
}

export interface BenchInventory {
  readonly path: string;
  readonly benches: readonly InventoryBench[];
}

/**
 * Validates an inventory: every entry is a valid lab configuration (every problem reported at once, with the
 * entry's position) and bench ids are unique.
 * @throws UsageError INVALID_CONFIG
 */
export function validateBenchInventory(raw: unknown, path: string): BenchInventory {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !Array.isArray((raw as { benches?: unknown }).benches)) {
    throw new UsageError('INVALID_CONFIG', `${path}: a bench inventory is { "benches": [ <lab configuration>, ... ] } (${DOC})`, { path });
  }
  const unknown = Object.keys(raw).filter((k) => k !== 'benches' && k !== '$schema');
  const problems = unknown.map((k) => `unknown field "${k}" (an inventory has only "benches")`);
  const benches: InventoryBench[] = [];
  // Bench id → the entry's position in the file (entries that failed validation keep their positions).
  const seen = new Map<string, number>();
  (raw as { benches: unknown[] }).benches.forEach((entry, i) => {
    let config: LabConfig;
    try {
      config = validateLabConfig(entry, `${path} benches[${i}]`);
    } catch (err) {
      problems.push(err instanceof UsageError ? err.message.replace(/^\[INVALID_CONFIG\] /, '') : String(err));
      return;
    }
    benches.push({ config, entry: entry as Record<string, unknown> });
    const first = seen.get(config.bench.id);
    if (first !== undefined) problems.push(`benches[${i}] has bench.id "${config.bench.id}" like benches[${first}]: give every bench its own id`);
    else seen.set(config.bench.id, i);
  });
  if (benches.length === 0 && problems.length === 0) problems.push('the inventory lists no bench');
  if (problems.length > 0) throw new UsageError('INVALID_CONFIG', `${path}:\n  ${problems.join('\n  ')}\n(format: ${DOC})`, { path });
  return { path, benches };
}

/** Reads and validates the inventory file (`USBFN_HIL_BENCHES`, default usbfn-hil.benches.json). @throws UsageError INVALID_CONFIG */
export function loadBenchInventory(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): BenchInventory {
  const path = resolve(cwd, env[BENCH_INVENTORY_ENV] ?? DEFAULT_BENCH_INVENTORY);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError('INVALID_CONFIG', `no bench inventory at ${path}: write one (${DOC}) or point ${BENCH_INVENTORY_ENV} at it`, { path });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new UsageError('INVALID_CONFIG', `${path} is not valid JSON (${(err as Error).message})`, { path });
  }
  return validateBenchInventory(raw, path);
}

/**
 * The benches a selector names: the bench with that id, or every bench with that tag.
 * @throws UsageError INVALID_ARGUMENT naming the ids and tags there are.
 */
export function benchesMatching(inventory: BenchInventory, selector: string): InventoryBench[] {
  const byId = inventory.benches.filter((b) => b.config.bench.id === selector);
  if (byId.length > 0) return byId;
  const byTag = inventory.benches.filter((b) => b.config.bench.tags.includes(selector));
  if (byTag.length > 0) return byTag;
  const ids = inventory.benches.map((b) => b.config.bench.id);
  const tags = [...new Set(inventory.benches.flatMap((b) => b.config.bench.tags))].sort();
  throw new UsageError(
    'INVALID_ARGUMENT',
    `--bench '${selector}' names no bench of ${inventory.path}: give a bench id (${ids.join(', ')}) or a tag (${tags.join(', ') || 'none defined'})`,
  );
}
