/**
 * `WorkerSupervisor`: the agent's control process keeps one service worker alive and talks to it.
 *
 * - Start: the worker loads the backend module; `ready`, or `fatal` (the backend cannot start: the bench is
 *   unusable, LAB_AGENT_BACKEND_UNAVAILABLE, and the worker is not restarted in a loop).
 * - Crash: the worker process exits → SERVICE_CRASHED (a product failure: device-side code crashed).
 * - Hang: no answer to a ping within `hangTimeoutMs` (a wedged native call blocks the worker's event loop), or
 *   no answer to a command within its bound → SERVICE_HUNG; the worker is killed.
 * After either, pending requests fail with that error, `onFailure` tells the agent (which logs it in the
 * session's stream), and the worker is restarted, at most `maxRestarts` times in `restartWindowMs`.
 */
import { untilAborted, type HarnessError } from '../../../core/index.js';
import { AgentError, agentErrorFromJSON } from '../agent-error.js';
import type { AgentBackendName } from '../agent-backend.js';
import type { Health } from '../protocol/index.js';
import { forkWorkerChannel, inProcessWorkerChannel, type WorkerChannel, type WorkerChannelEvents } from './worker-channel.js';
import type { FromWorker, WorkerCommand, WorkerInit, WorkerLogEntry, WorkerOp, WorkerResults } from './worker-protocol.js';

export type WorkerMode = Health['worker']['mode'];
export type WorkerState = Health['worker']['state'];

/** What health reports of the worker. */
export interface WorkerInfo {
  readonly state: WorkerState;
  readonly mode: WorkerMode;
  readonly pid: number | null;
  readonly restarts: number;
  readonly lastExit?: string | undefined;
  readonly backend: AgentBackendName | undefined;
}

export interface WorkerSupervisorOptions {
  readonly mode: WorkerMode;
  readonly init: WorkerInit;
  /** How often the worker is pinged. Default 1000 ms. */
  readonly pingIntervalMs?: number | undefined;
  /** A ping unanswered this long means the worker hangs. Default 5000 ms. */
  readonly hangTimeoutMs?: number | undefined;
  /** The worker must be ready within this. Default 30 000 ms (a cold tsx start on a slow device). */
  readonly startTimeoutMs?: number | undefined;
  /** Automatic restarts allowed within `restartWindowMs` before the supervisor gives up. Default 5 in 60 000 ms. */
  readonly maxRestarts?: number | undefined;
  readonly restartWindowMs?: number | undefined;
  readonly onLog: (sessionId: string, entry: WorkerLogEntry) => void;
  /** A ready worker crashed or hung (after pending requests were failed with the same error). */
  readonly onFailure: (error: AgentError) => void;
  /** A line the worker printed (process mode). */
  readonly onOutput?: ((line: string, stream: 'stdout' | 'stderr') => void) | undefined;
  /** How a worker is reached; default by `mode` (fork, or in-process). Tests pass a scripted channel. */
  readonly createChannel?: ((events: WorkerChannelEvents) => WorkerChannel) | undefined;
}

interface Pending {
  readonly op: WorkerOp;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
  readonly timer: ReturnType<typeof setTimeout>;
  readonly cleanup: () => void;
}

/** Last lines of the worker's stderr kept for a crash report. */
const STDERR_TAIL_LINES = 20;

export class WorkerSupervisor {
  readonly #o: WorkerSupervisorOptions;
  readonly #pingIntervalMs: number;
  readonly #hangTimeoutMs: number;
  #state: WorkerState = 'stopped';
  #channel: WorkerChannel | undefined;
  /** Bumped whenever a channel is abandoned, so its late events are ignored. */
  #generation = 0;
  #startup: { promise: Promise<void>; resolve: () => void } | undefined;
  #unusable: AgentError | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #restarts = 0;
  #restartTimes: number[] = [];
  #lastExit: string | undefined;
  #backend: AgentBackendName | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #awaitingPong: { id: number; sentAt: number } | undefined;
  #stderrTail: string[] = [];

  constructor(options: WorkerSupervisorOptions) {
    this.#o = options;
    this.#pingIntervalMs = options.pingIntervalMs ?? 1_000;
    this.#hangTimeoutMs = options.hangTimeoutMs ?? 5_000;
  }

  get info(): WorkerInfo {
    return {
      state: this.#state,
      mode: this.#o.mode,
      pid: this.#state === 'ready' || this.#state === 'starting' ? (this.#channel?.pid ?? null) : null,
      restarts: this.#restarts,
      lastExit: this.#lastExit,
      backend: this.#backend,
    };
  }

  /** Starts the worker; resolves when it is ready or could not start (see {@link info}). */
  async start(): Promise<void> {
    this.#spawn('starting');
    await this.#settled(undefined);
  }

