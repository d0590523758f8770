/**
 * `usbfn-hil` command line: `run` the scenario suite in a mode, build the HTML `report`, run the `doctor`.
 *
 *   usbfn-hil run [--mode sim|lab] [--filter <name pattern>] [--seed <n>] [--report] [--serve]
 *   usbfn-hil report [--serve] [--port <n>]
 *   usbfn-hil doctor [--vid 0x1209] [--pid 0x0001]
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HarnessError, UsageError } from '../../core/index.js';
import { parseSeed, SEED_ENV } from '../seed.js';
import { serveDirectory } from './serve-report.js';
import { commandUsbip, USBIP_USAGE } from './usbip-command.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RESULTS = join(ROOT, 'reports', 'allure-results');
const REPORT = join(ROOT, 'reports', 'allure-report');
const BIN = (name: string): string => join(ROOT, 'node_modules', '.bin', name);

const USAGE = `usage:
  usbfn-hil run [--mode sim|lab] [--filter <name pattern>] [--seed <n>] [--report] [--serve]
      Runs the scenario suite (default mode sim) and writes reports/allure-results.
      --report also writes the HTML report to reports/allure-report; --serve then serves it on 127.0.0.1.
  usbfn-hil report [--serve] [--port <n>]
      Generates reports/allure-report/index.html from reports/allure-results (Allure 3 CLI, offline).
  usbfn-hil doctor [--vid <id>] [--pid <id>]
      Lists the USB devices this host can see and explains what blocks access to the function.
${USBIP_USAGE}`;

/** Runs a child process with inherited stdio; resolves with its exit code. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: 'inherit' });
    child.once('error', fail);
    child.once('exit', (code, signal) => ok(code ?? (signal ? 128 : 1)));
  });
}

function parseId(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const v = /^0x[0-9a-f]{1,4}$/i.test(text) ? Number.parseInt(text, 16) : /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) {
    throw new UsageError('INVALID_ARGUMENT', `--${what} '${text}' is not a 16-bit USB id: use e.g. --${what} 0x1209`);
  }
  return v;
}

async function commandRun(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      mode: { type: 'string', default: 'sim' },
      filter: { type: 'string' },
      seed: { type: 'string' },
      report: { type: 'boolean', default: false },
      serve: { type: 'boolean', default: false },
      port: { type: 'string' },
    },
    strict: true,
  });
  const mode = values.mode;
  if (mode !== 'sim' && mode !== 'lab') {
    throw new UsageError('INVALID_ARGUMENT', `--mode '${mode}' is not a mode: use --mode sim (simulator) or --mode lab (real device)`);
  }
  const env: NodeJS.ProcessEnv = { ...process.env, USBFN_HIL_MODE: mode };
  if (values.seed !== undefined) env[SEED_ENV] = String(parseSeed(values.seed, '--seed'));
  // Each run's results stand alone; the report's history file keeps trends across runs.
  rmSync(RESULTS, { recursive: true, force: true });
  const args = ['run', '--project', mode];
  if (values.filter !== undefined) args.push('--testNamePattern', values.filter);
  args.push('--tags-filter', mode === 'sim' ? '!lab-only' : '!sim-only');
  console.log(`usbfn-hil: running the ${mode} suite${values.filter ? ` (filter '${values.filter}')` : ''}`);
  const code = await run(BIN('vitest'), args, env);
  if (values.report || values.serve) {
    const reportCode = await commandReport(values.serve ? ['--serve', ...(values.port ? ['--port', values.port] : [])] : []);
    if (reportCode !== 0) return reportCode;
  }
  return code;
}

async function commandReport(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { serve: { type: 'boolean', default: false }, port: { type: 'string' } },
    strict: true,
  });
  if (!existsSync(RESULTS)) {
    throw new UsageError('NO_RESULTS', `no results in ${RESULTS}: run the suite first (npx usbfn-hil run)`);
  }
  // Allure 3 writes into a plugin subfolder when the output folder is not empty: start from an empty one
  // (trends survive in reports/history.jsonl).
  rmSync(REPORT, { recursive: true, force: true });
  mkdirSync(REPORT, { recursive: true });
  cpSync(join(ROOT, 'reports', 'allure-categories.json'), join(RESULTS, 'categories.json'));
  const code = await run(BIN('allure'), ['generate', RESULTS, '--config', join(ROOT, 'reports', 'allurerc.mjs'), '--output', REPORT]);
  if (code !== 0) return code;
  console.log(`usbfn-hil: report written to ${join(REPORT, 'index.html')} (serve it: npx usbfn-hil report --serve)`);
  if (values.serve) {
    const port = values.port === undefined ? 0 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UsageError('INVALID_ARGUMENT', `--port '${values.port}' is not a TCP port: use 0..65535 (0 = any free port)`);
    }
    const { url } = await serveDirectory(REPORT, port);
    console.log(`usbfn-hil: serving the report at ${url} (Ctrl-C to stop)`);
    await new Promise<never>(() => undefined);
  }
  return 0;
}

async function commandDoctor(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { vid: { type: 'string' }, pid: { type: 'string' } },
    strict: true,
  });
  const { runDoctor, formatDoctorReport } = await import('../../host-side/index.js');
  const report = await runDoctor({ vendorId: parseId(values.vid, 'vid'), productId: parseId(values.pid, 'pid') });
  console.log(formatDoctorReport(report));
  return report.ok ? 0 : 1;
}

/** Entry point; returns the process exit code. Errors print their message, never a stack for usage errors. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await commandRun(rest);
      case 'report':
        return await commandReport(rest);
      case 'doctor':
        return await commandDoctor(rest);
      case 'usbip':
        return await commandUsbip(rest);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        console.log(USAGE);
        return command === undefined ? 2 : 0;
      default:
        console.error(`usbfn-hil: unknown command '${command}'\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof HarnessError) {
      console.error(`usbfn-hil: ${err.message}`);
      return 2;
    }
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) {
      console.error(`usbfn-hil: ${err.message}\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}
