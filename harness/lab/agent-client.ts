/**
 * `AgentClient`: the harness's client of the device agent (`usbfn-hil agent serve`), protocol v1 over
 * HTTP/1.1 + JSON with an NDJSON event stream (device-side/agent/protocol, docs/lab-setup.md).
 *
 * - One method per route. Every answer is validated against the route's schema (TypeBox `TypeCompiler`); a
 *   body that does not match is `LAB_AGENT_BAD_RESPONSE` naming the route and the first schema error.
 * - Errors of the agent's envelope are rebuilt with `errorFromJSON`: a `Win32Error` raised on the device is
 *   a `Win32Error` here. Infrastructure codes (`LAB_AGENT_*`) become {@link LabAgentError}.
 * - Every call has ONE deadline (sent as `usbfn-deadline-ms`, enforced here too), however many retries it
 *   takes; a POST carries an `Idempotency-Key`, reused when it is retried after a connection reset.
 * - Everything takes an AbortSignal; nothing is left running (no unhandled rejections).
 */
import { randomUUID } from 'node:crypto';
import type { TSchema } from '@sinclair/typebox';
import { AbortedError, delay, errorFromJSON, HarnessError, RealClock, TimeoutError, type Clock } from '../../core/index.js';
import {
  AGENT_HEADER,
  AGENT_PROTOCOL_VERSION,
  agentSchemaHash,
  Health,
  Liveness,
  NDJSON,
  type DeviceLogResponse,
  type ErrorEnvelope,
  type FaultAccepted,
  type FaultRequest,
  type LeaseInfo,
  type RouteSpec,
  type SessionInfo,
  type SessionOpenRequest,
  type WaitRequest,
} from '../../device-side/index.js';
import { Deadline } from './deadline.js';
import { readEventStream, type EventStreamItem, type EventStreamOptions } from './event-stream.js';
import { LabAgentError } from './lab-agent-error.js';
import { envelopeError, firstSchemaError, routeOf, type AgentOperation } from './route-schemas.js';

export interface AgentClientOptions {
  /** The agent's base URL, e.g. `http://192.0.2.10:7311`. */
  readonly url: string;
  /** The bearer token (from the environment, never from a file); undefined sends none. */
  readonly token?: string | undefined;
  /** Clock for deadlines, back-off and stall detection (default real time). */
  readonly clock?: Clock | undefined;
  /** Deadline of a call that gives none (default 10 000 ms, the sim rig's default wait). */
  readonly deadlineMs?: number | undefined;
  /** Transport slack past a deadline before the client gives up itself, so the agent's 504 arrives first (default 1000 ms). */
  readonly graceMs?: number | undefined;
  /** Retries of a request after a network failure, within its deadline (default 2). */
  readonly retries?: number | undefined;
  /** First pause before such a retry; doubles each time (default 100 ms). */
  readonly retryDelayMs?: number | undefined;
  /** The agent's heartbeat period on the event stream (default 2000 ms). */
  readonly heartbeatMs?: number | undefined;
  /** Pause before reconnecting a broken event stream (default 200 ms). */
  readonly reconnectDelayMs?: number | undefined;
  /** Random source of back-off jitter (default Math.random; tests pass a fixed one). */
  readonly random?: (() => number) | undefined;
  /** The fetch to use (default the global one). */
  readonly fetch?: typeof fetch | undefined;
}

/** Options every call takes. */
export interface CallOptions {
  /** This call's deadline in ms (default the client's). Ignored when `deadline` is given. */
  readonly deadlineMs?: number | undefined;
  /** A deadline shared with other calls (a composite operation). */
  readonly deadline?: Deadline | undefined;
  readonly signal?: AbortSignal | undefined;
  /**
   * The Idempotency-Key of a POST (default a fresh one per call, reused by the call's own retries). Give
   * the same key to repeat an operation across calls: the agent answers the first answer again.
   */
  readonly idempotencyKey?: string | undefined;
}

