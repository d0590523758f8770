/**
 * The service worker's side of the IPC channel: loads the backend module, hosts one session at a time and
 * answers the control process's commands. Runs in the forked worker process (worker-main.ts) or, in
 * `--worker in-process` mode, inside the agent itself.
 */
import { AbortedError, HarnessError, UsageError, type HarnessErrorJSON } from '../../../core/index.js';
import { AgentError } from '../agent-error.js';
import type { AgentBackend, CreateAgentBackend } from '../agent-backend.js';
import { jsonSafe } from './json-safe.js';
import type { FromWorker, ToWorker, WorkerCommand, WorkerInit } from './worker-protocol.js';
import { WorkerSession } from './worker-session.js';

/** What the host may do to its own process (only a forked worker may crash or hang on purpose). */
export interface ServiceHostOptions {
  /** Send a message to the control process. */
  readonly send: (message: FromWorker) => void;
  /** The worker is its own process: crashWorker / hangWorker may take it down. */
  readonly ownProcess: boolean;
}

function errorJson(err: unknown): HarnessErrorJSON {
  if (err instanceof HarnessError) return jsonSafe(err.toJSON()) as HarnessErrorJSON;
  return {
    name: err instanceof Error ? err.name : 'unknown',
    code: 'UNEXPECTED',
    message: err instanceof Error ? err.message : String(err),
    data: {},
  };
}

export class ServiceHost {
  readonly #send: (message: FromWorker) => void;
  readonly #ownProcess: boolean;
  #init: WorkerInit | undefined;
  #backend: AgentBackend | undefined;
  #session: WorkerSession | undefined;
  readonly #inFlight = new Map<number, AbortController>();

  constructor(options: ServiceHostOptions) {
    this.#send = options.send;
    this.#ownProcess = options.ownProcess;
  }

  /** Handles one message from the control process (never throws: failures are answered). */
  async handle(message: ToWorker): Promise<void> {
    switch (message.type) {
      case 'ping':
        this.#send({ type: 'pong', id: message.id });
        return;
      case 'init':
        await this.#start(message.init);
        return;
      case 'cancel':
        this.#inFlight.get(message.id)?.abort(new AbortedError('worker request', new Error('cancelled by the agent (deadline or client gone)')));
        return;
      case 'request':
        await this.#request(message.id, message.command);
        return;
    }
  }

  /** Closes the open session and the backend (worker shutdown). */
  async dispose(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    await session?.close();
    await this.#backend?.close();
    this.#backend = undefined;
  }

  async #start(init: WorkerInit): Promise<void> {
    this.#init = init;
    try {
      const mod = (await import(init.backendModule)) as { createAgentBackend?: CreateAgentBackend };
      if (typeof mod.createAgentBackend !== 'function') {
        throw new UsageError('AGENT_BACKEND_MODULE', `the backend module ${init.backendModule} does not export createAgentBackend(options)`);
      }
      this.#backend = await mod.createAgentBackend({ interfaceClassGuid: init.interfaceClassGuid, settings: init.settings });
      this.#send({ type: 'ready', pid: process.pid, backend: this.#backend.name });
    } catch (err) {
      this.#send({ type: 'fatal', error: errorJson(err) });
    }
  }

  async #request(id: number, command: WorkerCommand): Promise<void> {
    const controller = new AbortController();
    this.#inFlight.set(id, controller);
    try {
      const result = await this.#run(command, controller.signal);
      this.#send({ type: 'reply', id, ok: true, result });
    } catch (err) {
      this.#send({ type: 'reply', id, ok: false, error: errorJson(err) });
    } finally {
      this.#inFlight.delete(id);
    }
  }

  #backendOrThrow(): AgentBackend {
    if (this.#backend === undefined) {
      throw new AgentError('LAB_AGENT_BACKEND_UNAVAILABLE', 'the worker has no backend (it was not initialised)', 'Restart the worker: POST /v1/worker/restart.');
    }
    return this.#backend;
  }

  #sessionOrThrow(sessionId: string): WorkerSession {
    const s = this.#session;
    if (s === undefined || s.id !== sessionId) {
      throw new AgentError('LAB_AGENT_NO_SESSION', `the worker has no session ${sessionId}`, 'Open a new session (POST /v1/sessions).', { sessionId });
    }
    return s;
  }

  async #run(command: WorkerCommand, signal: AbortSignal): Promise<unknown> {
    switch (command.op) {
      case 'probe':
        return this.#backendOrThrow().probe();
      case 'openSession': {
        const backend = this.#backendOrThrow();
        const previous = this.#session;
        this.#session = undefined;
        await previous?.close();
        const { sessionId } = command;
        const session = await WorkerSession.open(command, backend, (entry) => this.#send({ type: 'log', sessionId, entry }), {
          traceLimit: this.#init?.traceLimit ?? 100_000,
          driverSettings: this.#init?.driverSettings,
        });
        this.#session = session;
        return { functionName: session.functionName, status: session.status() };
      }
      case 'status':
        return { status: this.#sessionOrThrow(command.sessionId).status() };
      case 'startService':
        return this.#sessionOrThrow(command.sessionId).startService(command.timeoutMs);
      case 'stopService':
        return this.#sessionOrThrow(command.sessionId).stopService(command.timeoutMs);
      case 'wait':
        return this.#sessionOrThrow(command.sessionId).wait(command.until, command.timeoutMs, signal);
      case 'trace':
        return this.#sessionOrThrow(command.sessionId).trace();
      case 'closeSession': {
        const session = this.#sessionOrThrow(command.sessionId);
        this.#session = undefined;
        await session.close();
        return { closed: true };
      }
      case 'fault': {
        const session = this.#sessionOrThrow(command.sessionId);
        const { fault } = command;
        if ((fault.kind === 'crashWorker' || fault.kind === 'hangWorker') && !this.#ownProcess) {
          throw new AgentError('LAB_AGENT_FAULT_UNSUPPORTED', `${fault.kind} needs a worker process`, 'Start the agent with --worker process.', { kind: fault.kind });
        }
        const accepted = await session.fault(fault);
        if (fault.kind === 'crashWorker') {
          // After the reply is on its way: an uncaught exception, as a crashing native callback would give.
          setTimeout(() => {
            throw new Error(`self-test: crashWorker (fault ${fault.faultId}) made the service worker crash`);
          }, 20);
        } else if (fault.kind === 'hangWorker') {
          // A wedged native call blocks the event loop: so does this, until the supervisor kills the process.
          setTimeout(() => {
            for (;;) {
              /* spin */
            }
          }, 20);
        }
        return accepted;
      }
    }
  }
}
