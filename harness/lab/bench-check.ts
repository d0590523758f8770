/**
 * `usbfn-hil bench check`: is this bench usable, in seconds, before any scenario runs (a LAVA-style health
 * check). Steps, each stopping the check when it fails:
 *
 * 1. the device agent answers (token accepted);
 * 2. it speaks the same protocol (schema hash) as this harness;
 * 3. the USB function is present on the device;
 * 4. the lease can be taken (the bench is not held by someone else);
 * 5. a session opens and the service becomes active;
 * 6. the device enumerates on the host with the configured VID/PID at the bench's speed;
 * 7. one loopback through the function comes back byte-exact.
 *
 * Every failed step prints one line with its error (code, what, why, fix). The lab run's global setup runs
 * the same check and keeps the lease for the run.
 */
import { HarnessError, RealClock, type Clock } from '../../core/index.js';
import type { Health, LeaseInfo } from '../../device-side/index.js';
import type { UsbDeviceHandle, UsbHost } from '../../host-side/index.js';
import type { LabConfig } from './lab-config.js';
import { AgentClient } from './agent-client.js';
import { AgentLease } from './agent-lease.js';
import { describeDevice, openBenchFunction } from './bench-host.js';
import { Deadline } from './deadline.js';
import { LabBenchError } from './lab-agent-error.js';

/** The steps, in order. */
export const BENCH_CHECK_STEPS = [
  'agent reachable',
  'versions match',
  'function present',
  'lease',
  'session open',
  'device enumerates',
  'loopback',
] as const;
export type BenchCheckStepName = (typeof BENCH_CHECK_STEPS)[number];

export interface BenchCheckStep {
  readonly name: BenchCheckStepName;
  readonly outcome: 'ok' | 'failed' | 'skipped';
  /** What was found (ok), the error's message (failed), or why it did not run (skipped). */
  readonly detail: string;
  readonly elapsedMs: number;
  readonly error?: HarnessError | undefined;
}

export interface BenchCheckResult {
  readonly ok: boolean;
  readonly steps: readonly BenchCheckStep[];
  readonly elapsedMs: number;
  readonly health?: Health | undefined;
  /** The lease, still held, when the check passed and was asked to keep it. */
  readonly lease?: AgentLease | undefined;
}

export interface BenchCheckOptions {
  readonly config: LabConfig;
  readonly token: string;
  /** Default: a client built from the config. */
  readonly client?: AgentClient | undefined;
  /** Creates the host side (default `NodeUsbHost.create()`); the check closes it. */
  readonly host?: (() => Promise<UsbHost>) | undefined;
  /** How long to wait for a busy lease (default 0: report who holds it at once). */
  readonly leaseWaitMs?: number | undefined;
  /** A lease already taken for this bench (by `run --bench`): resumed and renewed instead of taking one. */
  readonly lease?: LeaseInfo | undefined;
  /** Keep the lease when the check passes (the lab run's global setup does; it releases it at the end). */
  readonly keepLease?: boolean | undefined;
  /** Called when a kept lease is lost later. */
  readonly onLeaseLost?: ((err: HarnessError) => void) | undefined;
  /** Bytes of the loopback (default 4096). */
  readonly loopbackBytes?: number | undefined;
  /** Bound of each wait on the device or host (default 10 000 ms). */
  readonly waitMs?: number | undefined;
  readonly clock?: Clock | undefined;
}

const DEFAULT_LOOPBACK_BYTES = 4096;
const DEFAULT_WAIT_MS = 10_000;

