/**
 * `usbfn-hil run`: runs the scenario suite in a world (sim by default) through vitest and prints the run
 * summary; `--report` builds the HTML report afterwards.
 *
 * Everything that can be wrong before the first scenario (arguments, the lab configuration) is reported
 * as one line with exit 2, before the previous results are touched.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../../core/index.js';
import type { RunSummary } from '../report/index.js';
import { parseSeed, SEED_ENV } from '../seed.js';
import { runChild } from './child-process.js';
import { parseCommandArgs, parsePort, type Command } from './command.js';
import { REPORTS_DIR, RESULTS_DIR, ROOT, RUN_SUMMARY_FILE, toolCommand } from './paths.js';
import { buildReport, serveBuiltReport } from './report-command.js';
import { closestNames, scenarioSelection } from '../scenario-filter.js';
import { modeArgs, listScenarios } from './scenario-listing.js';
import { parseRunMode, type RunMode } from './run-mode.js';
import { commitSeed, filesOfShard, parseShard } from './shard.js';

const usage = `usage: usbfn-hil run [--mode sim|lab|lab-sim] [--filter <text> | --grep <regex> | --scenario <path>]
                     [--seed <n>] [--shard <i>/<N>] [--report [--single-file]] [--serve [--port <n>]]
                     [<file>...]
  Runs the scenario suite and writes reports/allure-results (scenarios only).
  --mode sim        the simulator (default): any OS, no hardware
  --mode lab        a real device through its agent and this host's libusb (needs usbfn-hil.lab.json)
  --mode lab-sim    the lab code path without hardware: a device agent (sim backend) in its own process,
                    the host side over USB/IP, the real clock; scenarios tagged sim-only or slow are left out
  --filter <text>   only scenarios whose name contains <text> (literal: ( ? . mean themselves)
  --grep <regex>    only scenarios whose name matches the regular expression
  --scenario <path> exactly one scenario, '<file> > <describe> > <title>' as a replay line prints it
  --seed <n>        the run seed (decimal or 0x-hex); default USBFN_HIL_SEED or a fresh one
  --trace           lab, lab-sim: every session records a device trace (every IOCTL and CM notification),
                    attached to its result; check one with usbfn-hil trace check <file>
  --bench <id|tag>  lab: take a free bench of the inventory (usbfn-hil.benches.json or USBFN_HIL_BENCHES)
                    with that id or tag, by its lease; waits while all are busy (--bench-wait <ms>,
                    default 600000)
  --shard <i>/<N>   run the i-th of N shards (whole files, balanced by scenario count); every shard uses
                    the same run seed (given, or derived from the git commit); merge the shards' results
                    with: usbfn-hil report --merge <dir>...
  --report          build the HTML report after the run (--single-file: also one self-contained file)
  --serve           build and serve the report on 127.0.0.1 after the run (--port <n>: its port)
  <file>...         only these scenario files (paths under scenarios/)
A selection that matches no scenario is an error (exit 2) that names the closest scenarios.`;

function readSummary(since: number): RunSummary | undefined {
  if (!existsSync(RUN_SUMMARY_FILE) || statSync(RUN_SUMMARY_FILE).mtimeMs < since) return undefined;
  return JSON.parse(readFileSync(RUN_SUMMARY_FILE, 'utf8')) as RunSummary;
}

/**
 * Checks of a mode that must pass before any scenario runs (lab: the configuration loads and the agent's
 * token is set). Returns what the run's environment needs: the lab configuration as an absolute path, so
 * that the run (working in the package root) reads the file this check read (a relative
 * USBFN_HIL_LAB_CONFIG means relative to where the user is; the default file is in the package root).
 */
async function preflight(mode: RunMode, env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  if (mode !== 'lab') return {};
  const { DEFAULT_LAB_CONFIG, LAB_CONFIG_ENV, loadLabConfig, readAgentToken } = await import('../lab/index.js');
  const merged = { ...process.env, ...env };
  const given = merged[LAB_CONFIG_ENV];
  const path = given === undefined || given === '' ? join(ROOT, DEFAULT_LAB_CONFIG) : resolve(given);
  readAgentToken(loadLabConfig({ ...merged, [LAB_CONFIG_ENV]: path }), merged);
  return { [LAB_CONFIG_ENV]: path };
}

/** Where the previous run's results wait while a run starts (see {@link setResultsAside}). */
const PREVIOUS_RESULTS_DIR = join(REPORTS_DIR, '.allure-results.previous');

