/**
 * `DeviceAgent`: what the agent does, independent of HTTP — the lease, the one session at a time, its
 * event ring, faults, health — over a supervised service worker. `agent-server.ts` maps the protocol's
 * routes onto these methods; every method that waits takes the request's deadline as an AbortSignal.
 */
import { randomBytes } from 'node:crypto';
import { arch, platform, release } from 'node:os';
import { HarnessError, type Clock } from '../../../core/index.js';
import { AgentError, wireError } from '../agent-error.js';
import { resolveDriverSettings, type UsbFnDriverSettings } from '../../driver-settings.js';
import { USBFN_HIL_TEST_INTERFACE_GUID } from '../../functions/index.js';
import type { AgentBackendName, UsbfnPresence } from '../agent-backend.js';
import { instanceIdFromSymbolicLink, PnputilRunner, resolveCmAction, resolveIoctl, type PnpRunner, type PnpVerb } from '../faults/index.js';
import {
  AGENT_PROTOCOL_VERSION,
  agentSchemaHash,
  type FaultAccepted,
  type FaultRequest,
  type Health,
  type LeaseInfo,
  type LeaseRequest,
  type SessionInfo,
  type SessionOpenRequest,
  type WaitRequest,
} from '../protocol/index.js';
import { FAULT_LABEL, WorkerSupervisor, type AgentFunctionKind, type WorkerFault, type WorkerMode } from '../worker/index.js';
import { AgentSession } from './agent-session.js';
import { EVENT_RING_CAPACITY } from './event-ring.js';
import { EventLineStream } from './event-stream.js';
import { LeaseTable } from './lease-table.js';

/** The agent's own log (fastify's logger in the server). Never given the token. */
export type AgentLog = (level: 'info' | 'warn' | 'error', message: string, data?: Record<string, unknown>) => void;

export interface DeviceAgentOptions {
  /** The backend's name (health.backend until the worker reports it) and module URL. */
  readonly backend: { readonly name: AgentBackendName; readonly module: string; readonly settings?: Readonly<Record<string, unknown>> | undefined };
  /** The function's InterfaceGUID. Default the test function's. */
  readonly interfaceClassGuid?: string | undefined;
  readonly worker?: {
    readonly mode?: WorkerMode | undefined;
    readonly pingIntervalMs?: number | undefined;
    readonly hangTimeoutMs?: number | undefined;
    readonly startTimeoutMs?: number | undefined;
    readonly maxRestarts?: number | undefined;
  };
  /** Test functions this bench offers. Default both. */
  readonly functions?: readonly AgentFunctionKind[] | undefined;
  /**
   * The driver settings every session's service runs with (`--driver-settings`, e.g. the first-light probe's
   * recommendedSettings); the rest are the defaults. Reported in health.
   * @see docs/win32-backend.md#driver-settings
   */
  readonly driverSettings?: Partial<UsbFnDriverSettings> | undefined;
  readonly bench?: { readonly id: string; readonly tags: readonly string[] } | undefined;
  /** Real PnP through pnputil (`--allow-pnp`). */
  readonly allowPnp?: boolean | undefined;
  readonly pnpRunner?: PnpRunner | undefined;
  /** crashWorker / hangWorker (`--allow-self-test`). */
  readonly allowSelfTest?: boolean | undefined;
  /** Wall clock (`now()` in ms since the epoch) of leases, the idempotency cache and heartbeats. */
  readonly clock?: Clock | undefined;
  readonly eventRingCapacity?: number | undefined;
  /** Heartbeat period of idle event streams. Default 2000 ms. */
  readonly heartbeatMs?: number | undefined;
  /** Records kept of a session's device trace. Default 100 000. */
  readonly traceLimit?: number | undefined;
  /** Bound on one worker command (past it the worker counts as hung). Default 60 000 ms. */
  readonly commandTimeoutMs?: number | undefined;
  readonly agentVersion?: string | undefined;
  readonly log?: AgentLog | undefined;
}

