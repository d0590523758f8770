/**
 * The device agent's contract: what any agent speaking protocol v1 must do, checked through the harness's
 * own `AgentClient`. The same suite runs against the msw fake agent (agent.contract.test.ts), the real
 * agent on 127.0.0.1 over its `fake` backend (agent.contract.real-agent.test.ts), the real agent under
 * Windows node in Wine (.ci/wine/agent.contract.wine.test.ts, `npm run test:wine`), and a real device. Nothing in it relies on a particular implementation: it needs an idle agent (no lease held), and
 * says through `hostConnected` whether a host PC configures the device and through `device` whether the
 * function is there at all (under Wine there is no USB function driver: the agent must say so with typed
 * errors, and the suite checks exactly that instead of skipping).
 *
 * @see docs/lab-setup.md
 * @see docs/win32-backend.md (what the agent answers under Wine)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigRetError, HarnessError, TimeoutError, Win32Error } from '../../core/index.js';
import { agentOpenApiDocument, agentSchemaHash, AGENT_PROTOCOL_VERSION, type FaultRequest } from '../../device-side/index.js';
import type { AgentClient } from './agent-client.js';
import { LabAgentError } from './lab-agent-error.js';

export interface AgentContractOptions {
  /**
   * A host PC is connected and configures the device once the service is active. When false the suite
   * checks the opposite (a wait for "configured" times out with the device's TimeoutError) instead of
   * skipping.
   */
  readonly hostConnected: boolean;
  /**
   * What the agent's backend finds on its machine.
   * - `'present'` (default): the function's interface is listed and a started service becomes active.
   * - `'none'`: no USB function driver at all (Windows node under Wine: no GenericUSBFn.sys, a CfgMgr32
   *   without CM_Register_Notification and with stub interface lists). Instead of a configured device the
   *   suite then expects honest answers: health says `usbfn.present: false` with a `problem`, and every
   *   service start fails with the device side's own typed error (`ConfigRetError` or `Win32Error`),
   *   rebuilt as the same class on this side, while the session itself stays usable. Sessions are opened
   *   with `startService: false`.
   */
  readonly device?: 'present' | 'none' | undefined;
  /** Bound of the suite's waits on the device (default 10 000 ms). */
  readonly waitMs?: number | undefined;
}

/** The fault kinds of protocol v1. */
const FAULT_KINDS = ['failIoctl', 'dropNotification', 'closeHandle', 'restartService', 'pnp', 'crashWorker', 'hangWorker'] as const;
type FaultKind = (typeof FAULT_KINDS)[number];

/** Fault requests the suite may inject: harmless within a session that is closed right after. */
const SAFE_FAULTS: Partial<Record<FaultKind, FaultRequest>> = {
  // Armed for the 1000th GET_PIPE_STATE: never reached in the suite's short session.
  failIoctl: { kind: 'failIoctl', ioctl: 'IOCTL_GENERICUSBFN_GET_PIPE_STATE', win32: 31, nth: 1_000 },
  dropNotification: { kind: 'dropNotification', action: 'CM_NOTIFY_ACTION_DEVICEQUERYREMOVE', count: 1 },
  closeHandle: { kind: 'closeHandle' },
  restartService: { kind: 'restartService' },
};
/** Faults that act on a running service (its open handle, its restart): without a device there is none. */
const NEEDS_SERVICE: readonly FaultKind[] = ['closeHandle', 'restartService'];
/** Every fault kind of protocol v1, as a valid request (to check that kinds the agent does not offer are refused). */
const ALL_FAULTS: Record<FaultKind, FaultRequest> = {
  failIoctl: SAFE_FAULTS.failIoctl!,
  dropNotification: SAFE_FAULTS.dropNotification!,
  closeHandle: SAFE_FAULTS.closeHandle!,
  restartService: SAFE_FAULTS.restartService!,
  pnp: { kind: 'pnp', verb: 'restart' },
  crashWorker: { kind: 'crashWorker' },
  hangWorker: { kind: 'hangWorker' },
};

/**
 * Registers the agent contract suite.
 * @param makeClient a client of the agent under test carrying `token`: undefined = the agent's valid token,
 *   null = no token, a string = that token.
 */
