/**
 * The CLI tier's way of meeting the CLI: `node harness/cli/bin.js …` as a child process of this checkout,
 * exactly what the `usbfn-hil` bin runs, with the output captured and the exit code returned. Long-running
 * commands (`report --serve`) are started, read until they say where they listen, and stopped by signal.
 *
 * The CLI writes into this checkout's reports/ and the replay check writes a scenario into scenarios/, so
 * the tier runs its files one at a time and must not run beside another run of the suite in this checkout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const BIN = join(ROOT, 'harness', 'cli', 'bin.js');
export const REPORTS = join(ROOT, 'reports');
export const RESULTS = join(REPORTS, 'allure-results');
export const REPORT_SITE = join(REPORTS, 'allure-report');
export const SINGLE_FILE = join(REPORTS, 'usbfn-hil-report.html');
export const HISTORY = join(REPORTS, 'history.jsonl');
export const RUN_SUMMARY = join(REPORTS, 'run-summary.json');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr as they arrived. */
  readonly output: string;
  readonly wallMs: number;
}

/**
 * The environment of a child: this process's, without what the enclosing vitest run and a user's shell
 * would hand down and change the CLI's behaviour (seed, mode, lab config), without colours.
 */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(VITEST|USBFN_HIL_)/.test(k) || k === 'NODE_ENV' || k === 'FORCE_COLOR' || k === 'TEST') continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

function collect(child: ChildProcess, timeoutMs: number, what: string): Promise<CliResult> {
  const t0 = performance.now();
  let stdout = '';
  let stderr = '';
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => ((stdout += s), (output += s)));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => ((stderr += s), (output += s)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killTree(child, 'SIGKILL');
      reject(new Error(`${what} did not end within ${timeoutMs} ms; output so far:\n${output}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, output, wallMs: performance.now() - t0 });
    });
  });
}

/** Signals the child's whole process group (the CLI's own children: vitest, allure). */
function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/** Runs `usbfn-hil <args>` to its end. Never rejects on a non-zero exit; rejects after `timeoutMs`. */
export function runCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  return collect(child, options.timeoutMs ?? 120_000, `usbfn-hil ${args.join(' ')}`);
}

/** Runs a command line through `sh -c` (a printed replay line, quoting and all). */
export function runShell(line: string, options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  const child = spawn('sh', ['-c', line], { cwd: ROOT, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  return collect(child, options.timeoutMs ?? 120_000, `sh -c ${line}`);
}

/** A command left running (a server). */
export interface RunningCli {
  /** The first match of the awaited pattern. */
  readonly match: RegExpMatchArray;
  /** Output so far. */
  output(): string;
  /** SIGTERM, then the result. */
  stop(): Promise<CliResult>;
}

/**
 * Starts `usbfn-hil <args>` and resolves once its output matches `ready`.
 * @throws Error when it exits first or says nothing matching within `timeoutMs` (with its output).
 */
export function startCli(args: readonly string[], ready: RegExp, options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunningCli> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const ended = collect(child, 10 * 60_000, `usbfn-hil ${args.join(' ')}`);
  let seen = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killTree(child, 'SIGKILL');
      reject(new Error(`usbfn-hil ${args.join(' ')} printed nothing matching ${ready} within ${options.timeoutMs ?? 60_000} ms:\n${seen}`));
    }, options.timeoutMs ?? 60_000);
    let told = false;
    const look = (s: string): void => {
      seen += s;
      const match = told ? null : ready.exec(seen);
      if (match === null) return;
      told = true;
      clearTimeout(timer);
      resolve({
        match,
        output: () => seen,
        stop: () => {
          killTree(child, 'SIGTERM');
          return ended;
        },
      });
    };
    child.stdout?.on('data', look);
    child.stderr?.on('data', look);
    void ended.then((r) => {
      clearTimeout(timer);
      reject(new Error(`usbfn-hil ${args.join(' ')} ended (exit ${r.code}) before printing ${ready}:\n${r.output}`));
    }, reject);
  });
}

/** Non-empty output lines. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** A folder's files with size and modification time (empty when it does not exist), to prove it untouched. */
export function snapshot(dir: string): Record<string, string> {
  if (!existsSync(dir)) return {};
  const out: Record<string, string> = { '.': `dir ${statSync(dir).mtimeMs}` };
  for (const f of readdirSync(dir).sort()) {
    const st = statSync(join(dir, f));
    out[f] = `${st.size} ${st.mtimeMs}`;
  }
  return out;
}

/** The last run's summary (reports/run-summary.json). */
export function runSummary(): { selected: number; totals: Record<'passed' | 'failed' | 'broken' | 'skipped', number>; scenarios: { path: string; outcome: string; selected: boolean }[] } {
  return JSON.parse(readFileSync(RUN_SUMMARY, 'utf8')) as ReturnType<typeof runSummary>;
}

/** Lines of reports/history.jsonl (0 when there is none). */
export function historyEntries(): number {
  return existsSync(HISTORY) ? lines(readFileSync(HISTORY, 'utf8')).length : 0;
}

/** Result files of reports/allure-results. */
export function resultFiles(): string[] {
  return existsSync(RESULTS) ? readdirSync(RESULTS).filter((f) => f.endsWith('-result.json')) : [];
}

/** A process stack trace or vitest's error boxes: what a usage error must never show. */
export const NOISE = /\n\s+at |Unhandled Error|No test files found|Startup Error|node:internal/;
