/**
 * The lab in a box: N benches, each a device agent (sim backend) in its own container on its own ports with
 * its own token, and the bench inventory that describes them (usbfn-hil.benches.json format,
 * docs/ci.md#bench-inventory), read back through the harness's own loader. Tokens are never in the file:
 * each bench names its environment variable, and {@link LabBox.env} holds them.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hex } from '../../../core/index.js';
import { UsbIpUsbHost } from '../../../host-side/index.js';
import { BENCH_INVENTORY_ENV, LabRig, loadBenchInventory, MemoryBenchLatch, type BenchInventory, type InventoryBench } from '../../../harness/lab/index.js';
import { freePort } from '../../../harness/lab-sim/index.js';
import type { LeaseInfo } from '../../../device-side/index.js';
import { TEST_FUNCTION_ENDPOINTS, TEST_FUNCTION_PID, TEST_FUNCTION_VID } from '../../../simulator/index.js';
import { ROOT, startAgentContainer, type AgentContainer, type AgentContainerSpec } from './agent-container.js';

/** Where the tier leaves its inventory (no token in it) and run.sh the engine's log. */
export const OUT_DIR = join(ROOT, 'reports', 'tiers', 'containers');
export const BOX_TAG = 'lab-in-a-box';

export interface BoxBench {
  readonly id: string;
  readonly agent: AgentContainer;
  /** The bench as the inventory loader returned it. */
  readonly bench: InventoryBench;
  readonly token: string;
}

export interface LabBox {
  readonly benches: readonly BoxBench[];
  readonly inventory: BenchInventory;
  /** The environment a harness run gets: the inventory's path and every bench's token. */
  readonly env: NodeJS.ProcessEnv;
  /** How long starting every container took (they start in parallel). */
  readonly startMs: number;
  /** Stops every container. */
  close(): Promise<void>;
}

/** `count` distinct TCP ports free on 127.0.0.1 now (host networking: the containers bind them). */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < count; tries++) {
    if (tries > count * 10) throw new Error(`could not find ${count} distinct free ports on 127.0.0.1`);
    ports.add(await freePort());
  }
  return [...ports];
}

/** One inventory entry: the simulated test function (docs/lab-config.md) at this container's agent. */
function inventoryEntry(spec: AgentContainerSpec, tokenEnv: string): Record<string, unknown> {
  return {
    bench: { id: spec.benchId, tags: spec.tags, speed: 'high' },
    device: { vendorId: hex(TEST_FUNCTION_VID, 4), productId: hex(TEST_FUNCTION_PID, 4) },
    function: { interfaceNumber: 0, bulkOut: hex(TEST_FUNCTION_ENDPOINTS.BULK_OUT), bulkIn: hex(TEST_FUNCTION_ENDPOINTS.BULK_IN) },
    agent: { url: `http://127.0.0.1:${spec.httpPort}`, tokenEnv, deadlineMs: 5_000 },
    lease: { ttlMs: 30_000, waitMs: 0, holder: `lab-in-a-box pid ${process.pid}` },
  };
}

/**
 * Starts `count` agent containers in parallel and writes their inventory. A container that fails to start
 * stops the others and rethrows with what it printed.
 */
export async function startLabBox(image: string, count: number): Promise<LabBox> {
  const ports = await distinctFreePorts(count * 2);
  const specs: AgentContainerSpec[] = Array.from({ length: count }, (_, i) => ({
    benchId: `box-${i + 1}`,
    tags: [BOX_TAG, 'speed-high'],
    httpPort: ports[2 * i]!,
    usbipPort: ports[2 * i + 1]!,
    token: randomBytes(24).toString('hex'),
  }));
  const started = performance.now();
  const results = await Promise.allSettled(specs.map((s) => startAgentContainer(image, s)));
  const startMs = Math.round(performance.now() - started);
  const agents = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) {
    await Promise.allSettled(agents.map((a) => a.stop()));
    throw failed.reason;
  }

  mkdirSync(OUT_DIR, { recursive: true });
  const path = join(OUT_DIR, 'usbfn-hil.benches.json');
  const tokenEnv = (id: string): string => `USBFN_HIL_${id.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_TOKEN`;
  writeFileSync(path, `${JSON.stringify({ benches: specs.map((s) => inventoryEntry(s, tokenEnv(s.benchId))) }, null, 2)}\n`);
  const env: NodeJS.ProcessEnv = { [BENCH_INVENTORY_ENV]: path, ...Object.fromEntries(specs.map((s) => [tokenEnv(s.benchId), s.token])) };
  const inventory = loadBenchInventory(env, ROOT);
  const benches = agents.map((agent, i) => ({ id: agent.spec.benchId, agent, bench: inventory.benches[i]!, token: agent.spec.token }));
  return {
    benches,
    inventory,
    env,
    startMs,
    async close() {
      await Promise.allSettled(agents.map((a) => a.stop()));
    },
  };
}

/**
 * A lab rig on one bench of the box, as a lab run builds it: the agent client from the bench's configuration,
 * the host side over the container's USB/IP export, a broken latch of its own. Without `lease` it takes one
 * (bench lease.waitMs: 0, so a busy bench fails at once).
 */
export function openBoxRig(bench: BoxBench, options: { lease?: LeaseInfo | undefined } = {}): LabRig {
  return new LabRig({
    config: bench.bench.config,
    token: bench.token,
    host: async () => new UsbIpUsbHost({ host: bench.agent.usbip.host, port: bench.agent.usbip.port, pollIntervalMs: 50 }),
    lease: options.lease,
    latch: new MemoryBenchLatch(),
    // The simulated device runs at the speed a session asks for, as in the lab-sim world.
    speedPerSession: true,
  });
}