export function describeAgentContract(name: string, makeClient: (token?: string | null) => AgentClient, options: AgentContractOptions): void {
  const waitMs = options.waitMs ?? 10_000;
  const noDevice = options.device === 'none';
  /** The session world: the service is started at open only where there is a device to start it on. */
  const world = { fn: 'loopback' as const, startService: !noDevice };
  const taken: { client: AgentClient; leaseId: string }[] = [];

  async function lease(holder = 'contract'): Promise<{ client: AgentClient; leaseId: string }> {
    const client = makeClient();
    const info = await client.acquireLease({ holder, runId: 'agent-contract', ttlMs: 60_000 });
    const held = { client, leaseId: info.leaseId };
    taken.push(held);
    return held;
  }

  async function session(held?: { client: AgentClient; leaseId: string }): Promise<{ client: AgentClient; leaseId: string; sessionId: string }> {
    held ??= await lease();
    const info = await held.client.openSession({ leaseId: held.leaseId, name: `agent contract: ${name}`, seed: 0x1234, world });
    return { ...held, sessionId: info.sessionId };
  }

  async function rejection(p: Promise<unknown>): Promise<unknown> {
    return p.then(
      (v) => {
        throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
      },
      (e: unknown) => e,
    );
  }

  /**
   * The device side's "no driver here" answer: the error the Win32 backend raised on the device, rebuilt as
   * the same class (not an infrastructure error of the agent).
   */
  function expectNoDriverError(err: unknown): void {
    expect(err).toBeInstanceOf(HarnessError);
    expect(err, String(err)).not.toBeInstanceOf(LabAgentError);
    expect(err instanceof ConfigRetError || err instanceof Win32Error, `expected a ConfigRetError or Win32Error, got ${String(err)}`).toBe(true);
    expect(err).toMatchObject({ code: expect.stringMatching(/^(CONFIGRET|WIN32)$/) });
  }

  /** Brings a session's service up: active where there is a device; else the typed "no driver" error, service still idle. */
  async function startedService(client: AgentClient, sessionId: string): Promise<void> {
    if (!noDevice) {
      await client.waitFor(sessionId, { until: 'active', timeoutMs: waitMs });
      return;
    }
    expectNoDriverError(await rejection(client.startService(sessionId, { timeoutMs: waitMs })));
    expect((await client.getSession(sessionId)).status.service).toBe('idle');
  }

  describe(`device agent contract: ${name}`, () => {
    afterEach(async () => {
      // Leave the agent idle for the next check, whatever happened.
      for (const held of taken.splice(0)) await held.client.releaseLease(held.leaseId).catch(() => undefined);
    });

    describe('health and version', () => {
      it('answers health in the protocol shape with the same schema hash as this harness', async () => {
        const health = await makeClient().checkVersion();
        expect(health.protocol).toBe(AGENT_PROTOCOL_VERSION);
        expect(health.schemaHash).toBe(agentSchemaHash());
        expect(health.lease).toBeNull();
        if (noDevice) {
          expect(health.usbfn).toMatchObject({ present: false, symbolicLink: null, problem: expect.stringMatching(/\S/) });
        } else {
          expect(health.usbfn.present).toBe(true);
        }
      });

      it('serves the OpenAPI document of the same routes', async () => {
        const doc = (await makeClient().schema()) as { paths?: Record<string, unknown> };
        expect(Object.keys(doc.paths ?? {}).sort()).toEqual(Object.keys(agentOpenApiDocument()['paths'] as Record<string, unknown>).sort());
      });

      it('answers the liveness probe without a token', async () => {
        await expect(makeClient(null).probe()).resolves.toEqual({ ok: true });
      });
    });

    describe('auth', () => {
      it('refuses every authenticated route without a token or with a wrong one (401 LAB_AGENT_UNAUTHORIZED), before acting', async () => {
        for (const token of [null, 'not-the-token']) {
          const c = makeClient(token);
          for (const call of [() => c.health(), () => c.acquireLease({ holder: 'intruder', ttlMs: 60_000 }), () => c.getSession('S-none'), () => c.restartWorker()]) {
            const err = await rejection(call());
            expect(err).toBeInstanceOf(LabAgentError);
            expect(err).toMatchObject({ code: 'LAB_AGENT_UNAUTHORIZED' });
          }
        }
        expect((await makeClient().health()).lease).toBeNull();
      });
    });

    describe('leases', () => {
      it('grants one lease, refuses a second holder with 409 LAB_AGENT_BUSY naming the first, renews and releases', async () => {
        const first = await lease('contract-first');
        expect((await first.client.health()).lease).toMatchObject({ leaseId: first.leaseId, holder: 'contract-first' });
        const busy = await rejection(makeClient().acquireLease({ holder: 'contract-second', ttlMs: 60_000 }));
        expect(busy).toMatchObject({ code: 'LAB_AGENT_BUSY', data: { holder: 'contract-first' } });
        const before = (await first.client.health()).lease!.expiresAtMs;
        const renewed = await first.client.renewLease(first.leaseId, 120_000);
        expect(renewed.leaseId).toBe(first.leaseId);
        expect(renewed.expiresAtMs).toBeGreaterThan(before);
        await first.client.releaseLease(first.leaseId);
        taken.splice(0);
        expect((await makeClient().health()).lease).toBeNull();
        await lease('contract-second');
      });
    });

    describe('sessions', () => {
      it(
        noDevice
          ? 'refuses a session whose service cannot start with the typed error of the device, opens one without starting it, reports its status and log, and closes it'
          : 'opens a session with the function, reports its status and log, and closes it',
        async () => {
        const held = await lease();
        if (noDevice) {
          const refused = await rejection(held.client.openSession({ leaseId: held.leaseId, name: `agent contract: ${name}`, seed: 1, world: { fn: 'loopback', startService: true } }));
          expectNoDriverError(refused);
          expect((await held.client.health()).sessionId).toBeNull();
        }
        const { client, sessionId } = await session(held);
        const info = await client.getSession(sessionId);
        expect(info.sessionId).toBe(sessionId);
        expect(info.functionName).toBe('loopback');
        await startedService(client, sessionId);
        expect((await client.getSession(sessionId)).status.service).toBe(noDevice ? 'idle' : 'active');
        const log = await client.log(sessionId);
        expect(log.entries.length).toBeGreaterThan(0);
        const seqs = log.entries.map((e) => e.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
        const closed = await client.closeSession(sessionId);
        expect(closed.log.entries.length).toBeGreaterThanOrEqual(log.entries.length);
        expect(await rejection(client.getSession(sessionId))).toMatchObject({ code: 'LAB_AGENT_NO_SESSION' });
        },
      );

      it(
        options.hostConnected
          ? 'waits until the host configured the device'
          : 'answers a wait for "configured" with the TimeoutError of the device when no host is connected',
        async () => {
          const { client, sessionId } = await session();
          if (options.hostConnected) {
            const r = await client.waitFor(sessionId, { until: 'configured', timeoutMs: waitMs });
            expect(r.status.bus).toBe('configured');
          } else {
            const err = await rejection(client.waitFor(sessionId, { until: 'configured', timeoutMs: 300 }));
            expect(err).toBeInstanceOf(TimeoutError);
          }
        },
      );

      it('sends a wait that cannot succeed back as the TimeoutError of the device (typed error over the wire)', async () => {
        const { client, sessionId } = await session();
        await startedService(client, sessionId);
        const err = await rejection(client.waitFor(sessionId, { until: 'waiting', timeoutMs: 300 }));
        expect(err).toBeInstanceOf(TimeoutError);
        expect(err).toMatchObject({ code: 'TIMEOUT' });
      });

      it(noDevice ? 'stops the service, and answers every start with the typed error of the device' : 'stops and starts the service', async () => {
        const { client, sessionId } = await session();
        await startedService(client, sessionId);
        expect((await client.stopService(sessionId, { timeoutMs: waitMs })).status.service).toBe('stopped');
        expect((await client.getSession(sessionId)).status.service).toBe('stopped');
        if (noDevice) {
          // A start after the stop fails the same way: the driver is still not there.
          expectNoDriverError(await rejection(client.startService(sessionId, { timeoutMs: waitMs })));
          return;
        }
        await client.startService(sessionId, { timeoutMs: waitMs });
        await client.waitFor(sessionId, { until: 'active', timeoutMs: waitMs });
        expect((await client.getSession(sessionId)).status.service).toBe('active');
      });

      it('answers a repeated POST with the same Idempotency-Key with the first answer', async () => {
        const held = await lease();
        const request = { leaseId: held.leaseId, name: 'idempotent open', seed: 1, world };
        const a = await held.client.openSession(request, { idempotencyKey: `contract-${held.leaseId}` });
        const b = await held.client.openSession(request, { idempotencyKey: `contract-${held.leaseId}` });
        expect(b.sessionId).toBe(a.sessionId);
        expect((await held.client.health()).sessionId).toBe(a.sessionId);
      });

      it('closes the session of a released lease', async () => {
        const { client, leaseId, sessionId } = await session();
        await client.releaseLease(leaseId);
        taken.splice(0);
        expect(await rejection(client.getSession(sessionId))).toMatchObject({ code: 'LAB_AGENT_NO_SESSION' });
      });
    });

    describe('event stream', () => {
      it('delivers the log from a cursor, in order, and follows new entries', async () => {
        const { client, sessionId } = await session();
        await startedService(client, sessionId);
        const held: number[] = [];
        for await (const item of client.events(sessionId, { follow: false })) if (item.type === 'entry') held.push(item.entry.seq);
        expect(held.length).toBeGreaterThan(1);
        expect(held).toEqual([...held].sort((a, b) => a - b));
        const from = held[held.length - 2]!;
        const tail: number[] = [];
        for await (const item of client.events(sessionId, { follow: false, after: from })) if (item.type === 'entry') tail.push(item.entry.seq);
        expect(tail[0]).toBe(held[held.length - 1]);

        // Following: stopping the service (where there is none: another start that fails) logs something new,
        // which arrives on the open stream.
        const last = held[held.length - 1]!;
        const signal = AbortSignal.timeout(waitMs);
        const stream = client.events(sessionId, { after: last, signal });
        const next = stream.next();
        if (noDevice) expectNoDriverError(await rejection(client.startService(sessionId, { timeoutMs: waitMs })));
        else await client.stopService(sessionId, { timeoutMs: waitMs });
        const item = (await next).value;
        expect(item).toMatchObject({ type: 'entry' });
        expect((item as { entry: { seq: number } }).entry.seq).toBeGreaterThan(last);
        await stream.return(undefined);
      });
    });

    describe('faults', () => {
      it('accepts each advertised fault kind that is safe to inject here (202, labelled) and logs it', async (ctx) => {
        const { client, sessionId } = await session();
        const advertised = (await client.health()).faults;
        const safe = FAULT_KINDS.filter((k) => advertised.includes(k) && SAFE_FAULTS[k] !== undefined && !(noDevice && NEEDS_SERVICE.includes(k)));
        if (safe.length === 0) ctx.skip(`the agent advertises no fault kind that is safe to inject in a contract run (it offers: ${advertised.join(', ') || 'none'})`);
        for (const kind of safe) {
          const accepted = await client.injectFault(sessionId, SAFE_FAULTS[kind]!);
          expect(accepted.kind).toBe(kind);
          expect(accepted.label).not.toBe('');
          const logged = (await client.log(sessionId)).entries.filter((e) => e.kind === 'fault').map((e) => e.detail);
          expect(logged, kind).toContainEqual(expect.objectContaining({ faultId: accepted.faultId, kind, label: accepted.label }));
        }
      });

      if (noDevice) {
        it('answers the faults that need a running service as what they are without a device: nothing to close (422), a restart whose start fails with the typed error', async () => {
          const { client, sessionId } = await session();
          await startedService(client, sessionId);
          const advertised = (await client.health()).faults;
          expect(advertised).toEqual(expect.arrayContaining([...NEEDS_SERVICE]));
          expect(await rejection(client.injectFault(sessionId, SAFE_FAULTS.closeHandle!))).toMatchObject({ code: 'LAB_AGENT_FAULT_UNSUPPORTED', data: { status: 422 } });
          expectNoDriverError(await rejection(client.injectFault(sessionId, SAFE_FAULTS.restartService!)));
        });
      }

      it('refuses fault kinds it does not advertise with 422 LAB_AGENT_FAULT_UNSUPPORTED', async (ctx) => {
        const { client, sessionId } = await session();
        const advertised = new Set((await client.health()).faults);
        const others = FAULT_KINDS.filter((k) => !advertised.has(k));
        if (others.length === 0) ctx.skip('the agent advertises every fault kind of protocol v1');
        for (const kind of others) {
          const err = await rejection(client.injectFault(sessionId, ALL_FAULTS[kind]));
          expect(err, kind).toMatchObject({ code: 'LAB_AGENT_FAULT_UNSUPPORTED', data: { status: 422 } });
        }
      });
    });
  });
}
