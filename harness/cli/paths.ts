/**
 * Where the CLI reads and writes: the package root (found from this file, so the CLI works from a checkout
 * and from the built `dist/` of an installed package) and the report folders under it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'usbfn-hil') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`usbfn-hil: cannot find the package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export const ROOT = packageRoot();
export const REPORTS_DIR = join(ROOT, 'reports');
/** Allure results of the last run (scenarios only). */
export const RESULTS_DIR = join(REPORTS_DIR, 'allure-results');
/** The multi-file HTML report (serve it). */
export const REPORT_DIR = join(REPORTS_DIR, 'allure-report');
/** The single-file HTML report (opens from file://, travels as one CI artifact). */
export const SINGLE_FILE_REPORT = join(REPORTS_DIR, 'usbfn-hil-report.html');
/** What the last run's summary reporter wrote (counts per area, skip reasons, names for filter hints). */
export const RUN_SUMMARY_FILE = join(REPORTS_DIR, 'run-summary.json');
export const ALLURE_CONFIG = join(REPORTS_DIR, 'allurerc.mjs');

/**
 * The command line that runs a tool installed with the package: `node <its bin script>`, so that it works
 * the same on Windows (where `.cmd` shims need a shell) and elsewhere.
 */
export function toolCommand(pkg: 'vitest' | 'allure'): { cmd: string; args: string[] } {
  const dir = join(ROOT, 'node_modules', pkg);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { bin: string | Record<string, string> };
  const script = typeof manifest.bin === 'string' ? manifest.bin : (manifest.bin[pkg] ?? Object.values(manifest.bin)[0]!);
  return { cmd: process.execPath, args: [join(dir, script)] };
}
