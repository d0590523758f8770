/**
 * The lab in a box (docs/lab-in-a-box.md): three benches, each a device agent (sim backend) in its own
 * container, described by a bench inventory; the harness's lab code runs against them unchanged — the bench
 * list, the bench pool and its leases, the lab rig with its broken latch, the host side over USB/IP.
 *
 * The tests share one box and run in order: the last one kills a container (power loss) and reboots it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delay, RealClock } from '../../../core/index.js';
import { AgentClient, AgentLease, benchStatus, takeBench, type BenchState, type LabRig, type TakenBench } from '../../../harness/lab/index.js';
import { scenarioOutcome } from '../../../harness/report/index.js';
import { labNodeImage, ROOT } from './agent-container.js';
import { openBoxRig, startLabBox, type BoxBench, type LabBox } from './lab-box.js';

const run = promisify(execFile);
const BENCHES = 3;
let box: LabBox;

beforeAll(async () => {
  box = await startLabBox(labNodeImage(), BENCHES);
  console.log(`lab in a box: ${BENCHES} agent containers started in parallel in ${box.startMs} ms (inventory ${box.inventory.path})`);
});

afterAll(async () => {
  await box?.close();
});

/** One scenario's worth of work on a rig: a session, the function opened over USB/IP, a verified loopback. */
async function loopbackSession(rig: LabRig, name: string, seed: number): Promise<void> {
  const session = await rig.openSession({ name, seed, world: {} });
  try {
    const agent = await session.agent();
    expect(await agent.loopback(4096, { seed })).toMatchObject({ ok: true, bytesWritten: 4096, bytesRead: 4096, firstMismatch: -1 });
  } finally {
    await session.close();
  }
}

async function statesOf(b: LabBox): Promise<BenchState[]> {
  return (await Promise.all(b.inventory.benches.map((x) => benchStatus(x, { env: b.env })))).map((s) => s.state);
}

function clientOf(bench: BoxBench): AgentClient {
  return new AgentClient({ url: bench.agent.url, token: bench.token, deadlineMs: 5_000 });
}

describe('bench list', () => {
  it('shows every container as a free bench, and a bench as leased while a harness holds it', async () => {
    // The command a person or a CI job runs, over the inventory file and the tokens in the environment.
    const { stdout } = await run(process.execPath, ['harness/cli/bin.js', 'bench', 'list', '--json'], { cwd: ROOT, env: { ...process.env, ...box.env }, timeout: 30_000 });
    const listed = JSON.parse(stdout) as { id: string; state: string; url: string; detail: string }[];
    expect(listed.map((s) => [s.id, s.state, s.url])).toEqual(box.benches.map((b) => [b.id, 'free', b.agent.url]));
    expect(listed.every((s) => s.detail.startsWith('sim backend, worker ready'))).toBe(true);

    // Each inventory URL reaches its own container: the agent there reports the bench id it was started with.
    const statuses = await Promise.all(box.inventory.benches.map((b) => benchStatus(b, { env: box.env })));
    expect(statuses.map((s) => s.health?.bench.id)).toEqual(box.benches.map((b) => b.id));

    const held = box.benches[1]!;
    const lease = await AgentLease.acquire(clientOf(held), { holder: 'harness run A', ttlMs: 30_000, waitMs: 0 });
    try {
      const during = await Promise.all(box.inventory.benches.map((b) => benchStatus(b, { env: box.env })));
      expect(during.map((s) => s.state)).toEqual(['free', 'leased', 'free']);
      expect(during[1]!.detail).toMatch(/^held by "harness run A" \(expires in \d+ s\)/);
      expect(during[1]!.health?.lease?.leaseId).toBe(lease.leaseId);
    } finally {
      await lease.release();
    }
    expect(await statesOf(box)).toEqual(['free', 'free', 'free']);
  });
});