  /**
   * Sends a command and resolves with the worker's answer.
   * @param timeoutMs bound on the answer; past it the worker counts as hung (SERVICE_HUNG) and is restarted.
   * @throws the worker's error rebuilt (same class), AgentError SERVICE_CRASHED / SERVICE_HUNG /
   * LAB_AGENT_BACKEND_UNAVAILABLE, or the abort reason of `signal`.
   */
  async request<K extends WorkerOp>(command: Extract<WorkerCommand, { op: K }>, options: { signal?: AbortSignal | undefined; timeoutMs: number }): Promise<WorkerResults[K]> {
    const { signal } = options;
    signal?.throwIfAborted();
    // Only when a worker is starting: a ready worker gets the command in this same tick.
    if (this.#state === 'starting' || this.#state === 'restarting') await this.#settled(signal);
    const channel = this.#channel;
    if (this.#state !== 'ready' || channel === undefined) throw this.#unusableError();
    const id = this.#nextId++;
    return new Promise<WorkerResults[K]>((resolve, reject) => {
      const onAbort = (): void => {
        const p = this.#pending.get(id);
        if (p === undefined) return;
        this.#settle(id);
        channel.send({ type: 'cancel', id });
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        if (!this.#pending.has(id)) return;
        this.#fail(
          new AgentError(
            'SERVICE_HUNG',
            `the service worker did not answer '${command.op}' within ${options.timeoutMs} ms`,
            'The device-side service is stuck in this operation: see the session log; the agent restarted the worker.',
            { op: command.op, timeoutMs: options.timeoutMs },
          ),
          'hung',
        );
      }, options.timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        op: command.op,
        resolve: resolve as (v: unknown) => void,
        reject,
        timer,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      });
      channel.send({ type: 'request', id, command });
    });
  }

