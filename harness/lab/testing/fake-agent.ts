/**
 * `FakeAgent`: the device agent of protocol v1 as msw request handlers over an in-memory state machine
 * (lease → session → service states → events), for testing the harness side without a device.
 *
 * It behaves as the protocol says (docs/lab-setup.md): bearer token on every route but the liveness probe,
 * requests validated against the route's body schema (400), one lease (409 LAB_AGENT_BUSY for a second
 * holder, expiry after its TTL), one session, waits answered 408 with a serialized `TimeoutError` or 504
 * past the `usbfn-deadline-ms` header, idempotent POSTs, an NDJSON event stream with a cursor, gap lines
 * and heartbeats. Every answer it gives is checked against the route's response schema first; an answer
 * that does not conform is recorded in {@link FakeAgent.violations} (tests assert there are none), so the
 * fake cannot drift from the protocol unnoticed.
 *
 * Per-test misbehaviour (a cut stream, a bad body, a 500) is not built in: tests prepend msw overrides with
 * `server.use()`, which `resetHandlers()` removes after each test.
 */
import type { TSchema } from '@sinclair/typebox';
import { http, HttpResponse, type HttpHandler } from 'msw';
import { RealClock, TimeoutError, Win32Error, type Clock, type ClockTimer, type HarnessErrorJSON } from '../../../core/index.js';
import {
  AGENT_ERROR_STATUS,
  AGENT_HEADER,
  AGENT_PROTOCOL_VERSION,
  agentOpenApiDocument,
  agentSchemaHash,
  NDJSON,
  type DeviceLogEntryJson,
  type DeviceStatusJson,
  type EventLine,
  type FaultRequest,
  type Health,
  type LeaseInfo,
  type SessionOpenRequest,
} from '../../../device-side/index.js';
import { firstSchemaError, routeOf, type AgentOperation } from '../route-schemas.js';

/** Fault kinds of protocol v1. */
export type FakeFaultKind = Health['faults'][number];

export interface FakeAgentOptions {
  /** Base URL the handlers answer (default `http://agent.test:7311`). */
  readonly url?: string | undefined;
  /** The token it accepts (default `fake-token`). */
  readonly token?: string | undefined;
  /** Clock of leases, waits and heartbeats (default real time). */
  readonly clock?: Clock | undefined;
  /** Heartbeat period of followed streams (default 2000 ms). */
  readonly heartbeatMs?: number | undefined;
  /** Fault kinds advertised in health and accepted (default failIoctl, dropNotification, closeHandle, restartService). */
  readonly faults?: readonly FakeFaultKind[] | undefined;
  /** Whether a host configures the device once the service is active (default true). */
  readonly hostConnected?: boolean | undefined;
  /** Entries the session's ring keeps (default 5000). */
  readonly ringCapacity?: number | undefined;
  readonly bench?: { id: string; tags: string[] } | undefined;
  /** Schema hash it reports (default the real one; another simulates version skew). */
  readonly schemaHash?: string | undefined;
  /** Whether the USB function's interface is present on the device (default true). */
  readonly functionPresent?: boolean | undefined;
}

