/**
 * `usbfn-hil report`: builds the HTML report from reports/allure-results (or from several results folders
 * of a sharded run, `--merge`), optionally as one self-contained file, and serves it on 127.0.0.1.
 *
 * A report is rebuilt only when its results changed, so viewing a report never records the same run twice
 * in the history (reports/history.jsonl). The server and the summary table load when used, so that
 * `usbfn-hil run --help` and `report --help` answer at once.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../../core/index.js';
import { runChild } from './child-process.js';
import { parseCommandArgs, parsePort, type Command } from './command.js';
import { ALLURE_CONFIG, REPORT_DIR, REPORTS_DIR, RESULTS_DIR, SINGLE_FILE_REPORT, toolCommand } from './paths.js';
import { patchReportHtml } from './report-html.js';
import { summarizeResults } from './results-summary.js';

const STAMP = join(REPORT_DIR, '.usbfn-hil-results.json');

const usage = `usage: usbfn-hil report [--serve] [--port <n>] [--single-file] [--force] [--merge <results-dir>...]
  Builds reports/allure-report/ (a multi-file site: serve it) from reports/allure-results.
  --serve           serve the report on 127.0.0.1 (Ctrl-C stops)
  --port <n>        port for --serve (default: any free port)
  --single-file     also write reports/usbfn-hil-report.html: the whole report in one file that opens
                    from file:// and travels as one CI artifact
  --merge <dir>...  build one report from several results folders (the shards of a sharded run);
                    the merged report is the one history writer
  --force           rebuild even if the results did not change`;

/** Result files of a results folder (what a report is built from). */
function resultFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('-result.json'));
}

/** A fingerprint of the results: names and sizes of every file, so an unchanged folder is recognised. */
function fingerprint(dirs: readonly string[]): string {
  const h = createHash('sha256');
  for (const dir of dirs) {
    h.update(`${dir}\n`);
    for (const f of readdirSync(dir).sort()) h.update(`${f}:${statSync(join(dir, f)).size}\n`);
  }
  return h.digest('hex');
}

function checkResults(dirs: readonly string[]): void {
  for (const dir of dirs) {
    if (!existsSync(dir)) throw new UsageError('NO_RESULTS', `no results folder ${dir}: run the suite first (npx usbfn-hil run)`);
    if (resultFiles(dir).length === 0) {
      throw new UsageError('NO_RESULTS', `${dir} holds no scenario results: run the suite first (npx usbfn-hil run); unit tests are not reported`);
    }
  }
}

/** Runs `allure generate` into `output`, then patches its index.html (see report-html.ts). */
async function allureGenerate(dirs: readonly string[], output: string, env: NodeJS.ProcessEnv, singleFile: boolean): Promise<number> {
  const allure = toolCommand('allure');
  const code = await runChild(allure.cmd, [...allure.args, 'generate', ...dirs, '--config', ALLURE_CONFIG, '--output', output], env);
  const page = join(output, 'index.html');
  if (code === 0 && existsSync(page)) writeFileSync(page, patchReportHtml(readFileSync(page, 'utf8'), { singleFile }));
  return code;
}

/** Builds the multi-file report (and the single file), unless it is up to date. Returns an exit code. */
export async function buildReport(opts: { dirs: readonly string[]; singleFile: boolean; force: boolean }): Promise<number> {
  checkResults(opts.dirs);
  for (const dir of opts.dirs) cpSync(join(REPORTS_DIR, 'allure-categories.json'), join(dir, 'categories.json'));
  const stamp = fingerprint(opts.dirs);
  const upToDate = !opts.force && existsSync(STAMP) && (JSON.parse(readFileSync(STAMP, 'utf8')) as { stamp?: string }).stamp === stamp;
  if (upToDate) {
    console.log(`usbfn-hil: the report is up to date with the results (${join(REPORT_DIR, 'index.html')})`);
  } else {
    // Allure 3 writes into a plugin subfolder when the output folder is not empty: start from an empty one.
    rmSync(REPORT_DIR, { recursive: true, force: true });
    mkdirSync(REPORT_DIR, { recursive: true });
    const code = await allureGenerate(opts.dirs, REPORT_DIR, process.env, false);
    if (code !== 0) return code;
    writeFileSync(STAMP, JSON.stringify({ stamp, dirs: opts.dirs }));
    console.log(`usbfn-hil: report written to ${REPORT_DIR} (view it: npx usbfn-hil report --serve)`);
  }
  if (opts.singleFile && (!upToDate || !existsSync(SINGLE_FILE_REPORT))) {
    const tmp = mkdtempSync(join(tmpdir(), 'usbfn-hil-report-'));
    try {
      // The single file is another rendering of the same run: it must not add a second history entry.
      const code = await allureGenerate(opts.dirs, tmp, { ...process.env, USBFN_HIL_SINGLE_FILE: '1', USBFN_HIL_NO_HISTORY: '1' }, true);
      if (code !== 0) return code;
      cpSync(join(tmp, 'index.html'), SINGLE_FILE_REPORT);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    console.log(`usbfn-hil: single-file report written to ${SINGLE_FILE_REPORT} (opens from file://)`);
  }
  return 0;
}

/** Serves the built report until the process is stopped. */
export async function serveBuiltReport(port: number): Promise<never> {
  const { serveReport } = await import('./report-server.js');
  const served = await serveReport(REPORT_DIR, { port });
  console.log(`usbfn-hil: serving the report at ${served.url} (Ctrl-C to stop)`);
  const stop = (): void => {
    void served.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return new Promise<never>(() => undefined);
}

export const reportCommand: Command = {
  name: 'report',
  summary: 'build (and serve) the HTML report of the last run',
  usage,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(this, argv, {
      serve: { type: 'boolean', default: false },
      port: { type: 'string' },
      'single-file': { type: 'boolean', default: false },
      merge: { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
    }, true);
    if (positionals.length > 0 && !values.merge) {
      throw new UsageError('INVALID_ARGUMENT', `unexpected '${positionals[0]}': results folders are given after --merge`);
    }
    if (values.merge && positionals.length === 0) {
      throw new UsageError('INVALID_ARGUMENT', '--merge needs the results folders to merge, e.g. --merge shard-1/allure-results shard-2/allure-results');
    }
    // Every argument is checked before anything is deleted or rebuilt.
    const port = parsePort(values.port);
    if (port !== undefined && !values.serve) throw new UsageError('INVALID_ARGUMENT', '--port is for --serve: add --serve, or leave --port out');
    if (values.serve) await (await import('./report-server.js')).checkPortFree(port ?? 0);
    const dirs = values.merge ? positionals.map((d) => resolve(d)) : [RESULTS_DIR];
    const code = await buildReport({ dirs, singleFile: values['single-file'], force: values.force });
    if (code === 0 && values.merge) console.log((await import('../report/index.js')).formatRunSummary(summarizeResults(dirs)));
    if (code !== 0 || !values.serve) return code;
    return serveBuiltReport(port ?? 0);
  },
};
