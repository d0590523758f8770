/**
 * cliStart: how long `usbfn-hil --help` takes, spawn to exit, from a fresh build (dist/, as `npm ci` leaves
 * it through the `prepare` script and as an installed package has it): what every command costs before it
 * does anything. The build is made first, so `harness/cli/bin.js` runs it rather than the sources; one
 * warm-up run fills the file cache, as a user's second command finds it. The sources through tsx (a
 * checkout edited since its build) are measured once and printed beside it.
 *
 * @see .ci/tiers/cli/help.cli.test.ts (prints the same figure while checking the output)
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { median, repeat, wallMs } from './stats.js';
import { atMost, row, type Row } from './verdict.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../harness/cli/bin.js', import.meta.url));

/** Issue 15: the CLI answers `--help` within a second. */
export const CLI_START_TARGET_MS = 1000;

export interface CliStartFigures {
  /** Median wall ms of `node harness/cli/bin.js --help` from the build. */
  readonly wallMs: number;
  /** One run from the sources (USBFN_HIL_FROM_SOURCE=1, through tsx). */
  readonly fromSourceMs: number;
  readonly runs: number;
}

/** @throws Error when the build or `--help` fails. */
export async function measureCliStart(options: { runs: number }): Promise<CliStartFigures> {
  await run(process.execPath, [fileURLToPath(new URL('../.ci/build-dist.mjs', import.meta.url))], { cwd: ROOT, timeout: 120_000 });
  const env = { ...process.env, USBFN_HIL_FROM_SOURCE: '' };
  const help = (extra: NodeJS.ProcessEnv = {}): Promise<unknown> => run(process.execPath, [BIN, '--help'], { cwd: ROOT, env: { ...env, ...extra }, timeout: 60_000 });
  await help();
  const times = await repeat(options.runs, () => wallMs(() => help()));
  const fromSourceMs = await wallMs(() => help({ USBFN_HIL_FROM_SOURCE: '1' }));
  return { wallMs: median(times), fromSourceMs, runs: options.runs };
}

/** bench/run.ts's row and note for `cliStart` (pure, for tests). */
export function cliStartEntry(f: CliStartFigures): { row: Row; note: string } {
  return {
    row: row('cliStart.wallMs (usbfn-hil --help)', `${f.wallMs.toFixed(0)} ms`, `< ${CLI_START_TARGET_MS} ms`, atMost(f.wallMs, CLI_START_TARGET_MS)),
    note: `cliStart: ${f.runs} runs of node harness/cli/bin.js --help from a fresh build, spawn to exit, after one warm-up; from the sources through tsx: ${f.fromSourceMs.toFixed(0)} ms`,
  };
}