/** A request the fake received. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly operation: AgentOperation;
  readonly idempotencyKey: string | null;
  readonly deadlineMs: number | null;
  readonly authorized: boolean;
  readonly body: unknown;
}

interface Lease {
  readonly leaseId: string;
  readonly holder: string;
  readonly runId: string | undefined;
  ttlMs: number;
  expiresAt: number;
}

interface FakeSession {
  readonly sessionId: string;
  readonly leaseId: string;
  readonly name: string;
  readonly world: SessionOpenRequest['world'];
  readonly openedAt: number;
  service: DeviceStatusJson['service'];
  bus: DeviceStatusJson['bus'];
  openCount: number;
  symbolicLink: string | null;
  ring: DeviceLogEntryJson[];
  nextSeq: number;
  dropped: number;
  trace: Record<string, unknown>[];
  readonly listeners: Set<() => void>;
  closed: boolean;
}

const WALL_EPOCH_MS = Date.UTC(2025, 0, 1);
const SYMBOLIC_LINK = '\\\\?\\USB#VID_1209&PID_0001#FAKE#{a9ae4d8d-0000-4000-8000-fa4e00000001}';
const FAULT_LABEL: Record<FakeFaultKind, string> = {
  failIoctl: 'injected at the seam',
  dropNotification: 'injected at the seam',
  pnp: 'real PnP',
  closeHandle: 'real',
  restartService: 'real',
  crashWorker: 'self-test',
  hangWorker: 'self-test',
};

type Answer = { status: number; json?: unknown; stream?: ReadableStream<Uint8Array> };

export class FakeAgent {
  readonly url: string;
  readonly token: string;
  readonly clock: Clock;
  readonly heartbeatMs: number;
  readonly faults: readonly FakeFaultKind[];
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];
  /** Answers that did not match the protocol's schema (must stay empty). */
  readonly violations: string[] = [];
  readonly #bench: { id: string; tags: string[] };
  readonly #schemaHash: string;
  readonly #ringCapacity: number;
  readonly #functionPresent: boolean;
  readonly #idempotent = new Map<string, Answer>();
  readonly #closedSessions = new Set<string>();
  #hostConnected: boolean;
  #heartbeats = true;
  #lease: Lease | null = null;
  #session: FakeSession | null = null;
  #ids = 0;
  #workerRestarts = 0;

  constructor(options: FakeAgentOptions = {}) {
    this.url = (options.url ?? 'http://agent.test:7311').replace(/\/+$/, '');
    this.token = options.token ?? 'fake-token';
    this.clock = options.clock ?? new RealClock();
    this.heartbeatMs = options.heartbeatMs ?? 2_000;
    this.faults = options.faults ?? ['failIoctl', 'dropNotification', 'closeHandle', 'restartService'];
    this.#hostConnected = options.hostConnected ?? true;
    this.#ringCapacity = options.ringCapacity ?? 5_000;
    this.#bench = options.bench ?? { id: 'fake-bench', tags: ['speed-high'] };
    this.#schemaHash = options.schemaHash ?? agentSchemaHash();
    this.#functionPresent = options.functionPresent ?? true;
  }

  // ---- test controls --------------------------------------------------------------------------------

  /** The lease held now (after expiry: null). */
  get lease(): LeaseInfo | null {
    const l = this.#currentLease();
    return l === null ? null : this.#leaseInfo(l);
  }

  /** The open session's id, or null. */
  get sessionId(): string | null {
    return this.#session?.sessionId ?? null;
  }

  /** Appends an entry to the open session's log (and to followers). */
  emit(kind: string, detail?: Record<string, unknown>, level: DeviceLogEntryJson['level'] = 'info'): void {
    if (this.#session !== null) this.#log(this.#session, kind, detail, level);
  }

  /** A host configures (true) or deconfigures (false) the device. */
  setHostConnected(connected: boolean): void {
    this.#hostConnected = connected;
    const s = this.#session;
    if (s === null) return;
    if (connected && s.service === 'active' && s.bus !== 'configured') this.#setBus(s, 'configured');
    if (!connected && s.bus === 'configured') this.#setBus(s, 'attached');
  }

  /** Followed streams stop sending heartbeats (a hung agent whose sockets stay open). */
  stopHeartbeats(): void {
    this.#heartbeats = false;
  }

  // ---- msw ------------------------------------------------------------------------------------------

  /** The msw handlers of every route. */
  handlers(): HttpHandler[] {
    const route = (op: AgentOperation, act: (req: Request, params: Record<string, string>, body: unknown) => Answer | Promise<Answer>): HttpHandler => {
      const spec = routeOf(op);
      const path = `${this.url}${spec.path.replace(/\{(\w+)\}/g, ':$1')}`;
      const method = spec.method.toLowerCase() as 'get' | 'post' | 'delete';
      return http[method](path, async ({ request, params }) => {
        const p = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)]));
        return this.#handle(op, request, p, act);
      });
    };
    return [
      route('getHealth', (req) => this.#health(req)),
      route('getSchema', () => ({ status: 200, json: agentOpenApiDocument('fake') })),
      route('acquireLease', (_req, _p, body) => this.#acquire(body as { holder: string; runId?: string; ttlMs: number })),
      route('renewLease', (_req, p, body) => this.#renew(p['leaseId']!, body as { ttlMs?: number })),
      route('releaseLease', (_req, p) => this.#release(p['leaseId']!)),
      route('openSession', (_req, _p, body) => this.#open(body as SessionOpenRequest)),
      route('getSession', (_req, p) => this.#withSession(p, (s) => ({ status: 200, json: this.#sessionInfo(s) }))),
      route('startService', (_req, p) => this.#withSession(p, (s) => this.#startService(s))),
      route('stopService', (_req, p) => this.#withSession(p, (s) => this.#stopService(s))),
      route('waitFor', (req, p, body) => this.#withSession(p, (s) => this.#wait(s, req, body as { until: 'configured' | 'active' | 'waiting'; timeoutMs: number }))),
      route('streamEvents', (req, p) => this.#withSession(p, (s) => this.#events(s, req))),
      route('getLog', (_req, p) => this.#withSession(p, (s) => ({ status: 200, json: this.#logOf(s) }))),
      route('getTrace', (_req, p) => this.#withSession(p, (s) => ({ status: 200, stream: linesStream(s.trace) }))),
      route('injectFault', (_req, p, body) => this.#withSession(p, (s) => this.#fault(s, body as FaultRequest))),
      route('closeSession', (_req, p) => this.#withSession(p, (s) => ({ status: 200, json: { log: this.#close(s) } }))),
      route('restartWorker', () => this.#restartWorker()),
    ];
  }

  async #handle(op: AgentOperation, request: Request, params: Record<string, string>, act: (req: Request, params: Record<string, string>, body: unknown) => Answer | Promise<Answer>): Promise<Response> {
    const spec = routeOf(op);
    const url = new URL(request.url);
    const probe = op === 'getHealth' && url.searchParams.get('probe') === '1';
    const authorized = request.headers.get(AGENT_HEADER.AUTHORIZATION) === `Bearer ${this.token}`;
    let body: unknown;
    if (spec.method === 'POST') {
      const text = await request.text();
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const key = request.headers.get(AGENT_HEADER.IDEMPOTENCY_KEY);
    const deadline = request.headers.get(AGENT_HEADER.DEADLINE_MS);
    this.requests.push({ method: spec.method, path: url.pathname, operation: op, idempotencyKey: key, deadlineMs: deadline === null ? null : Number(deadline), authorized, body });

    if (!probe && !authorized) {
      return this.#respond(op, this.#error('LAB_AGENT_UNAUTHORIZED', 'no valid bearer token', 'send Authorization: Bearer <token>'));
    }
    if (spec.body !== undefined) {
      const problem = firstSchemaError(spec.body, body);
      if (problem !== undefined) return this.#respond(op, this.#error('LAB_AGENT_BAD_REQUEST', `the body does not match the schema at ${problem}`));
    }
    const replayKey = key === null || spec.method !== 'POST' ? undefined : `${op} ${url.pathname} ${key}`;
    const earlier = replayKey === undefined ? undefined : this.#idempotent.get(replayKey);
    if (earlier !== undefined) return this.#respond(op, earlier);
    const answer = await act(request, params, body);
    if (replayKey !== undefined && answer.stream === undefined) this.#idempotent.set(replayKey, answer);
    return this.#respond(op, answer);
  }

  #respond(op: AgentOperation, answer: Answer): Response {
    const spec = routeOf(op).responses[answer.status];
    if (spec === undefined) this.violations.push(`${op}: status ${answer.status} is not defined for the route`);
    if (answer.stream !== undefined) {
      if (spec !== 'ndjson') this.violations.push(`${op}: a stream answer where the route defines ${String(spec)}`);
      return new HttpResponse(answer.stream, { status: answer.status, headers: { 'content-type': NDJSON } });
    }
    if (spec === 'empty') return new HttpResponse(null, { status: answer.status });
    if (spec !== undefined && spec !== 'ndjson') {
      const problem = firstSchemaError(spec as TSchema, answer.json);
      if (problem !== undefined) this.violations.push(`${op} ${answer.status}: ${problem}`);
    }
    return HttpResponse.json(answer.json as Record<string, unknown>, { status: answer.status });
  }

  #error(code: keyof typeof AGENT_ERROR_STATUS, message: string, fix?: string, harnessError?: HarnessErrorJSON): Answer {
    const error: Record<string, unknown> = { code, message };
    if (fix !== undefined) error['fix'] = fix;
    if (harnessError !== undefined) error['harnessError'] = stripUndefined(harnessError);
    return { status: AGENT_ERROR_STATUS[code], json: { error } };
  }

  #wallMs(): number {
    return WALL_EPOCH_MS + this.clock.now();
  }

  #id(prefix: string): string {
    return `${prefix}${++this.#ids}`;
  }

  // ---- health and leases ----------------------------------------------------------------------------

  #health(req: Request): Answer {
    if (new URL(req.url).searchParams.get('probe') === '1') return { status: 200, json: { ok: true } };
    const lease = this.#currentLease();
    const health: Health = {
      ok: true,
      agentVersion: '0.1.0-fake',
      protocol: AGENT_PROTOCOL_VERSION,
      schemaHash: this.#schemaHash,
      nowMs: this.#wallMs(),
      uptimeMs: this.clock.now(),
      node: process.version,
      os: { platform: 'fake', release: '0', arch: process.arch },
      backend: 'sim',
      bench: this.#bench,
      lease: lease === null ? null : this.#leaseInfo(lease),
      worker: { state: 'ready', mode: 'in-process', pid: null, restarts: this.#workerRestarts },
      usbfn: this.#functionPresent
        ? { interfaceGuid: '{a9ae4d8d-0000-4000-8000-fa4e00000001}', present: true, symbolicLink: SYMBOLIC_LINK }
        : { interfaceGuid: '{a9ae4d8d-0000-4000-8000-fa4e00000001}', present: false, symbolicLink: null, problem: 'CM_Get_Device_Interface_List returned an empty list' },
      pnp: { allowed: false, verbs: [] },
      faults: [...this.faults],
      sessionId: this.#session?.sessionId ?? null,
    };
    return { status: 200, json: health };
  }

  #currentLease(): Lease | null {
    if (this.#lease !== null && this.clock.now() >= this.#lease.expiresAt) {
      // Expired: its session ends with it.
      if (this.#session !== null && this.#session.leaseId === this.#lease.leaseId) this.#close(this.#session);
      this.#lease = null;
    }
    return this.#lease;
  }

  #leaseInfo(l: Lease): LeaseInfo {
    return { leaseId: l.leaseId, holder: l.holder, ...(l.runId === undefined ? {} : { runId: l.runId }), expiresAtMs: WALL_EPOCH_MS + l.expiresAt };
  }

  #acquire(body: { holder: string; runId?: string; ttlMs: number }): Answer {
    const held = this.#currentLease();
    if (held !== null) {
      return this.#error('LAB_AGENT_BUSY', `the bench is held by ${JSON.stringify(held.holder)}`, 'wait for the lease to be released or to expire', {
        name: 'HarnessError',
        code: 'LAB_AGENT_BUSY',
        message: `[LAB_AGENT_BUSY] the bench is held by ${JSON.stringify(held.holder)}`,
        data: { holder: held.holder, expiresAtMs: WALL_EPOCH_MS + held.expiresAt },
      });
    }
    this.#lease = { leaseId: this.#id('L'), holder: body.holder, runId: body.runId, ttlMs: body.ttlMs, expiresAt: this.clock.now() + body.ttlMs };
    return { status: 201, json: this.#leaseInfo(this.#lease) };
  }

  #renew(leaseId: string, body: { ttlMs?: number }): Answer {
    const l = this.#currentLease();
    if (l === null || l.leaseId !== leaseId) return this.#error('LAB_AGENT_NOT_FOUND', `no lease ${leaseId}`);
    if (body.ttlMs !== undefined) l.ttlMs = body.ttlMs;
    l.expiresAt = this.clock.now() + l.ttlMs;
    return { status: 200, json: this.#leaseInfo(l) };
  }

  #release(leaseId: string): Answer {
    const l = this.#currentLease();
    if (l === null || l.leaseId !== leaseId) return this.#error('LAB_AGENT_NOT_FOUND', `no lease ${leaseId}`);
    if (this.#session !== null && this.#session.leaseId === leaseId) this.#close(this.#session);
    this.#lease = null;
    return { status: 204 };
  }

  // ---- sessions -------------------------------------------------------------------------------------

  #open(req: SessionOpenRequest): Answer {
    const l = this.#currentLease();
    if (l === null) return this.#error('LAB_AGENT_NOT_FOUND', `no lease ${req.leaseId}: take one with POST /v1/leases`);
    if (l.leaseId !== req.leaseId) return this.#error('LAB_AGENT_BUSY', `the bench is held by ${JSON.stringify(l.holder)}`);
    if (this.#session !== null) this.#close(this.#session);
    const s: FakeSession = {
      sessionId: this.#id('S'),
      leaseId: l.leaseId,
      name: req.name,
      world: req.world,
      openedAt: this.clock.now(),
      service: 'idle',
      bus: 'detached',
      openCount: 0,
      symbolicLink: null,
      ring: [],
      nextSeq: 1,
      dropped: 0,
      trace: [],
      listeners: new Set(),
      closed: false,
    };
    this.#session = s;
    this.#log(s, 'session', { name: req.name, seed: req.seed, fn: req.world.fn });
    if (req.world.startService !== false) this.#startService(s);
    return { status: 201, json: this.#sessionInfo(s) };
  }

  #withSession(params: Record<string, string>, act: (s: FakeSession) => Answer | Promise<Answer>): Answer | Promise<Answer> {
    const id = params['sessionId']!;
    const s = this.#currentLease() === null ? null : this.#session;
    if (s === null || s.sessionId !== id) {
      return this.#error('LAB_AGENT_NO_SESSION', `no session ${id}${this.#closedSessions.has(id) ? ' (it was closed)' : ''}`);
    }
    return act(s);
  }

  #status(s: FakeSession): DeviceStatusJson {
    return { service: s.service, bus: s.bus, openCount: s.openCount, symbolicLink: s.symbolicLink };
  }

  #sessionInfo(s: FakeSession): Record<string, unknown> {
    return { sessionId: s.sessionId, functionName: s.world.fn === 'sourceSink' ? 'source-sink' : 'loopback', status: this.#status(s), openedAtMs: WALL_EPOCH_MS + s.openedAt };
  }

  #log(s: FakeSession, kind: string, detail?: Record<string, unknown>, level: DeviceLogEntryJson['level'] = 'info', error?: HarnessErrorJSON): void {
    const entry: DeviceLogEntryJson = {
      seq: s.nextSeq++,
      timeMs: this.clock.now() - s.openedAt,
      wallMs: this.#wallMs(),
      level,
      kind,
      ...(detail === undefined ? {} : { detail }),
      ...(error === undefined ? {} : { error: stripUndefined(error) as DeviceLogEntryJson['error'] }),
    };
    s.ring.push(entry);
    if (s.ring.length > this.#ringCapacity) {
      s.ring.shift();
      s.dropped++;
    }
    if (s.world.trace === true) s.trace.push({ timeMs: entry.timeMs, op: kind });
    for (const l of [...s.listeners]) l();
  }

  #setService(s: FakeSession, service: DeviceStatusJson['service']): void {
    s.service = service;
    this.#log(s, 'state', { service });
  }

  #setBus(s: FakeSession, bus: DeviceStatusJson['bus']): void {
    s.bus = bus;
    this.#log(s, 'busEvent', { bus });
  }

  #startService(s: FakeSession): Answer {
    if (s.service === 'active') return { status: 200, json: { status: this.#status(s) } };
    this.#setService(s, 'waitingForInterface');
    s.openCount++;
    s.symbolicLink = SYMBOLIC_LINK;
    this.#log(s, 'open', { symbolicLink: SYMBOLIC_LINK });
    this.#setService(s, 'active');
    this.#setBus(s, 'attached');
    if (this.#hostConnected) this.#setBus(s, 'configured');
    return { status: 200, json: { status: this.#status(s) } };
  }

  #stopService(s: FakeSession): Answer {
    if (s.service !== 'idle' && s.service !== 'stopped') {
      this.#setService(s, 'stopping');
      s.symbolicLink = null;
      s.bus = 'detached';
      this.#setService(s, 'stopped');
    }
    return { status: 200, json: { status: this.#status(s) } };
  }

  #wait(s: FakeSession, req: Request, body: { until: 'configured' | 'active' | 'waiting'; timeoutMs: number }): Promise<Answer> {
    const reached = (): boolean =>
      body.until === 'configured' ? s.bus === 'configured' : body.until === 'active' ? s.service === 'active' : s.service === 'waitingForInterface';
    const header = req.headers.get(AGENT_HEADER.DEADLINE_MS);
    const deadlineMs = header === null ? Infinity : Number(header);
    return new Promise<Answer>((resolve) => {
      const timers: ClockTimer[] = [];
      const finish = (answer: Answer): void => {
        for (const t of timers) t.cancel();
        s.listeners.delete(check);
        req.signal.removeEventListener('abort', onAbort);
        resolve(answer);
      };
      const check = (): void => {
        if (s.closed) finish(this.#error('LAB_AGENT_NO_SESSION', `session ${s.sessionId} closed during the wait`));
        else if (reached()) finish({ status: 200, json: { status: this.#status(s), atMs: this.clock.now() - s.openedAt } });
      };
      // The caller went away: its answer is never read, but it must still be a protocol answer.
      const onAbort = (): void => finish(this.#error('LAB_AGENT_DEADLINE', 'the caller abandoned the wait'));
      if (s.closed || reached()) {
        check();
        return;
      }
      s.listeners.add(check);
      req.signal.addEventListener('abort', onAbort, { once: true });
      if (deadlineMs < body.timeoutMs) {
        timers.push(this.clock.setTimer(deadlineMs, () => finish(this.#error('LAB_AGENT_DEADLINE', `the wait for ${body.until} passed the request's deadline of ${deadlineMs} ms`))));
      } else {
        timers.push(
          this.clock.setTimer(body.timeoutMs, () => {
            const err = new TimeoutError(`the device to be ${body.until}`, body.timeoutMs, `service ${s.service}, bus ${s.bus}`);
            finish(this.#error('TIMEOUT', err.message, undefined, err.toJSON()));
          }),
        );
      }
    });
  }

  #logOf(s: FakeSession): { entries: DeviceLogEntryJson[]; dropped: number } {
    return { entries: [...s.ring], dropped: s.dropped };
  }

  #events(s: FakeSession, req: Request): Answer {
    const url = new URL(req.url);
    const after = Number(url.searchParams.get('after') ?? '0');
    const follow = url.searchParams.get('follow') === '1';
    const encoder = new TextEncoder();
    let cursor = after;
    let heartbeat: ClockTimer | undefined;
    let listener: (() => void) | undefined;
    const stop = (): void => {
      heartbeat?.cancel();
      if (listener !== undefined) s.listeners.delete(listener);
    };
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        const send = (line: EventLine): void => controller.enqueue(encoder.encode(`${JSON.stringify(line)}\n`));
        const first = s.ring[0]?.seq ?? s.nextSeq;
        if (cursor < first - 1 && s.dropped > 0) {
          send({ type: 'gap', fromSeq: cursor + 1, toSeq: first - 1, dropped: first - 1 - cursor });
          cursor = first - 1;
        }
        const flush = (): void => {
          for (const entry of s.ring) {
            if (entry.seq > cursor) {
              send({ type: 'entry', entry });
              cursor = entry.seq;
            }
          }
        };
        flush();
        if (!follow) {
          controller.close();
          return;
        }
        const beat = (): void => {
          heartbeat = this.clock.setTimer(this.heartbeatMs, () => {
            if (this.#heartbeats) send({ type: 'heartbeat', wallMs: this.#wallMs(), lastSeq: cursor });
            beat();
          });
        };
        listener = (): void => {
          try {
            flush();
            if (s.closed) {
              stop();
              controller.close();
            }
          } catch {
            stop(); // the reader went away
          }
        };
        s.listeners.add(listener);
        beat();
        req.signal.addEventListener('abort', stop, { once: true });
      },
      cancel: () => {
        stop();
      },
    });
    return { status: 200, stream };
  }

  #fault(s: FakeSession, fault: FaultRequest): Answer {
    if (!this.faults.includes(fault.kind)) {
      return this.#error('LAB_AGENT_FAULT_UNSUPPORTED', `fault kind '${fault.kind}' is not available on this agent (it offers: ${this.faults.join(', ')})`);
    }
    const faultId = this.#id('F');
    this.#log(s, 'fault', { faultId, kind: fault.kind, label: FAULT_LABEL[fault.kind] });
    if (fault.kind === 'restartService') {
      this.#stopService(s);
      this.#startService(s);
    }
    if (fault.kind === 'failIoctl') {
      const err = new Win32Error({ api: 'DeviceIoControl', win32: fault.win32, win32Name: 'ERROR_GEN_FAILURE', ioctl: fault.ioctl, detail: 'injected at the seam' });
      this.#log(s, 'faultArmed', { faultId }, 'warn', err.toJSON());
    }
    return { status: 202, json: { faultId, kind: fault.kind, label: FAULT_LABEL[fault.kind] } };
  }

  #close(s: FakeSession): { entries: DeviceLogEntryJson[]; dropped: number } {
    this.#stopService(s);
    this.#log(s, 'closed');
    s.closed = true;
    for (const l of [...s.listeners]) l();
    this.#closedSessions.add(s.sessionId);
    if (this.#session === s) this.#session = null;
    return this.#logOf(s);
  }

  #restartWorker(): Answer {
    if (this.#session !== null) this.#close(this.#session);
    this.#workerRestarts++;
    return { status: 200, json: { worker: { state: 'ready', pid: null, restarts: this.#workerRestarts } } };
  }
}

function linesStream(lines: readonly unknown[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const l of lines) controller.enqueue(encoder.encode(`${JSON.stringify(l)}\n`));
      controller.close();
    },
  });
}

/** JSON without `undefined` members (what the wire carries). */
function stripUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