describe('two harness runs contend for the benches', () => {
  it('with every bench leased, the second run waits on 409 and gets the bench the first run releases', async () => {
    const benches = box.inventory.benches;
    const runA: TakenBench[] = [];
    try {
      // Run A takes every bench from the pool: a free one each time, never one it already holds.
      for (let i = 0; i < BENCHES; i++) runA.push(await takeBench(benches, { holder: 'run A', waitMs: 0, env: box.env }));
      expect(runA.map((t) => t.bench.config.bench.id).sort()).toEqual(box.benches.map((b) => b.id));
      expect(await statesOf(box)).toEqual(['leased', 'leased', 'leased']);

      // The agent answers a second holder 409 LAB_AGENT_BUSY naming the first.
      const first = box.benches[0]!;
      const refused = await fetch(`${first.agent.url}/v1/leases`, {
        method: 'POST',
        headers: { authorization: `Bearer ${first.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ holder: 'run B', ttlMs: 10_000 }),
      });
      expect(refused.status).toBe(409);
      expect(await refused.json()).toMatchObject({ error: { code: 'LAB_AGENT_BUSY', harnessError: { data: { holder: 'run A' } } } });
      // A run that may not wait fails at once, naming the holders: the wait is bounded.
      await expect(takeBench(benches, { holder: 'run B', waitMs: 0, env: box.env })).rejects.toMatchObject({ code: 'LAB_BENCH_ALL_BUSY', message: expect.stringMatching(/held by "run A"/) });

      // Run B waits; run A gives back one bench after a while.
      const releaseAfterMs = 1_500;
      const pollMs = 200;
      const rounds: BenchState[][] = [];
      const waiting = takeBench(benches, { holder: 'run B', waitMs: 30_000, pollMs, env: box.env, onWait: (s) => rounds.push(s.map((x) => x.state)) });
      await delay(new RealClock(), releaseAfterMs);
      const given = runA.splice(1, 1)[0]!;
      const releasedAt = performance.now();
      await new AgentClient({ url: given.bench.config.agent.url, token: given.token }).releaseLease(given.lease.leaseId);
      const taken = await waiting;
      const handoverMs = Math.round(performance.now() - releasedAt);
      console.log(
        `run B waited ${Math.round(taken.waitedMs)} ms over ${rounds.length} busy rounds (poll ${pollMs} ms) and got ${taken.bench.config.bench.id} ` +
          `${handoverMs} ms after run A released it`,
      );
      expect(taken.bench.config.bench.id).toBe(given.bench.config.bench.id);
      expect(taken.lease.holder).toBe('run B');
      expect(rounds.length).toBeGreaterThanOrEqual(2);
      expect(rounds[0]).toEqual(['leased', 'leased', 'leased']);
      expect(taken.waitedMs).toBeGreaterThanOrEqual(releaseAfterMs - 50);
      // The bench went to run B within about one poll of its release, far inside the bound.
      expect(handoverMs).toBeLessThan(5_000);

      // Run B uses the bench it got, on the lease it took.
      const mine = box.benches.find((b) => b.id === taken.bench.config.bench.id)!;
      const rig = openBoxRig(mine, { lease: taken.lease });
      try {
        await loopbackSession(rig, 'run B > loopback on the bench it waited for', 7);
      } finally {
        await rig.close();
        await clientOf(mine).releaseLease(taken.lease.leaseId);
      }
    } finally {
      await Promise.allSettled(runA.map((t) => new AgentClient({ url: t.bench.config.agent.url, token: t.token }).releaseLease(t.lease.leaseId)));
    }
    expect(await statesOf(box)).toEqual(['free', 'free', 'free']);
  });
});

describe('a container stopped mid-session is a device losing power', () => {
  it('breaks the scenario (infrastructure), latches the bench with that first cause, and a reboot recovers on the next session', async () => {
    const bench = box.benches[2]!;
    const before = 'power loss > loopback, then the device loses power';
    const rig = openBoxRig(bench);
    let lost: unknown;
    try {
      const session = await rig.openSession({ name: before, seed: 11, world: {} });
      try {
        const agent = await session.agent();
        expect(await agent.loopback(4096, { seed: 11 })).toMatchObject({ ok: true, bytesRead: 4096, firstMismatch: -1 });

        await bench.agent.powerLoss();
        lost = await session.device.status().then(
          () => undefined,
          (err: unknown) => err,
        );
      } finally {
        // Closing a session on a dead agent must not throw once the bench latched: the first cause tells it.
        await session.close();
      }
      expect(lost).toMatchObject({ name: 'LabAgentError', code: 'LAB_AGENT_UNREACHABLE' });
      expect(scenarioOutcome('failed', lost as Error)).toBe('broken');

      const cause = rig.latch.broken();
      expect(cause).toMatchObject({ scenario: before, error: { code: 'LAB_AGENT_UNREACHABLE' } });
      // The next scenario is skipped with that first cause, and a session cannot open on the broken bench.
      const reason = await rig.skipReason({});
      expect(reason).toBe(`bench ${bench.id} is broken since "${before}": ${cause!.error.message}`);
      await expect(rig.openSession({ name: 'power loss > the next scenario', seed: 12, world: {} })).rejects.toMatchObject({
        code: 'LAB_BENCH_BROKEN',
        cause: { code: 'LAB_AGENT_UNREACHABLE' },
      });
      expect((await benchStatus(bench.bench, { env: box.env })).state).toBe('unreachable');
    } finally {
      await rig.close();
    }

    // The device reboots: the next run's rig (a fresh latch) works again.
    const rebootStarted = performance.now();
    await bench.agent.reboot();
    console.log(`${bench.id} rebooted (container restart + agent start-up) in ${Math.round(performance.now() - rebootStarted)} ms`);
    expect((await benchStatus(bench.bench, { env: box.env })).state).toBe('free');
    const next = openBoxRig(bench);
    try {
      await loopbackSession(next, 'power loss > after the reboot', 13);
      expect(next.latch.broken()).toBeUndefined();
    } finally {
      await next.close();
    }
    expect(await statesOf(box)).toEqual(['free', 'free', 'free']);
  });

  // When the power goes while a scenario transfers, the first error it sees is the host side's (the USB/IP
  // connection closes at once: LIBUSB_ERROR_NO_DEVICE, a typed product code). The fixture asks the rig after
  // every failure whether the bench itself went away; here it did, so the scenario is filed broken.
  it('a transfer the power loss cuts fails on the host side first, and the check after the failure files it broken', async () => {
    const bench = box.benches[0]!;
    const name = 'power loss > during a transfer';
    const rig = openBoxRig(bench);
    try {
      const session = await rig.openSession({ name, seed: 21, world: {} });
      try {
        const agent = await session.agent();
        expect(await agent.loopback(4096, { seed: 21 })).toMatchObject({ ok: true });
        await bench.agent.powerLoss();
        const cut = await agent.loopback(4096, { seed: 22 }).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(cut).toMatchObject({ code: 'LIBUSB', libusbName: 'LIBUSB_ERROR_NO_DEVICE' });
        await expect.poll(() => rig.latch.broken(), { timeout: 10_000 }).toMatchObject({ scenario: name, error: { code: 'LAB_AGENT_UNREACHABLE' } });
        // The host's error alone looks like the product's; asked after the failure, the rig names the bench's
        // own fault, which the fixture puts first: the scenario is filed broken.
        expect(scenarioOutcome('failed', cut as Error)).toBe('failed');
        const cause = await rig.infrastructureCause(name, cut);
        expect(cause).toMatchObject({ code: expect.stringMatching(/^LAB_(AGENT_UNREACHABLE|BENCH_BROKEN)$/) });
        expect(scenarioOutcome('failed', cause)).toBe('broken');
      } finally {
        await session.close();
      }
    } finally {
      await rig.close();
    }
  });
});