export interface AcquireLeaseOptions extends CallOptions {
  /** Who takes the bench (shown to others on 409), e.g. `ci-runner-3 pid 4711`. */
  readonly holder: string;
  readonly runId?: string | undefined;
  readonly ttlMs: number;
  /** How long to wait while another holder has the lease, retrying with back-off (default 0: fail at once). */
  readonly waitMs?: number | undefined;
}

const DEADLINE = Symbol('deadline');
const DEFAULT_DEADLINE_MS = 10_000;
/** Back-off while the lease is busy: first pause and cap. */
const BUSY_BACKOFF_MS = { first: 250, max: 5_000 } as const;
/** A wait on the device may use its whole timeout; the answer then needs a moment to come back. */
const WAIT_SLACK_MS = 2_000;

/** A fetch rejection or body failure that is not an abort: the network, not the agent, failed. */
class TransportFailure extends Error {
  constructor(readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original));
  }
}

/** The system error code (`ECONNREFUSED`, `ENOTFOUND`, `UND_ERR_SOCKET`, ...) somewhere in a cause chain. */
function systemCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 6; depth++) {
    const o = e as { code?: unknown; cause?: unknown; errors?: unknown[] };
    if (typeof o.code === 'string' && /^[A-Z_]+$/.test(o.code)) return o.code;
    if (Array.isArray(o.errors)) for (const sub of o.errors) {
      const c = systemCode(sub);
      if (c !== undefined) return c;
    }
    e = o.cause;
  }
  return undefined;
}

/**
 * The client of one device agent.
 *
 * @example
 * const client = new AgentClient({ url: 'http://192.0.2.10:7311', token: process.env.USBFN_HIL_AGENT_TOKEN });
 * const health = await client.checkVersion();
 * const lease = await client.acquireLease({ holder: 'ci-3', ttlMs: 60_000, waitMs: 120_000 });
 * const session = await client.openSession({ leaseId: lease.leaseId, name: 'smoke', seed: 1, world: { fn: 'loopback' } });
 * @see docs/lab-setup.md
 */
export class AgentClient {
  readonly url: string;
  readonly clock: Clock;
  readonly heartbeatMs: number;
  readonly #token: string | undefined;
  readonly #deadlineMs: number;
  readonly #graceMs: number;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #reconnectDelayMs: number;
  readonly #random: () => number;
  readonly #fetch: typeof fetch;

