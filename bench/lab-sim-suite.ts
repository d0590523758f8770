/**
 * labSim (issues 12 and 13): the scenario suite through the lab code path — the device agent (sim backend)
 * in its own process over HTTP, the host side over USB/IP on 127.0.0.1, the real clock — against the same
 * scenarios in process. Three runs of `vitest --project <p>` with the scenario selection of
 * `usbfn-hil run --mode lab-sim` (no slow, sim-only or local-host scenarios):
 * - lab-sim: its wall time (target: the whole suite within 90 s on 2 cores);
 * - sim on the wall clock (`USBFN_HIL_SIM_CLOCK=real`): the same scenarios in process, waiting the same real
 *   time, so the ratio of the two is what the agent, HTTP and USB/IP add (target ≤ 3×);
 * - sim on virtual time, as `npm test` runs them, for reference.
 * Scenarios are matched by name and speed; only those that passed in all three count in the ratio.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modeArgs } from '../harness/cli/index.js';
import { atMost, exact, row, type Row } from './verdict.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONFIG = fileURLToPath(new URL('./suite.vitest.config.ts', import.meta.url));
const RUN_TIMEOUT_MS = 600_000;

export const LAB_SIM_TARGETS = { wallSeconds: 90, agentOverRealTimeSim: 3 } as const;

export interface LabSimFigures {
  /** lab-sim: spawn to exit. */
  readonly wallSeconds: number;
  readonly passed: number;
  readonly notPassed: number;
  /** Scenarios that passed in all three runs. */
  readonly compared: number;
  /** Sum of their durations through the agent over the sum in process on the wall clock. */
  readonly agentOverRealTimeSim: number;
  /** The same sums in seconds, and the in-process virtual-time sum. */
  readonly labSimSeconds: number;
  readonly realTimeSimSeconds: number;
  readonly virtualSimSeconds: number;
  readonly realTimeSimWallSeconds: number;
}

interface Result {
  readonly name?: string;
  readonly fullName?: string;
  readonly status?: string;
  readonly start?: number;
  readonly stop?: number;
  readonly labels?: readonly { name: string; value: string }[];
}

interface ProjectRun {
  readonly wallMs: number;
  /** Passed scenarios by name and speed → duration ms. */
  readonly passed: Map<string, number>;
  readonly notPassed: number;
}

function runProject(project: 'sim' | 'lab-sim', env: NodeJS.ProcessEnv): Promise<ProjectRun> {
  const dir = mkdtempSync(join(tmpdir(), `usbfn-bench-${project}-`));
  const [, , , filter] = modeArgs('lab-sim');
  const args = [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--config', CONFIG, '--project', project, '--tags-filter', filter!];
  return new Promise<ProjectRun>((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...env, BENCH_ALLURE_DIR: dir, USBFN_HIL_SEED: '0x1ab5', USBFN_HIL_MODE: project, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (d: Buffer): void => void (output = (output + d.toString()).slice(-4000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGTERM'), RUN_TIMEOUT_MS);
    const done = (err: Error | undefined, run?: ProjectRun): void => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      if (err !== undefined) reject(err);
      else resolve(run!);
    };
    child.on('error', (e) => done(e));
    child.on('close', (code) => {
      const wallMs = performance.now() - t0;
      try {
        const results = readdirSync(dir)
          .filter((f) => f.endsWith('-result.json'))
          .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Result)
          .filter((r) => r.status !== 'skipped');
        if (results.length === 0) throw new Error(`labSim: vitest --project ${project} reported no scenario (exit ${code}); its output ends:\n${output}`);
        const passed = new Map<string, number>();
        for (const r of results) {
          if (r.status !== 'passed' || r.start === undefined || r.stop === undefined) continue;
          const speed = r.labels?.find((l) => l.name === 'speed')?.value ?? '';
          passed.set(`${r.fullName ?? ''}|${r.name ?? ''}|${speed}`, r.stop - r.start);
        }
        done(undefined, { wallMs, passed, notPassed: results.length - passed.size });
      } catch (err) {
        done(err as Error);
      }
    });
  });
}

/** @throws Error when a run reports no scenario (it did not run). */
export async function measureLabSimSuite(log?: (msg: string) => void): Promise<LabSimFigures> {
  const lab = await runProject('lab-sim', {});
  log?.(`  lab-sim: ${(lab.wallMs / 1000).toFixed(1)} s, ${lab.passed.size} passed, ${lab.notPassed} not`);
  const real = await runProject('sim', { USBFN_HIL_SIM_CLOCK: 'real' });
  log?.(`  sim on the wall clock: ${(real.wallMs / 1000).toFixed(1)} s, ${real.passed.size} passed`);
  const virtual = await runProject('sim', {});
  const common = [...lab.passed.keys()].filter((k) => real.passed.has(k) && virtual.passed.has(k));
  const sum = (run: ProjectRun): number => common.reduce((s, k) => s + run.passed.get(k)!, 0);
  return {
    wallSeconds: lab.wallMs / 1000,
    passed: lab.passed.size,
    notPassed: lab.notPassed,
    compared: common.length,
    agentOverRealTimeSim: sum(lab) / Math.max(1, sum(real)),
    labSimSeconds: sum(lab) / 1000,
    realTimeSimSeconds: sum(real) / 1000,
    virtualSimSeconds: sum(virtual) / 1000,
    realTimeSimWallSeconds: real.wallMs / 1000,
  };
}

/** bench/run.ts's rows and notes for `labSim`. */
export async function labSimEntry(log: (msg: string) => void): Promise<{ rows: Row[]; notes: string[] }> {
  const f = await measureLabSimSuite(log);
  return {
    rows: [
      // Every scenario must pass and some must be compared: a faster but failing run is a FAIL.
      row(`labSim.wallSeconds (${f.passed} scenarios)`, `${f.wallSeconds.toFixed(1)} s`, `≤ ${LAB_SIM_TARGETS.wallSeconds} s`, f.notPassed === 0 ? atMost(f.wallSeconds, LAB_SIM_TARGETS.wallSeconds) : exact(false)),
      row(
        `labSim.agentOverRealTimeSim (${f.compared} scenarios)`,
        `${f.agentOverRealTimeSim.toFixed(2)}×`,
        `≤ ${LAB_SIM_TARGETS.agentOverRealTimeSim}×`,
        f.compared > 0 ? atMost(f.agentOverRealTimeSim, LAB_SIM_TARGETS.agentOverRealTimeSim) : exact(false),
      ),
    ],
    notes: [
      `labSim: vitest --project lab-sim with usbfn-hil run --mode lab-sim's selection: ${f.passed} passed, ${f.notPassed} not; ` +
        `scenario time through the agent ${f.labSimSeconds.toFixed(1)} s against ${f.realTimeSimSeconds.toFixed(1)} s in process on the wall clock ` +
        `(that run: ${f.realTimeSimWallSeconds.toFixed(1)} s wall) and ${f.virtualSimSeconds.toFixed(2)} s on virtual time (npm test)`,
    ],
  };
}
