/**
 * uhubctl outputs (../fixtures, see its README.md for how they were made): `uhubctlFixture('ppps-off', 0)` is
 * the result of `uhubctl -l 1-1 -p 2 -a off` on a hub with per-port power switching.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { CommandResult } from '../command-runner.js';

const read = (name: string): string => {
  const url = new URL(`../fixtures/${name}`, import.meta.url);
  return existsSync(url) ? readFileSync(url, 'utf8') : '';
};

/** The recorded stdout and stderr of a case, with the exit code the test states. */
export function uhubctlFixture(name: string, exitCode: number): CommandResult {
  const stdout = read(`${name}.stdout.txt`);
  const stderr = read(`${name}.stderr.txt`);
  if (stdout === '' && stderr === '') throw new Error(`no uhubctl fixture '${name}' in harness/lab/power/fixtures`);
  return { exitCode, signal: null, stdout, stderr };
}
