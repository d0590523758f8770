/**
 * globalSetup of the CLI and report tiers: builds dist/ (`npm run build`), so that `harness/cli/bin.js` runs
 * the build, as it does after `npm ci` (the `prepare` script) and in an installed package. A checkout whose
 * sources are newer than the build would run them through tsx instead: that path is checked once too.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './cli-process.js';

export default function setup(): void {
  const out = execFileSync(process.execPath, [join(ROOT, '.ci', 'build-dist.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  console.log(out.trim());
}
