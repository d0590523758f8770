/**
 * Real device agents with the sim backend, each its own process on 127.0.0.1 (as `usbfn-hil run --mode
 * lab-sim` starts one): the agent contract against them with a host connected (the simulated host
 * enumerates the device), and the bench pool over several of them — `bench list` states, a second holder
 * waiting on 409 until the first releases, and the session's device reached over USB/IP.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hex, RealClock } from '../../core/index.js';
import { HostAgent, UsbIpUsbHost } from '../../host-side/index.js';
import { TEST_FUNCTION_ENDPOINTS, TEST_FUNCTION_PID, TEST_FUNCTION_VID } from '../../simulator/index.js';
import { AgentClient, benchesMatching, benchStatus, loadBenchInventory, takeBench } from '../lab/index.js';
import { describeAgentContract } from '../lab/agent.contract.js';
import { startLabSimAgent, type LabSimAgent } from './lab-sim-agent.js';

const agents: LabSimAgent[] = [];
let dir: string;
let inventoryPath: string;
const env: NodeJS.ProcessEnv = {};

beforeAll(async () => {
  // Three benches: two tagged `speed-high`, one `speed-full`; workers in-process to keep the test light.
  agents.push(...(await Promise.all(['bench-a', 'bench-b', 'bench-c'].map((benchId) => startLabSimAgent({ worker: 'in-process', benchId })))));
  dir = mkdtempSync(join(tmpdir(), 'usbfn-hil-benches-'));
  inventoryPath = join(dir, 'usbfn-hil.benches.json');
  const benches = agents.map((a, i) => {
    env[`BENCH_${i}_TOKEN`] = a.token;
    return {
      bench: { id: ['bench-a', 'bench-b', 'bench-c'][i], tags: i < 2 ? ['speed-high', 'lab-sim'] : ['speed-full', 'lab-sim'], speed: i < 2 ? 'high' : 'full' },
      device: { vendorId: hex(TEST_FUNCTION_VID, 4), productId: hex(TEST_FUNCTION_PID, 4) },
      function: { interfaceNumber: 0, bulkOut: hex(TEST_FUNCTION_ENDPOINTS.BULK_OUT), bulkIn: hex(TEST_FUNCTION_ENDPOINTS.BULK_IN) },
      agent: { url: a.url, tokenEnv: `BENCH_${i}_TOKEN` },
      lease: { ttlMs: 10_000 },
    };
  });
  writeFileSync(inventoryPath, JSON.stringify({ benches }, null, 2));
}, 120_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  rmSync(dir, { recursive: true, force: true });
});

describe('the agent contract against a real agent process with the sim backend', () => {
  describeAgentContract('agent serve --backend sim', (token) => new AgentClient({ url: agents[0]!.url, token: token === null ? undefined : (token ?? agents[0]!.token) }), {
    hostConnected: true,
  });
});

describe('the bench pool over several sim-backed agents', () => {
  it('lists every bench with its live state and a holder once leased', async () => {
    const inventory = loadBenchInventory({ USBFN_HIL_BENCHES: inventoryPath });
    expect(inventory.benches.map((b) => b.config.bench.id)).toEqual(['bench-a', 'bench-b', 'bench-c']);
    const before = await Promise.all(inventory.benches.map((b) => benchStatus(b, { env })));
    expect(before.map((s) => s.state)).toEqual(['free', 'free', 'free']);
    const client = new AgentClient({ url: agents[1]!.url, token: agents[1]!.token });
    const lease = await client.acquireLease({ holder: 'someone at the bench', ttlMs: 10_000 });
    try {
      const after = await benchStatus(inventory.benches[1]!, { env });
      expect(after).toMatchObject({ state: 'leased', detail: expect.stringContaining('someone at the bench') });
      // A bench whose token is not set is reported, not guessed.
      expect(await benchStatus(inventory.benches[2]!, { env: {} })).toMatchObject({ state: 'no-token' });
    } finally {
      await client.releaseLease(lease.leaseId);
    }
  });

  it('gives a second run the bench when the first releases it, after waiting on 409', async () => {
    const inventory = loadBenchInventory({ USBFN_HIL_BENCHES: inventoryPath });
    const high = benchesMatching(inventory, 'speed-high');
    expect(high.map((b) => b.config.bench.id)).toEqual(['bench-a', 'bench-b']);
    const first = await Promise.all(high.map(() => takeBench(high, { holder: 'run 1', waitMs: 0, env })));
    expect(new Set(first.map((t) => t.bench.config.bench.id))).toEqual(new Set(['bench-a', 'bench-b']));
    // Everything busy: a second run with no patience fails at once, naming the holders.
    await expect(takeBench(high, { holder: 'run 2', waitMs: 0, env })).rejects.toMatchObject({ code: 'LAB_BENCH_ALL_BUSY', message: expect.stringContaining('run 1') });
    // With patience it waits, and gets bench-b as soon as run 1 lets it go.
    const waiting = takeBench(high, { holder: 'run 2', waitMs: 20_000, pollMs: 200, env });
    const released = first.find((t) => t.bench.config.bench.id === 'bench-b')!;
    setTimeout(() => void new AgentClient({ url: released.bench.config.agent.url, token: released.token }).releaseLease(released.lease.leaseId), 1_000);
    const second = await waiting;
    expect(second.bench.config.bench.id).toBe('bench-b');
    expect(second.waitedMs).toBeGreaterThanOrEqual(900);
    for (const t of [second, ...first.filter((f) => f !== released)]) {
      await new AgentClient({ url: t.bench.config.agent.url, token: t.token }).releaseLease(t.lease.leaseId);
    }
  }, 60_000);

  it("reaches the taken bench's simulated device over USB/IP and loops back byte-exact", async () => {
    const inventory = loadBenchInventory({ USBFN_HIL_BENCHES: inventoryPath });
    const taken = await takeBench(benchesMatching(inventory, 'bench-c'), { holder: 'usbip', waitMs: 0, env });
    const client = new AgentClient({ url: taken.bench.config.agent.url, token: taken.token });
    const agent = agents[2]!;
    const usb = new UsbIpUsbHost({ host: agent.usbip.host, port: agent.usbip.port, pollIntervalMs: 50 });
    try {
      const session = await client.openSession({ leaseId: taken.lease.leaseId, name: 'pool', seed: 7, world: { fn: 'loopback', speed: 'full' } });
      await client.waitFor(session.sessionId, { until: 'configured', timeoutMs: 10_000 });
      const info = await usb.waitForDevice({ vendorId: TEST_FUNCTION_VID, productId: TEST_FUNCTION_PID }, { timeoutMs: 10_000 });
      expect(info.speed).toBe('full');
      const handle = await usb.open(info);
      await handle.claimInterface(0);
      const host = await HostAgent.open({ handle, interfaceNumber: 0, clock: new RealClock() });
      expect(host.maxPacketSize).toBe(64);
      expect(await host.loopback(4096, { seed: 3 })).toMatchObject({ ok: true, bytesRead: 4096 });
      await handle.close();
      await client.closeSession(session.sessionId);
    } finally {
      await usb.close();
      await client.releaseLease(taken.lease.leaseId);
    }
  }, 60_000);
});
