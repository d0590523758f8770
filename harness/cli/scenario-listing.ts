/**
 * The scenarios of a world as vitest collects them (`vitest list`), without running any: for `list`, for
 * sharding by scenario count, and for "no scenario matched" hints.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { UsageError } from '../../core/index.js';
import { runChild } from './child-process.js';
import { ROOT, toolCommand } from './paths.js';

export interface ListedScenario {
  /** Path of the file relative to the package root, `/`-separated. */
  readonly file: string;
  /** Describe blocks and title joined by ` > `. */
  readonly name: string;
}

/**
 * The vitest arguments that pick a mode's scenarios (tags decide which worlds a scenario runs in): sim leaves
 * out lab-only ones; lab leaves out sim-only ones; lab-sim also leaves out `slow` ones (long waits that cost
 * no wall time on the simulator's virtual clock cost it all on the real clock: their reason is printed).
 */
export function modeArgs(mode: string): string[] {
  const filter = mode === 'sim' ? '!lab-only' : mode === 'lab-sim' ? '!sim-only && !lab-only && !slow && !local-host' : '!sim-only';
  return ['--project', mode, '--tags-filter', filter];
}

/**
 * Collects the scenarios of `mode` (optionally only those whose name matches `namePattern`).
 * @throws UsageError COLLECT_FAILED when vitest cannot collect the suite.
 */
export async function listScenarios(mode: string, namePattern?: string, files: readonly string[] = []): Promise<ListedScenario[]> {
  const dir = mkdtempSync(join(tmpdir(), 'usbfn-hil-list-'));
  try {
    const out = join(dir, 'list.json');
    const vitest = toolCommand('vitest');
    const args = [...vitest.args, 'list', ...modeArgs(mode), `--json=${out}`];
    if (namePattern !== undefined) args.push('--testNamePattern', namePattern);
    args.push(...files);
    const code = await runChild(vitest.cmd, args, { ...process.env, USBFN_HIL_MODE: mode, USBFN_HIL_LIST: '1' });
    if (code !== 0) throw new UsageError('COLLECT_FAILED', `vitest could not collect the ${mode} scenarios (exit ${code}): see its output above`);
    const tests = JSON.parse(readFileSync(out, 'utf8')) as { name: string; file: string }[];
    return tests.map((t) => ({ file: relative(ROOT, t.file).replaceAll('\\', '/'), name: t.name }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
