/**
 * suite: the whole simulated scenario suite (`vitest run --project sim`, Allure reporter on) as a child
 * process: wall seconds from spawn to exit, the scenario count, and the median per-scenario time from the
 * Allure results' start/stop.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, repeat } from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONFIG = fileURLToPath(new URL('./suite.vitest.config.ts', import.meta.url));
/** Whole-suite bound: a hung suite must not hang the benchmark. */
const SUITE_TIMEOUT_MS = 300_000;

export interface SuiteFigures {
  readonly scenarios: number;
  /** Median over runs. */
  readonly wallSeconds: number;
  /** Median over runs of the per-run median scenario time. */
  readonly medianScenarioMs: number;
  /** Scenarios that did not pass in the last run (they still count: the time is what the suite costs). */
  readonly notPassed: number;
  readonly exitCode: number;
  readonly runs: number;
}

interface AllureResult {
  readonly status?: string;
  readonly start?: number;
  readonly stop?: number;
}

function runSuite(resultsDir: string): Promise<{ wallMs: number; exitCode: number; output: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'vitest'), ['run', '--config', CONFIG, '--project', 'sim'], {
      cwd: ROOT,
      env: { ...process.env, BENCH_ALLURE_DIR: resultsDir, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), SUITE_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ wallMs: performance.now() - t0, exitCode: code ?? -1, output });
    });
  });
}

function readResults(dir: string): AllureResult[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('-result.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as AllureResult)
    .filter((r) => r.status !== 'skipped' && typeof r.start === 'number' && typeof r.stop === 'number');
}

/** @throws Error when the suite produced no results at all (it did not run). */
export async function measureSuite(options: { runs: number }): Promise<SuiteFigures> {
  let last = { scenarios: 0, notPassed: 0, exitCode: 0 };
  const runs = await repeat(options.runs, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'usbfn-bench-allure-'));
    try {
      const r = await runSuite(dir);
      const results = readResults(dir);
      if (results.length === 0) {
        throw new Error(`the sim suite produced no Allure results (exit ${r.exitCode}); its output ends:\n${r.output.slice(-2000)}`);
      }
      last = { scenarios: results.length, notPassed: results.filter((x) => x.status !== 'passed').length, exitCode: r.exitCode };
      return { wallMs: r.wallMs, medianMs: median(results.map((x) => x.stop! - x.start!)) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return {
    scenarios: last.scenarios,
    wallSeconds: median(runs.map((r) => r.wallMs)) / 1000,
    medianScenarioMs: median(runs.map((r) => r.medianMs)),
    notPassed: last.notPassed,
    exitCode: last.exitCode,
    runs: options.runs,
  };
}
