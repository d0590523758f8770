/**
 * Sharding a run over N machines: every shard gets whole scenario files (a file shares its module state),
 * balanced by scenario count rather than by file count (vitest's own --shard counts files, which gave
 * 62 + 31 scenarios for 19 + 19 files on this suite), and all shards share one run seed.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { UsageError } from '../../core/index.js';
import { ROOT } from './paths.js';

export interface Shard {
  /** 1-based. */
  readonly index: number;
  readonly count: number;
}

/**
 * `--shard 2/3`.
 * @throws UsageError INVALID_ARGUMENT
 */
export function parseShard(text: string | undefined): Shard | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d{1,3})\/(\d{1,3})$/.exec(text.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (m === null || count < 1 || index < 1 || index > count) {
    throw new UsageError('INVALID_ARGUMENT', `--shard '${text}' is not <i>/<N> with 1 ≤ i ≤ N: e.g. --shard 1/4 … --shard 4/4`);
  }
  return { index, count };
}

/**
 * Splits files over `count` shards so that scenario counts are as even as possible (longest-processing-
 * time first: biggest file to the lightest shard; ties broken by name so every shard computes the same
 * split). Returns the files of shard `index`.
 */
export function filesOfShard(files: ReadonlyMap<string, number>, shard: Shard): string[] {
  const load = Array.from({ length: shard.count }, () => 0);
  const out: string[][] = Array.from({ length: shard.count }, () => []);
  const sorted = [...files.entries()].sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  for (const [file, n] of sorted) {
    let k = 0;
    for (let j = 1; j < shard.count; j++) if (load[j]! < load[k]!) k = j;
    load[k] = load[k]! + n;
    out[k]!.push(file);
  }
  return out[shard.index - 1]!.sort();
}

/**
 * The run seed every shard of one commit uses when none is given: derived from the commit, so shards on
 * different machines agree without talking to each other.
 * @throws UsageError NEED_SEED when there is no git commit to derive it from.
 */
export function commitSeed(): { seed: number; commit: string } {
  let commit: string;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    throw new UsageError('NEED_SEED', 'a sharded run needs one run seed for all shards: give --seed (or USBFN_HIL_SEED), the same on every shard');
  }
  return { seed: createHash('sha256').update(commit).digest().readUInt32BE(0), commit };
}