/**
 * Each run's results stand alone (the history file keeps trends across runs), but a run that stops before
 * its first scenario (a lab bench that fails its check, a selection that matches nothing) must not cost
 * the previous results: they are set aside here, and {@link settleResults} drops or restores them.
 */
function setResultsAside(): void {
  rmSync(PREVIOUS_RESULTS_DIR, { recursive: true, force: true });
  if (existsSync(RESULTS_DIR)) renameSync(RESULTS_DIR, PREVIOUS_RESULTS_DIR);
}

/** After the run: true when a scenario wrote a result (the previous results go), false when they were put back. */
function settleResults(): boolean {
  const ran = existsSync(RESULTS_DIR) && readdirSync(RESULTS_DIR).some((f) => f.endsWith('-result.json'));
  if (ran) {
    rmSync(PREVIOUS_RESULTS_DIR, { recursive: true, force: true });
  } else if (existsSync(PREVIOUS_RESULTS_DIR)) {
    rmSync(RESULTS_DIR, { recursive: true, force: true });
    renameSync(PREVIOUS_RESULTS_DIR, RESULTS_DIR);
  }
  return ran;
}

function parseWait(text: string | undefined): number {
  if (text === undefined) return 600_000;
  if (!/^\d{1,9}$/.test(text)) throw new UsageError('INVALID_ARGUMENT', `--bench-wait '${text}' is not a number of milliseconds: e.g. --bench-wait 600000 (10 minutes)`);
  return Number(text);
}

/**
 * `--bench`: takes a free bench of the inventory by its lease (waiting while all are busy) and returns the
 * environment that hands its lab configuration and the lease to the run.
 */
