import { createServer } from 'node:net';
import { delay, http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { AbortedError, HarnessError, TimeoutError, Win32Error } from '../../core/index.js';
import { AgentClient, type AgentClientOptions } from './agent-client.js';
import { LabAgentError } from './lab-agent-error.js';
import { FakeAgent, ManualClock, until, useFakeAgentServer } from './testing/index.js';

const URL_ = 'http://agent.test:7311';
const { server, fake } = useFakeAgentServer();

function client(options: Partial<AgentClientOptions> = {}): AgentClient {
  return new AgentClient({ url: URL_, token: 'fake-token', retryDelayMs: 0, random: () => 0.5, ...options });
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (v) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );
}

describe('AgentClient: health, version, auth', () => {
  it('decodes health and accepts an agent built from the same protocol', async () => {
    const health = await client().checkVersion();
    expect(health).toMatchObject({ protocol: 1, backend: 'sim', bench: { id: 'fake-bench' }, lease: null });
  });

  it('stops with LAB_AGENT_VERSION_MISMATCH when the schema hash differs, naming both and the fix', async () => {
    server.use(...new FakeAgent({ schemaHash: 'f'.repeat(64) }).handlers());
    const err = await rejection(client().checkVersion());
    expect(err).toBeInstanceOf(LabAgentError);
    expect(err).toMatchObject({ code: 'LAB_AGENT_VERSION_MISMATCH' });
    expect((err as Error).message).toMatch(/^\[LAB_AGENT_VERSION_MISMATCH\] the device agent at http:\/\/agent\.test:7311: it speaks protocol 1 with schema ffffffffffff .*Install the same usbfn-hil version/);
  });

  it('answers the liveness probe without a token and refuses everything else with LAB_AGENT_UNAUTHORIZED', async () => {
    await expect(client({ token: undefined }).probe()).resolves.toEqual({ ok: true });
    for (const token of [undefined, 'wrong']) {
      const err = await rejection(client({ token }).health());
      expect(err).toMatchObject({ code: 'LAB_AGENT_UNAUTHORIZED', data: { status: 401 } });
      expect((err as Error).message).toMatch(/^\[LAB_AGENT_UNAUTHORIZED\] GET \/v1\/health: no valid bearer token\. send Authorization/);
    }
  });
});