/** The wall clock: Date.now() and setTimeout. */
export const WALL_CLOCK: Clock = {
  now: () => Date.now(),
  setTimer: (delayMs, callback) => {
    const t = setTimeout(callback, Math.max(0, delayMs));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

type Deadline = AbortSignal | undefined;

const ALL_FUNCTIONS: readonly AgentFunctionKind[] = ['loopback', 'sourceSink'];
/** A probe of the interface list that takes longer than this is reported as a problem, not waited for. */
const PROBE_MS = 2_000;
/** Default bound of service start/stop when the request gives none. */
const SERVICE_COMMAND_MS = 10_000;

export class DeviceAgent {
  readonly #o: DeviceAgentOptions;
  readonly #clock: Clock;
  readonly #log: AgentLog;
  readonly #leases: LeaseTable;
  readonly #worker: WorkerSupervisor;
  readonly #pnp: PnpRunner;
  readonly #startedAt: number;
  readonly #schemaHash = agentSchemaHash();
  readonly #os = { platform: platform(), release: release(), arch: arch() };
  readonly #guid: string;
  readonly #driverSettings: UsbFnDriverSettings;
  #pnpVerbs: PnpVerb[] = [];
  #session: AgentSession | undefined;
  /** Sessions being closed: their last entries (stop, close) still arrive from the worker. */
  readonly #closing = new Map<string, AgentSession>();
  #nextFault = 1;
  #closed = false;

  constructor(options: DeviceAgentOptions) {
    this.#o = options;
    this.#clock = options.clock ?? WALL_CLOCK;
    this.#log = options.log ?? (() => undefined);
    this.#guid = options.interfaceClassGuid ?? USBFN_HIL_TEST_INTERFACE_GUID;
    this.#driverSettings = resolveDriverSettings(options.driverSettings);
    this.#startedAt = performance.now();
    this.#pnp = options.pnpRunner ?? new PnputilRunner();
    this.#leases = new LeaseTable(this.#clock, (lease) => void this.#onLeaseExpired(lease));
    this.#worker = new WorkerSupervisor({
      mode: options.worker?.mode ?? 'process',
      pingIntervalMs: options.worker?.pingIntervalMs,
      hangTimeoutMs: options.worker?.hangTimeoutMs,
      startTimeoutMs: options.worker?.startTimeoutMs,
      maxRestarts: options.worker?.maxRestarts,
      init: {
        backendModule: options.backend.module,
        interfaceClassGuid: this.#guid,
        settings: options.backend.settings ?? {},
        traceLimit: options.traceLimit ?? 100_000,
        driverSettings: this.#driverSettings,
      },
      onLog: (sessionId, entry) => {
        const session = this.#session?.id === sessionId ? this.#session : this.#closing.get(sessionId);
        if (session !== undefined && !session.ring.closed) session.ring.append(entry);
      },
      onFailure: (error) => this.#onWorkerFailure(error),
      onOutput: (line, stream) => this.#log(stream === 'stderr' ? 'warn' : 'info', `worker: ${line}`),
    });
  }

  /** Starts the worker and learns the PnP verbs; resolves even when the backend cannot start (health says why). */
  async start(): Promise<void> {
    await this.#worker.start();
    const w = this.#worker.info;
    if (w.state !== 'ready') this.#log('error', `service worker not ready: ${w.lastExit ?? w.state}`);
    if (this.#o.allowPnp === true) {
      this.#pnpVerbs = await this.#pnp.verbs();
      if (this.#pnpVerbs.length === 0) this.#log('warn', '--allow-pnp given, but pnputil offers no device verbs here (Windows 10 version 2004 or later is needed)');
    }
  }

  /** Closes the session and stops the worker. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const session = this.#session;
    if (session !== undefined) {
      await this.#closeSession(session, AbortSignal.timeout(5_000)).catch(() => undefined);
      session.finishStreams();
    }
    this.#leases.dispose();
    await this.#worker.close();
  }

  // ---- health ---------------------------------------------------------------------------------------

  async health(signal: Deadline): Promise<Health> {
    const w = this.#worker.info;
    return {
      ok: w.state === 'ready',
      agentVersion: this.#o.agentVersion ?? '0.0.0',
      protocol: AGENT_PROTOCOL_VERSION,
      schemaHash: this.#schemaHash,
      nowMs: this.#clock.now(),
      uptimeMs: performance.now() - this.#startedAt,
      node: process.version,
      os: this.#os,
      backend: w.backend ?? this.#o.backend.name,
      bench: { id: this.#o.bench?.id ?? 'bench', tags: [...(this.#o.bench?.tags ?? [])] },
      lease: this.#leases.current,
      worker: { state: w.state, mode: w.mode, pid: w.pid, restarts: w.restarts, ...(w.lastExit === undefined ? {} : { lastExit: w.lastExit }) },
      usbfn: await this.#probe(signal),
      pnp: { allowed: this.#o.allowPnp === true, verbs: this.#o.allowPnp === true ? [...this.#pnpVerbs] : [] },
      faults: this.#faultKinds(),
      sessionId: this.#session?.id ?? null,
      driverSettings: { ...this.#driverSettings },
    };
  }

  async #probe(signal: Deadline): Promise<Health['usbfn']> {
    const absent = (problem: string): UsbfnPresence => ({ interfaceGuid: this.#guid, present: false, symbolicLink: null, problem });
    const w = this.#worker.info;
    if (w.state !== 'ready') return absent(`the service worker is ${w.state}${w.lastExit ? `: ${w.lastExit}` : ''}`);
    const bound = AbortSignal.timeout(PROBE_MS);
    try {
      const p = await this.#worker.request({ op: 'probe' }, { signal: signal === undefined ? bound : AbortSignal.any([signal, bound]), timeoutMs: this.#commandMs() });
      return { interfaceGuid: p.interfaceGuid, present: p.present, symbolicLink: p.symbolicLink, ...(p.problem === undefined ? {} : { problem: p.problem }) };
    } catch (err) {
      return absent(bound.aborted ? `listing interfaces took longer than ${PROBE_MS} ms` : err instanceof Error ? err.message : String(err));
    }
  }

  #faultKinds(): Health['faults'] {
    const kinds: Health['faults'] = ['failIoctl', 'dropNotification', 'closeHandle', 'restartService'];
    if (this.#o.allowPnp === true && this.#pnpVerbs.length > 0) kinds.push('pnp');
    if (this.#o.allowSelfTest === true && this.#worker.info.mode === 'process') kinds.push('crashWorker', 'hangWorker');
    return kinds;
  }

  // ---- leases ---------------------------------------------------------------------------------------

  acquireLease(request: LeaseRequest): LeaseInfo {
    const lease = this.#leases.acquire(request);
    this.#log('info', 'lease acquired', { leaseId: lease.leaseId, holder: lease.holder, runId: lease.runId });
    return lease;
  }

  renewLease(leaseId: string, ttlMs: number | undefined): LeaseInfo {
    return this.#leases.renew(leaseId, ttlMs);
  }

  /** Releases the lease and closes its session. */
  async releaseLease(leaseId: string, signal: Deadline): Promise<void> {
    this.#leases.release(leaseId);
    this.#log('info', 'lease released', { leaseId });
    const session = this.#session;
    if (session?.leaseId === leaseId) await this.#closeSession(session, signal);
  }

  async #onLeaseExpired(lease: LeaseInfo): Promise<void> {
    this.#log('warn', 'lease expired', { leaseId: lease.leaseId, holder: lease.holder });
    const session = this.#session;
    if (session?.leaseId !== lease.leaseId) return;
    session.ring.append(this.#entry(session, 'warn', 'leaseExpired', { leaseId: lease.leaseId, holder: lease.holder }));
    await this.#closeSession(session, AbortSignal.timeout(this.#commandMs())).catch((err: unknown) =>
      this.#log('error', 'closing the session of an expired lease failed', { error: String(err) }),
    );
  }

  // ---- sessions ---------------------------------------------------------------------------------------

  async openSession(request: SessionOpenRequest, signal: Deadline): Promise<SessionInfo> {
    this.#leases.check(request.leaseId);
    const offered = this.#o.functions ?? ALL_FUNCTIONS;
    if (!offered.includes(request.world.fn)) {
      throw new AgentError('LAB_AGENT_BAD_REQUEST', `this bench offers the function${offered.length > 1 ? 's' : ''} ${offered.join(', ')}, not ${request.world.fn}`, 'Skip the scenario on this bench, or start the agent with --function ' + request.world.fn + '.', {
        fn: request.world.fn,
      });
    }
    const previous = this.#session;
    if (previous !== undefined) await this.#closeSession(previous, signal);
    const session = new AgentSession({
      id: `S${randomBytes(8).toString('hex')}`,
      leaseId: request.leaseId,
      name: request.name,
      openedAtMs: this.#clock.now(),
      ringCapacity: this.#o.eventRingCapacity ?? EVENT_RING_CAPACITY,
    });
    this.#session = session;
    try {
      const opened = await this.#worker.request(
        { op: 'openSession', sessionId: session.id, name: request.name, seed: request.seed, world: request.world },
        { signal, timeoutMs: this.#commandMs() },
      );
      session.functionName = opened.functionName;
      this.#log('info', 'session opened', { sessionId: session.id, name: request.name, fn: request.world.fn });
      return session.info(opened.status);
    } catch (err) {
      // A session that did not open is not kept; the worker may hold half of it: close that too.
      if (this.#session === session) this.#session = undefined;
      session.end();
      void this.#worker.request({ op: 'closeSession', sessionId: session.id }, { timeoutMs: this.#commandMs() }).catch(() => undefined);
      throw err;
    }
  }

  async getSession(sessionId: string, signal: Deadline): Promise<SessionInfo> {
    const session = this.#live(sessionId);
    const { status } = await this.#worker.request({ op: 'status', sessionId }, { signal, timeoutMs: this.#commandMs() });
    return session.info(status);
  }

  async serviceCommand(sessionId: string, op: 'startService' | 'stopService', timeoutMs: number | undefined, signal: Deadline): Promise<{ status: SessionInfo['status'] }> {
    this.#live(sessionId);
    const t = timeoutMs ?? SERVICE_COMMAND_MS;
    const { status } = await this.#worker.request({ op, sessionId, timeoutMs: t }, { signal, timeoutMs: t + this.#commandMs() });
    return { status };
  }

  async wait(sessionId: string, request: WaitRequest, signal: Deadline): Promise<{ status: SessionInfo['status']; atMs: number }> {
    this.#live(sessionId);
    return this.#worker.request(
      { op: 'wait', sessionId, until: request.until, timeoutMs: request.timeoutMs },
      { signal, timeoutMs: request.timeoutMs + this.#commandMs() },
    );
  }

  /**
   * The session's event stream from `after`.
   * @throws AgentError LAB_AGENT_BAD_REQUEST for a cursor past the last entry.
   */
  events(sessionId: string, query: { after?: number | undefined; follow?: 0 | 1 | undefined }): EventLineStream {
    const session = this.#session?.id === sessionId ? this.#session : undefined;
    if (session === undefined) throw this.#noSession(sessionId);
    const after = query.after ?? 0;
    if (after > session.ring.lastSeq) {
      throw new AgentError('LAB_AGENT_BAD_REQUEST', `the cursor after=${after} is past the last entry (seq ${session.ring.lastSeq}) of session ${sessionId}`, 'Resume from the last seq you received (or 0 for everything held).', {
        after,
        lastSeq: session.ring.lastSeq,
      });
    }
    const stream = new EventLineStream(session.ring, {
      after,
      follow: query.follow === 1,
      heartbeatMs: this.#o.heartbeatMs ?? 2_000,
      now: () => this.#clock.now(),
    });
    session.streams.add(stream);
    stream.once('close', () => session.streams.delete(stream));
    return stream;
  }

  log(sessionId: string): ReturnType<AgentSession['ring']['snapshot']> {
    const session = this.#session?.id === sessionId ? this.#session : undefined;
    if (session === undefined) throw this.#noSession(sessionId);
    return session.ring.snapshot();
  }

  async trace(sessionId: string, signal: Deadline): Promise<readonly string[]> {
    this.#live(sessionId);
    const t = await this.#worker.request({ op: 'trace', sessionId }, { signal, timeoutMs: this.#commandMs() });
    return t.dropped > 0 ? [JSON.stringify({ op: 'dropped', records: t.dropped }), ...t.lines] : t.lines;
  }

  async closeSession(sessionId: string, signal: Deadline): Promise<{ log: ReturnType<AgentSession['ring']['snapshot']> }> {
    const session = this.#session?.id === sessionId ? this.#session : undefined;
    if (session === undefined) throw this.#noSession(sessionId);
    return { log: await this.#closeSession(session, signal) };
  }

  async #closeSession(session: AgentSession, signal: Deadline): Promise<ReturnType<AgentSession['ring']['snapshot']>> {
    if (this.#session === session) this.#session = undefined;
    this.#closing.set(session.id, session);
    try {
      if (session.failed === undefined) {
        await this.#worker.request({ op: 'closeSession', sessionId: session.id }, { signal, timeoutMs: this.#commandMs() });
      }
    } catch (err) {
      session.ring.append(this.#entry(session, 'error', 'sessionCloseFailed', {}, err));
      if (!(err instanceof HarnessError) || (err.code !== 'LAB_AGENT_NO_SESSION' && err.code !== 'SERVICE_CRASHED' && err.code !== 'SERVICE_HUNG')) {
        this.#log('warn', 'closing the session in the worker failed', { sessionId: session.id, error: String(err) });
      }
    } finally {
      this.#closing.delete(session.id);
      session.end();
    }
    this.#log('info', 'session closed', { sessionId: session.id });
    return session.ring.snapshot();
  }

  // ---- faults ---------------------------------------------------------------------------------------

  async injectFault(sessionId: string, request: FaultRequest, signal: Deadline): Promise<FaultAccepted> {
    const session = this.#live(sessionId);
    const faultId = `F${this.#nextFault++}`;
    if (request.kind === 'pnp') return this.#pnpFault(session, faultId, request.verb, signal);
    if (request.kind === 'crashWorker' || request.kind === 'hangWorker') {
      if (this.#o.allowSelfTest !== true) {
        throw unsupported(request.kind, 'the agent was started without --allow-self-test (supervision self-tests are off on a bench)');
      }
      if (this.#worker.info.mode !== 'process') {
        throw unsupported(request.kind, `the worker runs in-process (--worker in-process): a ${request.kind === 'crashWorker' ? 'crash' : 'hang'} would take the agent down`);
      }
    }
    let fault: WorkerFault;
    try {
      fault =
        request.kind === 'failIoctl'
          ? { ...request, faultId, ioctl: resolveIoctl(request.ioctl).name }
          : request.kind === 'dropNotification'
            ? { ...request, faultId, action: resolveCmAction(request.action).name }
            : { kind: request.kind, faultId };
    } catch (err) {
      throw new AgentError('LAB_AGENT_BAD_REQUEST', err instanceof Error ? err.message : String(err), 'Name the IOCTL or action as genericusbfnioctl.h / cfgmgr32.h do.', { kind: request.kind }, { cause: err });
    }
    const { label } = await this.#worker.request({ op: 'fault', sessionId, fault }, { signal, timeoutMs: this.#commandMs() });
    this.#log('info', 'fault injected', { sessionId, faultId, kind: request.kind, label });
    return { faultId, kind: request.kind, label };
  }

  async #pnpFault(session: AgentSession, faultId: string, verb: PnpVerb, signal: Deadline): Promise<FaultAccepted> {
    if (this.#o.allowPnp !== true) throw unsupported('pnp', 'the agent was started without --allow-pnp (real PnP needs it, and an elevated agent)');
    if (!this.#pnpVerbs.includes(verb)) {
      throw unsupported('pnp', `this Windows build's pnputil has no /${verb}-device (it offers ${this.#pnpVerbs.length === 0 ? 'no device verbs' : this.#pnpVerbs.map((v) => `/${v}-device`).join(', ')}; Windows 10 version 2004 or later has all three)`);
    }
    const { status } = await this.#worker.request({ op: 'status', sessionId: session.id }, { signal, timeoutMs: this.#commandMs() });
    if (status.symbolicLink === null) {
      throw unsupported('pnp', `the service has not opened the function's interface yet (service '${status.service}'), so its devnode is unknown`);
    }
    const instanceId = instanceIdFromSymbolicLink(status.symbolicLink);
    const outcome = await this.#pnp.run(verb, instanceId, { signal });
    const label = FAULT_LABEL.pnp;
    session.ring.append(this.#entry(session, 'info', 'fault', { faultId, kind: 'pnp', verb, instanceId, label, pnputil: outcome.summary }));
    this.#log('info', 'PnP fault', { sessionId: session.id, faultId, verb, instanceId });
    return { faultId, kind: 'pnp', label };
  }

  // ---- worker ---------------------------------------------------------------------------------------

  /** Kills and restarts the worker; the open session ends (its log keeps the reason). */
  async restartWorker(): Promise<{ worker: { state: Health['worker']['state']; pid: number | null; restarts: number } }> {
    const session = this.#session;
    if (session !== undefined) {
      session.ring.append(this.#entry(session, 'warn', 'workerRestart', { reason: 'POST /v1/worker/restart' }));
      session.failed = new AgentError('LAB_AGENT_NO_SESSION', `session ${session.id} ended: the service worker was restarted`, 'Open a new session (POST /v1/sessions).', {
        sessionId: session.id,
      });
    }
    const info = await this.#worker.restart();
    return { worker: { state: info.state, pid: info.pid, restarts: info.restarts } };
  }

  #onWorkerFailure(error: AgentError): void {
    this.#log('error', error.message, { code: error.code });
    const session = this.#session;
    if (session === undefined || session.failed !== undefined) return;
    session.failed = error;
    session.ring.append(this.#entry(session, 'error', error.code === 'SERVICE_HUNG' ? 'serviceHung' : 'serviceCrashed', {}, error));
  }

  // ---- helpers --------------------------------------------------------------------------------------

  #commandMs(): number {
    return this.#o.commandTimeoutMs ?? 60_000;
  }

  /** The open session `sessionId`, usable for commands. @throws NO_SESSION, or the failure that ended it. */
  #live(sessionId: string): AgentSession {
    const session = this.#session?.id === sessionId ? this.#session : undefined;
    if (session === undefined) throw this.#noSession(sessionId);
    if (session.failed !== undefined) throw session.failed;
    return session;
  }

  #noSession(sessionId: string): AgentError {
    return new AgentError('LAB_AGENT_NO_SESSION', `there is no open session ${sessionId}: it was closed, its lease expired, or the agent restarted`, 'Open a session (POST /v1/sessions) under your lease.', {
      sessionId,
    });
  }

  /** A control-side entry of the session's log (its time is the wall clock since the session opened). */
  #entry(session: AgentSession, level: 'info' | 'warn' | 'error', kind: string, detail: Record<string, unknown>, err?: unknown): Parameters<AgentSession['ring']['append']>[0] {
    const wallMs = this.#clock.now();
    return {
      timeMs: wallMs - session.openedAtMs,
      wallMs,
      level,
      kind,
      ...(Object.keys(detail).length === 0 ? {} : { detail }),
      ...(err instanceof HarnessError ? { error: wireError(err) } : err === undefined ? {} : { error: { name: 'Error', code: 'UNEXPECTED', message: String(err), data: {} } }),
    };
  }
}

function unsupported(kind: string, why: string): AgentError {
  return new AgentError('LAB_AGENT_FAULT_UNSUPPORTED', `fault '${kind}' is not available: ${why}`, 'Skip the scenario on this bench (health.faults lists what it can do), or start the agent with what is missing.', {
    kind,
  });
}