/** Runs the check; never throws for a bench problem (it is a failed step), only for harness bugs. */
export async function runBenchCheck(options: BenchCheckOptions): Promise<BenchCheckResult> {
  const { config } = options;
  const clock = options.clock ?? new RealClock();
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
  const client =
    options.client ?? new AgentClient({ url: config.agent.url, token: options.token, deadlineMs: config.agent.deadlineMs, heartbeatMs: config.agent.heartbeatMs });
  const started = clock.now();
  const steps: BenchCheckStep[] = [];
  let failed: BenchCheckStepName | undefined;

  async function step<T>(name: BenchCheckStepName, run: () => Promise<{ value: T; detail: string }>): Promise<T | undefined> {
    if (failed !== undefined) {
      steps.push({ name, outcome: 'skipped', detail: `not run: "${failed}" failed`, elapsedMs: 0 });
      return undefined;
    }
    const t0 = clock.now();
    try {
      const { value, detail } = await run();
      steps.push({ name, outcome: 'ok', detail, elapsedMs: clock.now() - t0 });
      return value;
    } catch (err) {
      if (!(err instanceof HarnessError)) throw err;
      failed = name;
      steps.push({ name, outcome: 'failed', detail: err.message, elapsedMs: clock.now() - t0, error: err });
      return undefined;
    }
  }

  let lease: AgentLease | undefined;
  let sessionId: string | undefined;
  let host: UsbHost | undefined;
  let handle: UsbDeviceHandle | undefined;
  let health: Health | undefined;
  try {
    health = await step('agent reachable', async () => {
      const h = await client.health();
      return { value: h, detail: `agent ${h.agentVersion} (${h.backend} backend on ${h.os.platform} ${h.os.release}, node ${h.node}), worker ${h.worker.state}` };
    });
    await step('versions match', async () => {
      const h = await client.checkVersion();
      return { value: h, detail: `protocol ${h.protocol}, schema ${h.schemaHash.slice(0, 12)}` };
    });
    await step('function present', async () => {
      const usbfn = health!.usbfn;
      if (!usbfn.present) {
        throw new LabBenchError('LAB_BENCH_CHECK_FAILED', {
          what: `the USB function (interface class ${usbfn.interfaceGuid}) on the device`,
          why: `no interface of that class is present${usbfn.problem === undefined ? '' : ` (${usbfn.problem})`}`,
          fix: 'Check on the device that GenericUSBFn.sys is loaded for the function and that the USBFN registry configuration names this InterfaceGUID (docs/win32-backend.md), then reboot or restart the function stack',
        });
      }
      return { value: usbfn, detail: usbfn.symbolicLink ?? usbfn.interfaceGuid };
    });
    lease = await step('lease', async () => {
      if (options.lease !== undefined) {
        const l = await AgentLease.resume(client, options.lease, { ttlMs: config.lease.ttlMs, onLost: options.onLeaseLost });
        return { value: l, detail: `${l.leaseId} held by ${JSON.stringify(l.holder)} (taken over from the bench pool)` };
      }
      const l = await AgentLease.acquire(client, {
        holder: config.lease.holder,
        runId: 'bench-check',
        ttlMs: config.lease.ttlMs,
        waitMs: options.leaseWaitMs ?? 0,
        onLost: options.onLeaseLost,
      });
      return { value: l, detail: `${l.leaseId} held by ${JSON.stringify(l.holder)}` };
    });
    sessionId = await step('session open', async () => {
      const s = await client.openSession({ leaseId: lease!.leaseId, name: 'usbfn-hil bench check', seed: 0, world: { fn: 'loopback', startService: true } });
      await client.waitFor(s.sessionId, { until: 'active', timeoutMs: waitMs });
      return { value: s.sessionId, detail: `${s.sessionId}, ${s.functionName} function active` };
    });
    const opened = await step('device enumerates', async () => {
      host = await (options.host ?? defaultHost)();
      const o = await openBenchFunction({ host, config, clock, deadline: new Deadline(clock, waitMs) });
      handle = o.handle;
      return { value: o, detail: `${describeDevice(config)} at ${o.info.speed} speed on host port ${o.info.id}` };
    });
    const bytes = options.loopbackBytes ?? DEFAULT_LOOPBACK_BYTES;
    await step('loopback', async () => {
      await client.waitFor(sessionId!, { until: 'configured', timeoutMs: waitMs });
      const t0 = clock.now();
      const r = await opened!.agent.loopback(bytes, { timeoutMs: waitMs });
      if (!r.ok) {
        throw new LabBenchError('LAB_BENCH_CHECK_FAILED', {
          what: `a ${bytes}-byte loopback through ${describeDevice(config)}`,
          why: `status ${r.status}, ${r.bytesWritten} bytes written, ${r.bytesRead} read, first wrong byte at ${r.firstMismatch}`,
          fix: 'Run the bulk scenarios in sim to rule out the function, then check the cable and the device log (`usbfn-hil run --mode lab --filter loopback`)',
        });
      }
      return { value: r, detail: `${bytes} bytes byte-exact in ${Math.round(clock.now() - t0)} ms` };
    });
  } finally {
    await (handle as UsbDeviceHandle | undefined)?.close().catch(() => undefined);
    await (host as UsbHost | undefined)?.close().catch(() => undefined);
    if (sessionId !== undefined) await client.closeSession(sessionId).catch(() => undefined);
  }
  const ok = failed === undefined;
  if (lease !== undefined && !(ok && options.keepLease === true)) {
    await lease.release().catch(() => undefined);
    lease = undefined;
  }
  return { ok, steps, elapsedMs: clock.now() - started, health, lease };
}

async function defaultHost(): Promise<UsbHost> {
  const { NodeUsbHost } = await import('../../host-side/index.js');
  return NodeUsbHost.create();
}

/** The check as the CLI prints it: a header, one line per step, a verdict. */
export function formatBenchCheck(config: LabConfig, result: BenchCheckResult): string {
  const lines = [`usbfn-hil bench check: bench ${config.bench.id}, agent ${config.agent.url}, ${describeDevice(config)}, ${config.bench.speed} speed`];
  const width = Math.max(...BENCH_CHECK_STEPS.map((s) => s.length));
  for (const s of result.steps) {
    const mark = s.outcome === 'ok' ? 'ok  ' : s.outcome === 'failed' ? 'FAIL' : 'skip';
    const time = s.outcome === 'skipped' ? '' : ` (${Math.round(s.elapsedMs)} ms)`;
    lines.push(`  ${mark}  ${s.name.padEnd(width)}  ${s.detail}${time}`);
  }
  const seconds = (result.elapsedMs / 1000).toFixed(1);
  const failedCount = result.steps.filter((s) => s.outcome === 'failed').length;
  lines.push(
    result.ok
      ? `usbfn-hil bench check: bench ${config.bench.id} is usable (${seconds} s)`
      : `usbfn-hil bench check: bench ${config.bench.id} is NOT usable: ${failedCount} check failed (${seconds} s)`,
  );
  return lines.join('\n');
}

/** The first failed step's error, for a one-line stop of a lab run. */
export function firstFailure(result: BenchCheckResult): BenchCheckStep | undefined {
  return result.steps.find((s) => s.outcome === 'failed');
}