describe('AgentClient: answers outside the protocol are LAB_AGENT_BAD_RESPONSE', () => {
  it('names the route and the first schema error of a body that fails the schema', async () => {
    server.use(http.get(`${URL_}/v1/health`, () => HttpResponse.json({ ok: true, agentVersion: 1, protocol: 1 })));
    const err = await rejection(client().health());
    expect(err).toMatchObject({ code: 'LAB_AGENT_BAD_RESPONSE' });
    expect((err as Error).message).toMatch(/^\[LAB_AGENT_BAD_RESPONSE\] GET \/v1\/health: the 200 answer does not match the route's schema at .+ \(got /);
  });

  it('rejects a body that is not JSON, a status the route does not define, and a non-envelope error', async () => {
    server.use(http.get(`${URL_}/v1/sessions/:id/log`, () => new HttpResponse('<html>hi</html>', { status: 200 })));
    expect(await rejection(client().log('S1'))).toMatchObject({ code: 'LAB_AGENT_BAD_RESPONSE', message: expect.stringMatching(/GET \/v1\/sessions\/S1\/log: the 200 answer is not JSON/) });

    server.use(http.post(`${URL_}/v1/leases`, () => HttpResponse.json({ leaseId: 'L1', holder: 'x', expiresAtMs: 1 }, { status: 200 })));
    expect(await rejection(client().acquireLease({ holder: 'me', ttlMs: 10_000 }))).toMatchObject({
      code: 'LAB_AGENT_BAD_RESPONSE',
      message: expect.stringMatching(/answered 200 OK, which protocol v1 does not define for this route \(success: 201\)/),
    });

    server.use(http.get(`${URL_}/v1/sessions/:id`, () => new HttpResponse('Bad Gateway', { status: 502, statusText: 'Bad Gateway' })));
    expect(await rejection(client().getSession('S1'))).toMatchObject({
      code: 'LAB_AGENT_BAD_RESPONSE',
      message: expect.stringMatching(/answered 502 Bad Gateway without protocol v1's error envelope/),
    });
  });
});

describe('AgentClient: errors over the wire keep their class', () => {
  it('rebuilds a Win32Error raised on the device as a Win32Error, cause chain included', async () => {
    const win32 = new Win32Error({ api: 'DeviceIoControl', win32: 31, win32Name: 'ERROR_GEN_FAILURE', ioctl: 'IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS', detail: 'the controller refused' }, {
      cause: new TimeoutError('activation', 100),
    });
    server.use(
      http.post(`${URL_}/v1/sessions/:id/service/start`, () =>
        HttpResponse.json({ error: { code: 'WIN32', message: win32.message, harnessError: JSON.parse(JSON.stringify(win32.toJSON())) } }, { status: 500 }),
      ),
    );
    const err = await rejection(client().startService('S1'));
    expect(err).toBeInstanceOf(Win32Error);
    expect(err).toMatchObject({ win32Name: 'ERROR_GEN_FAILURE', ioctl: 'IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS', message: win32.message });
    expect((err as Error).cause).toBeInstanceOf(TimeoutError);
  });

  it("turns the device's 408 into the TimeoutError the sim rig would throw", async () => {
    const c = client();
    const lease = await c.acquireLease({ holder: 'me', ttlMs: 60_000 });
    const s = await c.openSession({ leaseId: lease.leaseId, name: 't', seed: 1, world: { fn: 'loopback' } });
    const err = await rejection(c.waitFor(s.sessionId, { until: 'waiting', timeoutMs: 20 }));
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toMatch(/^\[TIMEOUT\] the device to be waiting did not happen within 20 ms/);
  });

  it('keeps agent 5xx codes: LAB_AGENT_INTERNAL is infrastructure, SERVICE_CRASHED is the product', async () => {
    server.use(http.get(`${URL_}/v1/sessions/:id`, () => HttpResponse.json({ error: { code: 'LAB_AGENT_INTERNAL', message: 'boom', fix: 'report it' } }, { status: 500 })));
    expect(await rejection(client().getSession('S1'))).toMatchObject({ name: 'LabAgentError', code: 'LAB_AGENT_INTERNAL', message: '[LAB_AGENT_INTERNAL] GET /v1/sessions/S1: boom. report it.' });
    server.use(
      http.get(`${URL_}/v1/sessions/:id/log`, () =>
        HttpResponse.json({ error: { code: 'SERVICE_CRASHED', message: '[SERVICE_CRASHED] the service worker exited with code 3' } }, { status: 503 }),
      ),
    );
    const crashed = await rejection(client().log('S1'));
    expect(crashed).toBeInstanceOf(HarnessError);
    expect(crashed).not.toBeInstanceOf(LabAgentError);
    expect(crashed).toMatchObject({ code: 'SERVICE_CRASHED', message: '[SERVICE_CRASHED] the service worker exited with code 3' });
  });
});

describe('AgentClient: deadlines, retries, reachability', () => {
  it('sends the deadline header and gives up at the deadline plus grace when no answer comes', async () => {
    const clock = new ManualClock();
    let arrived = 0;
    server.use(
      http.get(`${URL_}/v1/sessions/:id`, async () => {
        arrived++;
        await delay('infinite');
        return HttpResponse.json({});
      }),
    );
    let settled = false;
    const pending = rejection(client({ clock, deadlineMs: 3_000, graceMs: 500 }).getSession('S1')).finally(() => {
      settled = true;
    });
    await until(() => arrived === 1, 'the request to arrive');
    await clock.advance(3_499);
    expect(settled).toBe(false);
    await clock.advance(1);
    const err = await pending;
    expect(err).toMatchObject({ code: 'LAB_AGENT_DEADLINE', message: expect.stringMatching(/^\[LAB_AGENT_DEADLINE\] GET \/v1\/sessions\/S1: no answer within the call's deadline of 3000 ms/) });
  });

  it("maps the agent's own 504 to LAB_AGENT_DEADLINE and waits out a slow answer inside the deadline", async () => {
    server.use(http.get(`${URL_}/v1/sessions/:id`, () => HttpResponse.json({ error: { code: 'LAB_AGENT_DEADLINE', message: 'the worker did not answer in 10000 ms' } }, { status: 504 }), { once: true }));
    expect(await rejection(client().getSession('S1'))).toMatchObject({ code: 'LAB_AGENT_DEADLINE', data: { status: 504 } });

    server.use(
      http.get(`${URL_}/v1/health`, async () => {
        await delay(30);
        return undefined; // fall through to the fake agent
      }),
    );
    // The client's deadline runs on a clock nobody advances: only the real 30 ms delay passes.
    await expect(client({ clock: new ManualClock() }).health()).resolves.toMatchObject({ ok: true });
    const sent = fake().requests.find((r) => r.operation === 'getHealth');
    expect(sent?.deadlineMs).toBe(10_000);
  });

  it('retries a POST after a connection reset with the same Idempotency-Key, so the agent acts once', async () => {
    const c = client();
    const lease = await c.acquireLease({ holder: 'me', ttlMs: 60_000 });
    const keys: (string | null)[] = [];
    server.use(
      http.post(
        `${URL_}/v1/sessions`,
        ({ request }) => {
          keys.push(request.headers.get('idempotency-key'));
          return HttpResponse.error();
        },
        { once: true },
      ),
    );
    const s = await c.openSession({ leaseId: lease.leaseId, name: 'retried', seed: 7, world: { fn: 'loopback' } });
    const opens = fake().requests.filter((r) => r.operation === 'openSession');
    expect(opens).toHaveLength(1);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(opens[0]!.idempotencyKey).toBe(keys[0]);
    expect(fake().sessionId).toBe(s.sessionId);
  });

  it('answers a replayed POST (same Idempotency-Key) with the first answer instead of acting twice', async () => {
    const c = client();
    const lease = await c.acquireLease({ holder: 'me', ttlMs: 60_000 });
    const post = (): Promise<Response> =>
      fetch(`${URL_}/v1/sessions`, {
        method: 'POST',
        headers: { authorization: 'Bearer fake-token', 'content-type': 'application/json', 'idempotency-key': 'k-1' },
        body: JSON.stringify({ leaseId: lease.leaseId, name: 'x', seed: 1, world: { fn: 'loopback' } }),
      });
    const a = (await (await post()).json()) as { sessionId: string };
    const b = (await (await post()).json()) as { sessionId: string };
    expect(b.sessionId).toBe(a.sessionId);
  });

  it('reports a refused connection as LAB_AGENT_UNREACHABLE after its retries', async () => {
    const port = await closedPort();
    const err = await rejection(new AgentClient({ url: `http://127.0.0.1:${port}`, token: 't', retries: 2, retryDelayMs: 0 }).health());
    expect(err).toBeInstanceOf(LabAgentError);
    expect(err).toMatchObject({ code: 'LAB_AGENT_UNREACHABLE', data: { attempts: 3, errno: 'ECONNREFUSED' } });
    expect((err as Error).message).toMatch(/^\[LAB_AGENT_UNREACHABLE\] GET \/v1\/health: 127\.0\.0\.1:\d+ refused the connection \(nothing listens there\), 3 attempts\. Check that `usbfn-hil agent serve` runs/);
  });

  it('reports a host name that does not resolve as LAB_AGENT_UNREACHABLE', async () => {
    const err = await rejection(new AgentClient({ url: 'http://usbfn-agent.invalid:7311', token: 't', retries: 0 }).health());
    expect(err).toMatchObject({ code: 'LAB_AGENT_UNREACHABLE' });
    expect((err as Error).message).toMatch(/does not resolve \((ENOTFOUND|EAI_AGAIN)\)|failed/);
  });

  it('rejects a malformed agent URL up front', () => {
    expect(() => new AgentClient({ url: 'agent:7311/x y' })).toThrow(/not an http\(s\) URL.*"http:\/\/192\.0\.2\.10:7311"/);
  });

  it('aborts a pending call with AbortedError and leaves nothing running', async () => {
    const clock = new ManualClock();
    let arrived = 0;
    server.use(
      http.get(`${URL_}/v1/sessions/:id`, async () => {
        arrived++;
        await delay('infinite');
        return HttpResponse.json({});
      }),
    );
    const ac = new AbortController();
    const pending = rejection(client({ clock }).getSession('S1', { signal: ac.signal }));
    await until(() => arrived === 1, 'the request to arrive');
    ac.abort(new Error('scenario ended'));
    const err = await pending;
    expect(err).toBeInstanceOf(AbortedError);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('AgentClient: leases', () => {
  it('acquires, refuses a second holder with LAB_AGENT_BUSY naming the holder, and lets it in after release', async () => {
    const a = client();
    const lease = await a.acquireLease({ holder: 'ci-runner-3', runId: 'run-1', ttlMs: 60_000 });
    expect(lease).toMatchObject({ holder: 'ci-runner-3', runId: 'run-1' });
    const err = await rejection(client().acquireLease({ holder: 'alice', ttlMs: 60_000 }));
    expect(err).toMatchObject({ code: 'LAB_AGENT_BUSY', data: { holder: 'ci-runner-3', attempts: 1 } });
    expect((err as Error).message).toMatch(/^\[LAB_AGENT_BUSY\] POST \/v1\/leases: the bench is held by "ci-runner-3" until \d{4}-\d\d-\d\dT[\d:.]+Z \(agent clock\) unless renewed; waited 0 ms over 1 attempt\. /);
    await a.releaseLease(lease.leaseId);
    await expect(client().acquireLease({ holder: 'alice', ttlMs: 60_000 })).resolves.toMatchObject({ holder: 'alice' });
  });

  it('waits with back-off on 409 within one deadline, then takes the lease when it is released', async () => {
    const clock = new ManualClock();
    const a = client({ clock });
    const first = await a.acquireLease({ holder: 'first', ttlMs: 60_000 });
    let settled = false;
    const second = client({ clock })
      .acquireLease({ holder: 'second', ttlMs: 60_000, waitMs: 30_000 })
      .finally(() => {
        settled = true;
      });
    const attempts = (): number => fake().requests.filter((r) => r.operation === 'acquireLease' && (r.body as { holder: string }).holder === 'second').length;
    await until(() => attempts() === 1, 'the first attempt');
    // random() = 0.5: pauses of exactly 250, 500, 1000 ms.
    await clock.advance(250);
    expect(attempts()).toBe(2);
    await clock.advance(500);
    expect(attempts()).toBe(3);
    await a.releaseLease(first.leaseId);
    await clock.advance(1_000);
    expect(settled).toBe(true);
    await expect(second).resolves.toMatchObject({ holder: 'second' });
  });

  it('gives up with LAB_AGENT_BUSY when the wait runs out', async () => {
    const clock = new ManualClock();
    await client({ clock }).acquireLease({ holder: 'first', ttlMs: 600_000 });
    const pending = rejection(client({ clock }).acquireLease({ holder: 'second', ttlMs: 60_000, waitMs: 1_000 }));
    await until(() => fake().requests.length >= 2, 'the first attempt');
    await clock.advance(250); // attempt 2; the next pause (500) would pass the 1000 ms budget after 750 ms
    await clock.advance(500);
    const err = await pending;
    expect(err).toMatchObject({ code: 'LAB_AGENT_BUSY', data: { holder: 'first', waitMs: 1_000 } });
    expect((err as LabAgentError).data['attempts']).toBeGreaterThanOrEqual(2);
  });
});
