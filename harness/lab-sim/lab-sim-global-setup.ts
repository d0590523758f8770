/**
 * globalSetup of the `lab-sim` project: starts the device agent with the sim backend as its own process,
 * writes the lab configuration of that bench, and then does what a lab run does (bench check, lease, broken
 * latch) through the same code, with the host side over USB/IP. A bench that fails its check stops the run
 * before any scenario, exactly as in lab.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { UsbIpUsbHost } from '../../host-side/index.js';
import { loadLabConfig, FileBenchLatch, formatBenchCheck, runBenchCheck, type AgentLease } from '../lab/index.js';
import { TEST_FUNCTION_ENDPOINTS, TEST_FUNCTION_PID, TEST_FUNCTION_VID } from '../../simulator/index.js';
import { hex } from '../../core/index.js';
import { startLabSimAgent } from './lab-sim-agent.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // `usbfn-hil list` (and `run --shard`'s count) only collects: no scenario runs, so no agent is started.
  if (process.env['USBFN_HIL_LIST'] === '1') return async () => undefined;
  const dir = mkdtempSync(join(tmpdir(), 'usbfn-hil-lab-sim-'));
  const agent = await startLabSimAgent();
  const configPath = join(dir, 'lab-sim.lab.json');
  writeFileSync(
    configPath,
    JSON.stringify(
      {
        bench: { id: 'lab-sim', tags: ['lab-sim', 'speed-high'], speed: 'high' },
        device: { vendorId: hex(TEST_FUNCTION_VID, 4), productId: hex(TEST_FUNCTION_PID, 4) },
        function: { interfaceNumber: 0, bulkOut: hex(TEST_FUNCTION_ENDPOINTS.BULK_OUT), bulkIn: hex(TEST_FUNCTION_ENDPOINTS.BULK_IN) },
        agent: { url: agent.url, tokenEnv: 'USBFN_HIL_LAB_SIM_TOKEN' },
        lease: { holder: `lab-sim run pid ${process.pid}` },
      },
      null,
      2,
    ),
  );
  const config = loadLabConfig({ USBFN_HIL_LAB_CONFIG: configPath });
  const latch = new FileBenchLatch(join(dir, 'bench-broken.json'));
  const result = await runBenchCheck({
    config,
    token: agent.token,
    host: async () => new UsbIpUsbHost({ host: agent.usbip.host, port: agent.usbip.port, pollIntervalMs: 50 }),
    keepLease: true,
    onLeaseLost: (err) => latch.latch('(lease renewal)', err),
  });
  const cleanup = async (): Promise<void> => {
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  if (!result.ok) {
    await cleanup();
    const failed = result.steps.filter((s) => s.outcome === 'failed').map((s) => `usbfn-hil: lab-sim bench check "${s.name}" failed: ${s.detail}`);
    console.error([...failed, `usbfn-hil: the lab-sim agent said:\n${agent.output().slice(-3000)}`].join('\n'));
    process.exit(2);
  }
  console.log(formatBenchCheck(config, result));
  const lease = result.lease as AgentLease;
  project.provide('labRun', {
    leaseId: lease.leaseId,
    holder: lease.holder,
    expiresAtMs: lease.info.expiresAtMs,
    latchPath: latch.path,
    labSim: { configPath, token: agent.token, usbip: agent.usbip },
  });
  return async () => {
    const cause = latch.broken();
    if (cause !== undefined) console.error(`usbfn-hil: lab-sim bench latched broken in "${cause.scenario}": ${cause.error.message}`);
    await lease.release().catch(() => undefined);
    await cleanup();
  };
}