  /**
   * Kills the worker and starts a fresh one (the bench's recovery step); the restart budget is reset.
   * @throws AgentError LAB_AGENT_BACKEND_UNAVAILABLE when the new worker cannot start.
   */
  async restart(): Promise<WorkerInfo> {
    this.#abandon(new AgentError('LAB_AGENT_NO_SESSION', 'the session ended: the service worker was restarted', 'Open a new session (POST /v1/sessions).'));
    this.#channel?.kill();
    this.#restartTimes = [];
    this.#restarts++;
    this.#spawn('restarting');
    await this.#settled(undefined);
    if (this.#state !== 'ready') throw this.#unusableError();
    return this.info;
  }

  /** Waits while a worker is starting (another restart may begin meanwhile: then waits for that one). */
  async #settled(signal: AbortSignal | undefined): Promise<void> {
    while (this.#state === 'starting' || this.#state === 'restarting') {
      await untilAborted(this.#startup?.promise ?? Promise.resolve(), signal);
    }
  }

  /** Stops the worker (orderly: it closes its session and backend first). */
  async close(): Promise<void> {
    const channel = this.#channel;
    this.#abandon(new AgentError('LAB_AGENT_BACKEND_UNAVAILABLE', 'the agent is shutting down', 'Start the agent again.'));
    this.#state = 'stopped';
    this.#unusable = new AgentError('LAB_AGENT_BACKEND_UNAVAILABLE', 'the agent is shutting down', 'Start the agent again.');
    await channel?.shutdown(3_000);
  }

  // ------------------------------------------------------------------------------------------------

  #spawn(state: 'starting' | 'restarting'): void {
    const generation = ++this.#generation;
    this.#state = state;
    this.#unusable = undefined;
    this.#stderrTail = [];
    let resolveStartup!: () => void;
    const promise = new Promise<void>((r) => (resolveStartup = r));
    this.#startup = { promise, resolve: resolveStartup };
    const startTimer = setTimeout(() => {
      if (generation !== this.#generation || (this.#state !== 'starting' && this.#state !== 'restarting')) return;
      this.#stopped(`the service worker was not ready within ${this.#o.startTimeoutMs ?? 30_000} ms`);
      this.#channel?.kill();
    }, this.#o.startTimeoutMs ?? 30_000);
    startTimer.unref();
    const events = {
      message: (m: FromWorker) => {
        if (generation === this.#generation) this.#onMessage(m);
      },
      exit: (code: number | null, signal: NodeJS.Signals | null) => {
        if (generation === this.#generation) this.#onExit(code, signal);
      },
      output: (line: string, stream: 'stdout' | 'stderr') => {
        if (stream === 'stderr') this.#stderrTail = [...this.#stderrTail.slice(-(STDERR_TAIL_LINES - 1)), line];
        this.#o.onOutput?.(line, stream);
      },
    };
    try {
      const create = this.#o.createChannel ?? (this.#o.mode === 'process' ? forkWorkerChannel : inProcessWorkerChannel);
      this.#channel = create(events);
    } catch (err) {
      this.#stopped(`the service worker could not be started: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    this.#channel.send({ type: 'init', init: this.#o.init });
    void promise.then(() => clearTimeout(startTimer));
  }

  #onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'ready':
        this.#state = 'ready';
        this.#backend = m.backend;
        this.#startPinging();
        this.#startup?.resolve();
        return;
      case 'fatal': {
        const cause = agentErrorFromJSON(m.error);
        this.#stopped(`the backend could not start: ${cause.message}`, cause);
        this.#channel?.kill();
        return;
      }
      case 'reply': {
        const p = this.#settle(m.id);
        if (p === undefined) return;
        if (m.ok) p.resolve(m.result);
        else p.reject(agentErrorFromJSON(m.error));
        return;
      }
      case 'log':
        this.#o.onLog(m.sessionId, m.entry);
        return;
      case 'pong':
        if (this.#awaitingPong?.id === m.id) this.#awaitingPong = undefined;
        return;
    }
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code ?? 'unknown'}`;
    const said = this.#stderrSummary();
    if (this.#state === 'starting' || this.#state === 'restarting') {
      this.#stopped(`the service worker ${how} while starting${said ? `: ${said}` : ''}`);
      return;
    }
    if (this.#state !== 'ready') return;
    this.#fail(
      new AgentError(
        'SERVICE_CRASHED',
        `the service worker (pid ${this.#channel?.pid ?? '?'}) ${how}${said ? `: ${said}` : ''}`,
        'The device-side service crashed: see the agent log for its stack; the agent restarted the worker, open a new session.',
        { exitCode: code, signal, stderr: this.#stderrTail.join('\n') },
      ),
      'crashed',
    );
  }

  /** The error line of the worker's last words (Node prints the uncaught error's stack to stderr). */
  #stderrSummary(): string {
    const errorLine = [...this.#stderrTail].reverse().find((l) => /^\s*[A-Za-z]*Error\b.*:/.test(l));
    return (errorLine ?? this.#stderrTail.at(-1) ?? '').trim();
  }

  /** A ready worker crashed or hung: fail what waits, tell the agent, kill it, restart within budget. */
  #fail(error: AgentError, state: 'crashed' | 'hung'): void {
    this.#abandon(error);
    this.#state = state;
    this.#lastExit = error.message;
    this.#channel?.kill();
    this.#o.onFailure(error);
    const now = performance.now();
    const windowMs = this.#o.restartWindowMs ?? 60_000;
    this.#restartTimes = [...this.#restartTimes.filter((t) => now - t < windowMs), now];
    if (this.#restartTimes.length > (this.#o.maxRestarts ?? 5)) {
      this.#state = 'crashed';
      this.#unusable = new AgentError(
        error.code,
        `${error.message}; it failed ${this.#restartTimes.length} times within ${windowMs} ms, so it is not restarted again`,
        'Look at the agent log, then restart the worker (POST /v1/worker/restart) or the agent.',
      );
      return;
    }
    this.#restarts++;
    this.#spawn('restarting');
  }

  /** The worker cannot be used (backend failed, did not start): requests fail with BACKEND_UNAVAILABLE. */
  #stopped(why: string, cause?: HarnessError): void {
    this.#stopPinging();
    this.#state = 'stopped';
    this.#lastExit = why;
    this.#unusable = new AgentError(
      'LAB_AGENT_BACKEND_UNAVAILABLE',
      why,
      'Fix the backend (see docs/lab-setup.md: Node x64/ARM64, koffi, the USBFN registry configuration), then POST /v1/worker/restart or restart the agent.',
      {},
      cause === undefined ? undefined : { cause },
    );
    this.#startup?.resolve();
  }

  /** Forgets the current channel: its pending requests fail with `error`, its late events are ignored. */
  #abandon(error: AgentError): void {
    this.#generation++;
    this.#stopPinging();
    // Whoever waited for this channel to start re-checks the state (a new one may be starting).
    this.#startup?.resolve();
    for (const id of [...this.#pending.keys()]) this.#settle(id)?.reject(error);
  }

  #settle(id: number): Pending | undefined {
    const p = this.#pending.get(id);
    if (p === undefined) return undefined;
    this.#pending.delete(id);
    clearTimeout(p.timer);
    p.cleanup();
    return p;
  }

  #unusableError(): AgentError {
    return (
      this.#unusable ??
      new AgentError('LAB_AGENT_BACKEND_UNAVAILABLE', `the service worker is ${this.#state}`, 'Wait for it to start, or POST /v1/worker/restart.')
    );
  }

  #startPinging(): void {
    this.#stopPinging();
    const generation = this.#generation;
    this.#pingTimer = setInterval(() => {
      if (generation !== this.#generation || this.#state !== 'ready') return;
      const now = performance.now();
      if (this.#awaitingPong !== undefined) {
        if (now - this.#awaitingPong.sentAt >= this.#hangTimeoutMs) {
          this.#fail(
            new AgentError(
              'SERVICE_HUNG',
              `the service worker (pid ${this.#channel?.pid ?? '?'}) did not answer a ping within ${this.#hangTimeoutMs} ms`,
              'The device-side service is wedged (e.g. a native call that never returns): the agent killed and restarted the worker; open a new session.',
              { hangTimeoutMs: this.#hangTimeoutMs },
            ),
            'hung',
          );
        }
        return;
      }
      const id = this.#nextId++;
      this.#awaitingPong = { id, sentAt: now };
      this.#channel?.send({ type: 'ping', id });
    }, Math.min(this.#pingIntervalMs, this.#hangTimeoutMs / 2));
    this.#pingTimer.unref();
  }

  #stopPinging(): void {
    if (this.#pingTimer !== undefined) clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
    this.#awaitingPong = undefined;
  }
}
