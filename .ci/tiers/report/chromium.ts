/**
 * Headless Chromium from the command line (Debian package `chromium`; CHROMIUM names another binary):
 * `--screenshot` of a page and `--dump-dom` of a page after its scripts ran. Each call gets a fresh profile
 * in a temporary folder and the flags that keep a CI run quiet and offline: no sandbox (CI runs as root), no
 * GPU, no QUIC, no first-run, no background networking, component updates or sync.
 *
 * In CI (CI=true) a missing Chromium fails the tier; on a developer machine it is skipped with the reason.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const IN_CI = process.env['CI'] === 'true';

/** The Chromium binary: $CHROMIUM, else the first of chromium / chromium-browser / google-chrome on PATH. */
export async function findChromium(): Promise<string | undefined> {
  const given = process.env['CHROMIUM'];
  const candidates = given !== undefined && given !== '' ? [given] : ['chromium', 'chromium-browser', 'google-chrome'];
  for (const c of candidates) {
    try {
      await run(c, ['--version'], { timeout: 30_000 });
      return c;
    } catch {
      // next
    }
  }
  return undefined;
}

const QUIET = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--hide-scrollbars',
  '--force-device-scale-factor=1',
];

async function chromium(binary: string, args: readonly string[], timeoutMs: number): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'usbfn-hil-chromium-'));
  try {
    const { stdout } = await run(binary, [...QUIET, `--user-data-dir=${profile}`, ...args], { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 });
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Screenshots `url` in a `width`×`height` window into `png`. */
export async function screenshot(binary: string, url: string, png: string, size: { width: number; height: number }): Promise<void> {
  await chromium(binary, [`--screenshot=${png}`, `--window-size=${size.width},${size.height}`, url], 60_000);
}

/**
 * The DOM of `url` after its scripts ran for `budgetMs` of virtual time (Chromium fast-forwards timers, so
 * a page that renders from script is dumped rendered).
 */
export function dumpDom(binary: string, url: string, budgetMs = 10_000): Promise<string> {
  return chromium(binary, [`--virtual-time-budget=${budgetMs}`, '--dump-dom', url], 120_000);
}

/** The text a reader sees in a dumped DOM: scripts and styles dropped, tags removed, entities and spaces collapsed. */
export function visibleText(dom: string): string {
  const body = dom.slice(Math.max(0, dom.indexOf('<body')));
  return body
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}
