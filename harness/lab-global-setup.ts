/**
 * globalSetup of the `lab` project: before any scenario runs, validate the lab config and the token, then run
 * `usbfn-hil bench check` (agent, versions, lease, session, enumeration at the bench's speed, one loopback).
 * A bench that cannot run the suite stops the run here, in seconds, before a single result is written: one
 * line per problem on stderr and exit code 2, like every other usage error of the CLI.
 *
 * When the check passes, the run keeps the lease (renewed in the background until the run ends) and hands
 * it to the scenario processes with the path of the run's broken latch (`inject('labRun')`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { HarnessError } from '../core/index.js';
import { loadLabConfig, readAgentToken, type LabConfig, FileBenchLatch, formatBenchCheck, HANDED_LEASE_ENV, runBenchCheck, type AgentLease } from './lab/index.js';
import type { LeaseInfo } from '../device-side/index.js';
import type { LabRunContext } from './rig.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The lab run's lease and broken latch (lab project only). */
    labRun: LabRunContext | undefined;
  }
}

/** Stops the run before any scenario: one clear line (per problem) and exit code 2. */
function stop(lines: string): never {
  console.error(lines);
  process.exit(2);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // `usbfn-hil list` (and `run --shard`'s count) only collects: no scenario runs, so no bench is needed.
  if (process.env['USBFN_HIL_LIST'] === '1') return async () => undefined;
  let config: LabConfig;
  let token: string;
  try {
    config = loadLabConfig();
    token = readAgentToken(config);
  } catch (err) {
    if (err instanceof HarnessError) stop(`usbfn-hil: ${err.message}`);
    throw err;
  }
  const dir = mkdtempSync(join(tmpdir(), 'usbfn-hil-lab-'));
  const latch = new FileBenchLatch(join(dir, 'bench-broken.json'));
  // `run --bench` took this bench from the pool by its lease and hands the lease over.
  const handed = process.env[HANDED_LEASE_ENV];
  const result = await runBenchCheck({
    config,
    token,
    lease: handed === undefined || handed === '' ? undefined : (JSON.parse(handed) as LeaseInfo),
    keepLease: true,
    leaseWaitMs: config.lease.waitMs,
    onLeaseLost: (err) => latch.latch('(lease renewal)', err),
  });
  if (!result.ok) {
    rmSync(dir, { recursive: true, force: true });
    const failed = result.steps.filter((s) => s.outcome === 'failed').map((s) => `usbfn-hil: bench check "${s.name}" failed: ${s.detail}`);
    stop([...failed, 'usbfn-hil: the lab run stopped before any scenario ran (no results written); fix the bench and rerun'].join('\n'));
  }
  console.log(formatBenchCheck(config, result));
  const lease = result.lease as AgentLease;
  project.provide('labRun', { leaseId: lease.leaseId, holder: lease.holder, expiresAtMs: lease.info.expiresAtMs, latchPath: latch.path });
  return async () => {
    const cause = latch.broken();
    if (cause !== undefined) {
      console.error(`usbfn-hil: bench ${config.bench.id} latched broken in "${cause.scenario}": ${cause.error.message}\nusbfn-hil: the scenarios after it were skipped with that cause`);
    }
    await lease.release().catch((err: unknown) => console.error(`usbfn-hil: could not release lease ${lease.leaseId}: ${err instanceof Error ? err.message : String(err)}`));
    rmSync(dir, { recursive: true, force: true });
  };
}