  constructor(options: AgentClientOptions) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(options.url);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      throw new LabAgentError('LAB_AGENT_UNREACHABLE', { what: `agent URL ${JSON.stringify(options.url)}`, why: 'it is not an http(s) URL', fix: 'Give agent.url as e.g. "http://192.0.2.10:7311"' });
    }
    this.url = parsed.href.replace(/\/+$/, '');
    this.#token = options.token;
    this.clock = options.clock ?? new RealClock();
    this.#deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.#graceMs = options.graceMs ?? 1_000;
    this.#retries = options.retries ?? 2;
    this.#retryDelayMs = options.retryDelayMs ?? 100;
    this.heartbeatMs = options.heartbeatMs ?? 2_000;
    this.#reconnectDelayMs = options.reconnectDelayMs ?? 200;
    this.#random = options.random ?? Math.random;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** A copy of this client with another token (or none): what a second holder or an intruder would use. */
  withToken(token: string | undefined): AgentClient {
    return new AgentClient({
      url: this.url,
      token,
      clock: this.clock,
      deadlineMs: this.#deadlineMs,
      graceMs: this.#graceMs,
      retries: this.#retries,
      retryDelayMs: this.#retryDelayMs,
      heartbeatMs: this.heartbeatMs,
      reconnectDelayMs: this.#reconnectDelayMs,
      random: this.#random,
      fetch: this.#fetch,
    });
  }

  // ---- health ---------------------------------------------------------------------------------------

  /** `GET /v1/health`: versions, schema hash, backend, lease, worker, USBFN interface presence. */
  async health(options: CallOptions = {}): Promise<Health> {
    // The route answers Health or, for ?probe=1, Liveness: a full request must get the full Health.
    return this.#json<Health>('getHealth', {}, options, Health);
  }

  /** `GET /v1/health?probe=1` without a token: is anything alive at the URL. */
  async probe(options: CallOptions = {}): Promise<{ ok: true }> {
    return this.#json<{ ok: true }>('getHealth', { query: { probe: 1 }, auth: false }, options, Liveness);
  }

  /**
   * Health, then the version check: the agent must speak protocol v1 with the same schema hash as this
   * harness. @throws LabAgentError LAB_AGENT_VERSION_MISMATCH, and whatever {@link health} throws.
   */
  async checkVersion(options: CallOptions = {}): Promise<Health> {
    const health = await this.health(options);
    const ours = agentSchemaHash();
    if (health.protocol !== AGENT_PROTOCOL_VERSION || health.schemaHash !== ours) {
      throw new LabAgentError('LAB_AGENT_VERSION_MISMATCH', {
        what: `the device agent at ${this.url}`,
        why:
          `it speaks protocol ${health.protocol} with schema ${health.schemaHash.slice(0, 12)} (agent ${health.agentVersion}), ` +
          `this harness protocol ${AGENT_PROTOCOL_VERSION} with schema ${ours.slice(0, 12)}`,
        data: { agentVersion: health.agentVersion, agentSchemaHash: health.schemaHash, harnessSchemaHash: ours, protocol: health.protocol },
      });
    }
    return health;
  }

  /** `GET /v1/schema`: the agent's OpenAPI document. */
  schema(options: CallOptions = {}): Promise<Record<string, unknown>> {
    return this.#json('getSchema', {}, options);
  }

  // ---- leases ---------------------------------------------------------------------------------------

  /**
   * `POST /v1/leases`, waiting up to `waitMs` (back-off with jitter) while another holder has the bench.
   * The whole wait is one deadline. Renewal is the caller's ({@link AgentLease} does it).
   * @throws LabAgentError LAB_AGENT_BUSY naming the holder and its expiry.
   */
  async acquireLease(options: AcquireLeaseOptions): Promise<LeaseInfo> {
    const waitMs = options.waitMs ?? 0;
    const deadline = options.deadline ?? new Deadline(this.clock, waitMs + (options.deadlineMs ?? this.#deadlineMs));
    const body = { holder: options.holder, ttlMs: options.ttlMs, ...(options.runId === undefined ? {} : { runId: options.runId }) };
    let pauseMs: number = BUSY_BACKOFF_MS.first;
    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        return await this.#json<LeaseInfo>('acquireLease', { body }, { deadline: deadline.within(this.#deadlineMs), signal: options.signal });
      } catch (err) {
        if (!(err instanceof LabAgentError) || err.code !== 'LAB_AGENT_BUSY') throw err;
        // Jitter, so that two harnesses waiting for one bench do not knock in step.
        const jittered = pauseMs * (0.5 + this.#random());
        if (deadline.remainingMs() - this.#deadlineMs < jittered) throw await this.#busy(err, attempts, waitMs, options.signal);
        await delay(this.clock, jittered, options.signal);
        pauseMs = Math.min(pauseMs * 2, BUSY_BACKOFF_MS.max);
      }
    }
  }

  /** `POST /v1/leases/{id}/renew`. */
  renewLease(leaseId: string, ttlMs: number | undefined, options: CallOptions = {}): Promise<LeaseInfo> {
    return this.#json('renewLease', { params: { leaseId }, body: ttlMs === undefined ? {} : { ttlMs } }, options);
  }

  /** `DELETE /v1/leases/{id}` (also closes its session). */
  async releaseLease(leaseId: string, options: CallOptions = {}): Promise<void> {
    await this.#json('releaseLease', { params: { leaseId } }, options);
  }

  // ---- sessions -------------------------------------------------------------------------------------

  /** `POST /v1/sessions`: opens a session with the scenario's world (closing an open one of the same lease). */
  openSession(request: SessionOpenRequest, options: CallOptions = {}): Promise<SessionInfo> {
    return this.#json('openSession', { body: request }, options);
  }

  /** `GET /v1/sessions/{id}`: the session and the device status. */
  getSession(sessionId: string, options: CallOptions = {}): Promise<SessionInfo> {
    return this.#json('getSession', { params: { sessionId } }, options);
  }

  /** `POST …/service/start`. */
  startService(sessionId: string, options: CallOptions & { timeoutMs?: number } = {}): Promise<{ status: SessionInfo['status'] }> {
    return this.#serviceCommand('startService', sessionId, options);
  }

  /** `POST …/service/stop`: cancel I/O, unregister notifications, close. */
  stopService(sessionId: string, options: CallOptions & { timeoutMs?: number } = {}): Promise<{ status: SessionInfo['status'] }> {
    return this.#serviceCommand('stopService', sessionId, options);
  }

  /**
   * `POST …/wait`: waits on the device until the service is configured / active / waiting. The call's
   * deadline covers the wait plus the answer's way back.
   * @throws TimeoutError (the device's, rebuilt) when the state did not come within `timeoutMs`.
   */
  async waitFor(sessionId: string, request: WaitRequest, options: Omit<CallOptions, 'deadlineMs'> = {}): Promise<{ status: SessionInfo['status']; atMs: number }> {
    const deadline = options.deadline ?? new Deadline(this.clock, request.timeoutMs + WAIT_SLACK_MS);
    try {
      return await this.#json('waitFor', { params: { sessionId }, body: request }, { deadline, signal: options.signal });
    } catch (err) {
      // An agent that answers 408 without the serialized error still means the device's wait timed out.
      if (err instanceof HarnessError && err.code === 'TIMEOUT' && !(err instanceof TimeoutError)) {
        throw new TimeoutError(`the device to be ${request.until}`, request.timeoutMs, err.message);
      }
      throw err;
    }
  }

  /** `GET …/log`: the device event log held now. */
  log(sessionId: string, options: CallOptions = {}): Promise<DeviceLogResponse> {
    return this.#json('getLog', { params: { sessionId } }, options);
  }

  /** `GET …/trace`: the device trace (JSON lines) of a session opened with `trace: true`. */
  async trace(sessionId: string, options: CallOptions = {}): Promise<Record<string, unknown>[]> {
    const { text } = await this.#exchange('getTrace', { params: { sessionId } }, options);
    const out: Record<string, unknown>[] = [];
    for (const [i, line] of text.split('\n').entries()) {
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw this.#bad('getTrace', { params: { sessionId } }, `trace line ${i + 1} is not JSON`);
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw this.#bad('getTrace', { params: { sessionId } }, `trace line ${i + 1} is not a JSON object`);
      }
      out.push(value as Record<string, unknown>);
    }
    return out;
  }

  /** `POST …/faults`: a fault the bench can do (see health.faults). @throws LabAgentError LAB_AGENT_FAULT_UNSUPPORTED (422) */
  injectFault(sessionId: string, fault: FaultRequest, options: CallOptions = {}): Promise<FaultAccepted> {
    return this.#json('injectFault', { params: { sessionId }, body: fault }, options);
  }

  /** `DELETE /v1/sessions/{id}`: stops the service, closes the session, answers the final log. */
  closeSession(sessionId: string, options: CallOptions = {}): Promise<{ log: DeviceLogResponse }> {
    return this.#json('closeSession', { params: { sessionId } }, options);
  }

  /** `POST /v1/worker/restart`: the bench's recovery step (ends the open session). */
  restartWorker(options: CallOptions = {}): Promise<{ worker: { state: string; pid: number | null; restarts: number } }> {
    return this.#json('restartWorker', { body: {} }, options);
  }

  /**
   * `GET …/events`: the device event log as a stream from a cursor, resumed after disconnects, with gap
   * lines surfaced and a stall (three missed heartbeats) raised as `LAB_AGENT_STALLED`.
   */
  events(sessionId: string, options: EventStreamOptions = {}): AsyncGenerator<EventStreamItem, void, undefined> {
    const follow = options.follow ?? true;
    const route = routeOf('streamEvents');
    return readEventStream({
      ...options,
      follow,
      what: `${route.method} ${this.#path(route, { sessionId })}`,
      clock: this.clock,
      heartbeatMs: this.heartbeatMs,
      reconnectDelayMs: this.#reconnectDelayMs,
      open: (after, signal) => this.#openStream(sessionId, after, follow, signal),
    });
  }

  // ---- transport ------------------------------------------------------------------------------------

  async #serviceCommand(op: 'startService' | 'stopService', sessionId: string, options: CallOptions & { timeoutMs?: number }): Promise<{ status: SessionInfo['status'] }> {
    const body = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
    const call = options.deadline === undefined && options.deadlineMs === undefined && options.timeoutMs !== undefined ? { ...options, deadlineMs: options.timeoutMs + WAIT_SLACK_MS } : options;
    return this.#json(op, { params: { sessionId }, body }, call);
  }

  #path(route: RouteSpec, params: Record<string, string>): string {
    return route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));
  }

  #what(route: RouteSpec, params: Record<string, string> = {}): string {
    return `${route.method} ${this.#path(route, params)}`;
  }

  #bad(op: AgentOperation, req: RequestParts, why: string, data: Record<string, string | number> = {}): LabAgentError {
    return new LabAgentError('LAB_AGENT_BAD_RESPONSE', { what: this.#what(routeOf(op), req.params), why, data: { operation: op, ...data } });
  }

  /** Sends a request and decodes its JSON answer against the route's schema. */
  async #json<T>(op: AgentOperation, req: RequestParts, options: CallOptions, schema?: TSchema): Promise<T> {
    const { status, statusText, text } = await this.#exchange(op, req, options);
    const route = routeOf(op);
    const spec = route.responses[status];
    if (spec === 'empty') return undefined as T;
    if (spec === undefined || spec === 'ndjson') {
      const defined = Object.keys(route.responses).filter((s) => s.startsWith('2')).join(', ');
      throw this.#bad(op, req, `it answered ${status} ${statusText}, which protocol v1 does not define for this route (success: ${defined})`, { status });
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw this.#bad(op, req, `the ${status} answer is not JSON: ${JSON.stringify(text.slice(0, 80))}`, { status });
    }
    const problem = firstSchemaError(schema ?? spec, value);
    if (problem !== undefined) throw this.#bad(op, req, `the ${status} answer does not match the route's schema at ${problem}`, { status, schemaError: problem });
    return value as T;
  }

  /** Sends a request (retrying network failures within the deadline) and reads a 2xx body as text; non-2xx answers throw. */
  async #exchange(op: AgentOperation, req: RequestParts, options: CallOptions): Promise<{ status: number; statusText: string; text: string }> {
    return this.#attempts(op, req, options, async (response) => {
      const text = await response.text().catch((err: unknown) => {
        throw new TransportFailure(err);
      });
      return { status: response.status, statusText: response.statusText, text };
    });
  }

  async #openStream(sessionId: string, after: number, follow: boolean, signal: AbortSignal | undefined): Promise<{ body: ReadableStream<Uint8Array>; abort(reason: unknown): void }> {
    const req: RequestParts = { params: { sessionId }, query: { after, follow: follow ? 1 : 0 }, accept: NDJSON };
    return this.#attempts('streamEvents', req, { signal }, async (response, controller) => {
      if (response.body === null) throw this.#bad('streamEvents', req, 'the 200 answer has no body');
      return { body: response.body, abort: (reason: unknown) => controller.abort(reason) };
    });
  }

  /**
   * The request loop: one deadline for all attempts, the deadline header, the Idempotency-Key of a POST
   * (the same on every retry), network failures retried with back-off, everything else decoded.
   */
  async #attempts<T>(op: AgentOperation, req: RequestParts, options: CallOptions, read: (response: Response, controller: AbortController) => Promise<T>): Promise<T> {
    const route = routeOf(op);
    const what = this.#what(route, req.params);
    const deadline = options.deadline ?? new Deadline(this.clock, options.deadlineMs ?? this.#deadlineMs);
    const { signal } = options;
    const url = new URL(this.url + this.#path(route, req.params ?? {}));
    for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: req.accept ?? 'application/json' };
    if (req.auth !== false && this.#token !== undefined) headers[AGENT_HEADER.AUTHORIZATION] = `Bearer ${this.#token}`;
    if (route.method === 'POST') {
      headers['content-type'] = 'application/json';
      headers[AGENT_HEADER.IDEMPOTENCY_KEY] = options.idempotencyKey ?? randomUUID();
    }
    const body = route.method === 'POST' ? JSON.stringify(req.body ?? {}) : undefined;
    let lastFailure: TransportFailure | undefined;

    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw new AbortedError(what, signal.reason);
      const remainingMs = deadline.remainingMs();
      if (remainingMs <= 0) throw this.#deadlineError(what, deadline, lastFailure);
      headers[AGENT_HEADER.DEADLINE_MS] = String(Math.max(1, Math.floor(remainingMs)));
      const controller = new AbortController();
      const timer = this.clock.setTimer(remainingMs + this.#graceMs, () => controller.abort(DEADLINE));
      const onAbort = (): void => controller.abort(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        let response: Response;
        try {
          response = await this.#fetch(url, { method: route.method, headers, body, signal: controller.signal });
        } catch (err) {
          throw new TransportFailure(err);
        }
        if (response.status < 200 || response.status > 299) {
          const text = await response.text().catch((err: unknown) => {
            throw new TransportFailure(err);
          });
          throw this.#errorFromAnswer(op, req, response, text);
        }
        return await read(response, controller);
      } catch (err) {
        if (controller.signal.aborted) {
          if (controller.signal.reason === DEADLINE) throw this.#deadlineError(what, deadline, lastFailure);
          throw new AbortedError(what, signal?.reason);
        }
        if (!(err instanceof TransportFailure)) throw err;
        lastFailure = err;
        if (attempt >= this.#retries) throw this.#unreachable(what, err, attempt + 1);
        const pauseMs = Math.min(this.#retryDelayMs * 2 ** attempt, deadline.remainingMs());
        await delay(this.clock, pauseMs, signal).catch((e: unknown) => {
          throw e instanceof AbortedError ? new AbortedError(what, signal?.reason) : e;
        });
      } finally {
        timer.cancel();
        // A kept-open stream is aborted by its reader from here on (stall, consumer abort): it watches `signal` itself.
        signal?.removeEventListener('abort', onAbort);
      }
    }
  }

  #deadlineError(what: string, deadline: Deadline, lastFailure: TransportFailure | undefined): LabAgentError {
    return new LabAgentError('LAB_AGENT_DEADLINE', {
      what,
      why: `no answer within the call's deadline of ${deadline.totalMs} ms` + (lastFailure === undefined ? '' : ` (last failure: ${lastFailure.message})`),
      data: { deadlineMs: deadline.totalMs },
      cause: lastFailure === undefined ? undefined : this.#plain(lastFailure.original),
    });
  }

  /**
   * The network error as a plain Error (name, message, system code, one level of cause): undici's errors
   * carry sockets and buffers that cannot cross vitest's worker boundary or the report.
   */
  #plain(original: unknown): Error {
    const describe = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    const code = systemCode(original);
    const inner = (original as { cause?: unknown } | null)?.cause;
    const err = new Error(describe(original) + (code === undefined ? '' : ` (${code})`), inner === undefined ? undefined : { cause: new Error(describe(inner)) });
    err.name = 'TransportError';
    return err;
  }

  #unreachable(what: string, failure: TransportFailure, attempts: number): LabAgentError {
    const code = systemCode(failure.original);
    const host = new URL(this.url).host;
    const why =
      code === 'ECONNREFUSED'
        ? `${host} refused the connection (nothing listens there)`
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? `the host name of ${host} does not resolve (${code})`
          : code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE'
            ? `the connection to ${host} was reset (${code})`
            : `the request to ${host} failed: ${failure.message}${code === undefined ? '' : ` (${code})`}`;
    return new LabAgentError('LAB_AGENT_UNREACHABLE', {
      what,
      why: `${why}, ${attempts} attempt${attempts === 1 ? '' : 's'}`,
      data: { url: this.url, attempts, ...(code === undefined ? {} : { errno: code }) },
      cause: this.#plain(failure.original),
    });
  }

  /** A non-2xx answer: the error envelope, rebuilt into the error it carries. */
  #errorFromAnswer(op: AgentOperation, req: RequestParts, response: Response, text: string): HarnessError {
    const what = this.#what(routeOf(op), req.params);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    const problem = value === undefined ? 'the body is not JSON' : envelopeError(value);
    if (problem !== undefined) {
      return this.#bad(op, req, `it answered ${response.status} ${response.statusText} without protocol v1's error envelope (${problem})`, { status: response.status });
    }
    return errorFromEnvelope(what, response.status, value as ErrorEnvelope);
  }

  async #busy(err: LabAgentError, attempts: number, waitMs: number, signal: AbortSignal | undefined): Promise<LabAgentError> {
    let holder = typeof err.data['holder'] === 'string' ? err.data['holder'] : undefined;
    let expiresAtMs = typeof err.data['expiresAtMs'] === 'number' ? err.data['expiresAtMs'] : undefined;
    if (holder === undefined) {
      // The envelope did not name the holder: health does.
      const lease = await this.health({ deadlineMs: Math.min(this.#deadlineMs, 3_000), signal }).then((h) => h.lease, () => null);
      holder = lease?.holder;
      expiresAtMs = lease?.expiresAtMs;
    }
    const until = expiresAtMs === undefined ? '' : ` until ${new Date(expiresAtMs).toISOString()} (agent clock) unless renewed`;
    return new LabAgentError('LAB_AGENT_BUSY', {
      what: err.data['what'] === undefined ? `POST /v1/leases` : String(err.data['what']),
      why: `the bench is held by ${holder === undefined ? 'another holder' : JSON.stringify(holder)}${until}; waited ${waitMs} ms over ${attempts} attempt${attempts === 1 ? '' : 's'}`,
      data: { holder: holder ?? null, expiresAtMs: expiresAtMs ?? null, attempts, waitMs },
      cause: err,
    });
  }
}

interface RequestParts {
  readonly params?: Record<string, string> | undefined;
  readonly query?: Record<string, string | number> | undefined;
  readonly body?: unknown;
  /** Send the token (default true; false only for the liveness probe). */
  readonly auth?: boolean | undefined;
  readonly accept?: string | undefined;
}

/**
 * Rebuilds the error an agent's error envelope carries: `LAB_AGENT_*` codes become {@link LabAgentError}
 * (with the device's error as cause when there is one); product errors come back as the same class
 * (`Win32Error`, `TimeoutError`, ...) through `errorFromJSON`.
 */
export function errorFromEnvelope(what: string, status: number, envelope: ErrorEnvelope): HarnessError {
  const { code, message, fix, harnessError } = envelope.error;
  const remote = harnessError === undefined ? undefined : errorFromJSON(harnessError);
  if (code.startsWith('LAB_AGENT_')) {
    const data: Record<string, string | number | boolean | null> = { status };
    for (const key of ['holder', 'expiresAtMs', 'leaseId', 'sessionId', 'kind'] as const) {
      const v = harnessError?.data[key];
      if (typeof v === 'string' || typeof v === 'number') data[key] = v;
    }
    const why = message.replace(/^\[[A-Z_ ]+[^\]]*\]\s*/, '');
    return new LabAgentError(code as `LAB_AGENT_${string}`, { what, why, fix, data, cause: remote });
  }
  if (remote !== undefined) {
    // The report files errors by their bracketed code: keep that shape even for a class this side does not know.
    if (!remote.message.startsWith('[')) Object.defineProperty(remote, 'message', { value: `[${remote.code}] ${what}: ${remote.message}` });
    return remote;
  }
  return new HarnessError(code, message.startsWith('[') ? message : `[${code}] ${what}: ${message}${fix ? ` ${fix}` : ''}`, { status, what });
}