async function takeBenchForRun(selector: string, waitMs: number): Promise<NodeJS.ProcessEnv> {
  const { benchesMatching, HANDED_LEASE_ENV, loadBenchInventory, takeBench } = await import('../lab/index.js');
  const { LAB_CONFIG_ENV } = await import('../lab/index.js');
  const inventory = loadBenchInventory();
  const candidates = benchesMatching(inventory, selector);
  console.log(`usbfn-hil: taking a free bench of ${candidates.map((c) => c.config.bench.id).join(', ')} (waiting up to ${Math.round(waitMs / 1000)} s)`);
  const taken = await takeBench(candidates, {
    holder: `${hostname()} pid ${process.pid} (usbfn-hil run)`,
    waitMs,
    onWait: (statuses, leftMs) =>
      console.log(`usbfn-hil: all busy (${statuses.map((s) => `${s.id}: ${s.state}`).join(', ')}); waiting, ${Math.round(leftMs / 1000)} s left`),
  });
  const dir = mkdtempSync(join(tmpdir(), 'usbfn-hil-bench-'));
  const file = join(dir, `${taken.bench.config.bench.id}.lab.json`);
  writeFileSync(file, JSON.stringify(taken.bench.entry, null, 2));
  console.log(`usbfn-hil: bench ${taken.bench.config.bench.id} [${taken.bench.config.bench.tags.join(', ')}] taken${taken.waitedMs > 1000 ? ` after ${Math.round(taken.waitedMs / 1000)} s` : ''} (lease ${taken.lease.leaseId})`);
  return { [LAB_CONFIG_ENV]: file, [HANDED_LEASE_ENV]: JSON.stringify(taken.lease) };
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run the scenario suite (sim by default) and summarise it',
  usage,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      this,
      argv,
      {
        mode: { type: 'string', default: 'sim' },
        filter: { type: 'string' },
        grep: { type: 'string' },
        scenario: { type: 'string' },
        seed: { type: 'string' },
        report: { type: 'boolean', default: false },
        'single-file': { type: 'boolean', default: false },
        serve: { type: 'boolean', default: false },
        port: { type: 'string' },
        shard: { type: 'string' },
        bench: { type: 'string' },
        trace: { type: 'boolean', default: false },
        'bench-wait': { type: 'string' },
      },
      true,
    );
    const mode = parseRunMode(values.mode);
    let seed = values.seed === undefined ? undefined : parseSeed(values.seed, '--seed');
    const shard = parseShard(values.shard);
    const port = parsePort(values.port);
    if (port !== undefined && !values.serve) throw new UsageError('INVALID_ARGUMENT', '--port is for --serve: add --serve, or leave --port out');
    const selection = scenarioSelection(values);
    for (const file of positionals) {
      if (!existsSync(join(ROOT, file))) throw new UsageError('INVALID_ARGUMENT', `no scenario file '${file}': give a path under scenarios/, e.g. scenarios/bulk/loopback.test.ts`);
    }
    if (values.trace && mode === 'sim') {
      throw new UsageError('INVALID_ARGUMENT', "--trace records the device agent's device trace: it is for --mode lab or lab-sim (in sim every scenario already carries the driver's log)");
    }
    if ((values.bench !== undefined || values['bench-wait'] !== undefined) && mode !== 'lab') {
      throw new UsageError('INVALID_ARGUMENT', '--bench and --bench-wait choose a lab bench: add --mode lab');
    }
    const benchWaitMs = parseWait(values['bench-wait']);
    if (values.serve) await (await import('./report-server.js')).checkPortFree(port ?? 0);
    const benchEnv = values.bench === undefined ? {} : await takeBenchForRun(values.bench, benchWaitMs);
    const preflightEnv = await preflight(mode, benchEnv);

    let shardFiles: string[] = [];
    if (shard !== undefined) {
      if (seed === undefined && (process.env[SEED_ENV] ?? '') === '') {
        const derived = commitSeed();
        seed = derived.seed;
        console.log(`usbfn-hil: run seed 0x${seed.toString(16).padStart(8, '0')} derived from commit ${derived.commit.slice(0, 12)} (the same on every shard)`);
      }
      const listed = await listScenarios(mode, selection.namePattern, [...selection.files, ...positionals]);
      const counts = new Map<string, number>();
      for (const t of listed) counts.set(t.file, (counts.get(t.file) ?? 0) + 1);
      shardFiles = filesOfShard(counts, shard);
      const n = shardFiles.reduce((sum, f) => sum + counts.get(f)!, 0);
      console.log(`usbfn-hil: shard ${shard.index}/${shard.count}: ${shardFiles.length} files, ${n} of ${listed.length} scenarios`);
      if (shardFiles.length === 0) {
        rmSync(RESULTS_DIR, { recursive: true, force: true });
        console.log('usbfn-hil: nothing to run in this shard (more shards than scenario files)');
        return 0;
      }
    }

    setResultsAside();
    const env: NodeJS.ProcessEnv = { ...process.env, ...benchEnv, ...preflightEnv, USBFN_HIL_MODE: mode, USBFN_HIL_CLI_RUN: '1', ...(values.trace ? { USBFN_HIL_TRACE: '1' } : {}) };
    if (seed !== undefined) env[SEED_ENV] = String(seed);
    const vitest = toolCommand('vitest');
    const args = [...vitest.args, 'run', ...modeArgs(mode)];
    if (selection.namePattern !== undefined) args.push('--testNamePattern', selection.namePattern);
    args.push(...(shard === undefined ? [...selection.files, ...positionals] : shardFiles));
    console.log(`usbfn-hil: running the ${mode} suite${selection.description === undefined ? '' : ` (${selection.description})`}`);
    const started = Date.now();
    let code: number;
    let ran: boolean;
    try {
      code = await runChild(vitest.cmd, args, env);
    } finally {
      ran = settleResults();
    }

    const summary = readSummary(started - 1000);
    if (summary !== undefined && summary.selected === 0 && selection.description !== undefined) {
      const query = values.filter ?? values.grep ?? values.scenario ?? '';
      const near = closestNames(query, summary.scenarios.map((s) => s.path));
      throw new UsageError(
        'NO_MATCH',
        `no scenario matched (${selection.description}). Closest scenarios:\n${near.map((n) => `  ${n}`).join('\n')}\n` +
          `run one with --scenario '<one of the lines above>'; npx usbfn-hil list shows every scenario`,
      );
    }
    if (!ran) {
      // A run that stopped (exit ≠ 0) has said why; one that simply selected nothing says so here.
      if (code === 0) console.error('usbfn-hil: no scenario ran (the previous results in reports/allure-results are kept)');
      return code === 0 ? 2 : code;
    }
    if (values.report || values.serve) {
      const reportCode = await buildReport({ dirs: [RESULTS_DIR], singleFile: values['single-file'], force: false });
      if (reportCode !== 0) return reportCode;
      if (values.serve) return serveBuiltReport(port ?? 0);
    }
    return code;
  },
};
