/**
 * The worker supervisor's state machine over a scripted channel (no process): ready, fatal backend, crash
 * and restart within a budget, hang by ping and by an unanswered command, cancellation.
 */
import { describe, expect, it } from 'vitest';
import { AgentError } from '../agent-error.js';
import type { WorkerChannel, WorkerChannelEvents } from './worker-channel.js';
import type { ToWorker } from './worker-protocol.js';
import { WorkerSupervisor, type WorkerSupervisorOptions } from './worker-supervisor.js';

/** A scripted worker: answers init with ready (or fatal), pings with pongs unless hung, requests by a script. */
class ScriptedWorker {
  readonly channels: { events: WorkerChannelEvents; sent: ToWorker[]; killed: boolean; hung: boolean }[] = [];
  fatal = false;
  /** New workers never answer (not even init). */
  hung = false;
  answer: (command: Extract<ToWorker, { type: 'request' }>['command']) => unknown | undefined = () => ({});

  create = (events: WorkerChannelEvents): WorkerChannel => {
    const ch = { events, sent: [] as ToWorker[], killed: false, hung: this.hung };
    this.channels.push(ch);
    const pid = 1000 + this.channels.length;
    return {
      pid,
      send: (m) => {
        ch.sent.push(m);
        if (ch.killed || ch.hung) return;
        queueMicrotask(() => {
          if (m.type === 'init') {
            if (this.fatal) events.message({ type: 'fatal', error: { name: 'UsageError', code: 'WIN32_UNAVAILABLE', message: '[WIN32_UNAVAILABLE] not Windows', data: {} } });
            else events.message({ type: 'ready', pid, backend: 'fake' });
          } else if (m.type === 'ping') events.message({ type: 'pong', id: m.id });
          else if (m.type === 'request') {
            const result = this.answer(m.command);
            if (result !== undefined) events.message({ type: 'reply', id: m.id, ok: true, result });
          }
        });
      },
      kill: () => {
        ch.killed = true;
      },
      shutdown: async () => {
        ch.killed = true;
      },
    };
  };

  /** The current worker stops answering (its event loop is blocked). */
  hang(): void {
    this.channels.at(-1)!.hung = true;
  }

  /** The current worker process dies. */
  crash(code = 1, stderr = 'Error: boom in a native callback'): void {
    const ch = this.channels.at(-1)!;
    ch.events.output(stderr, 'stderr');
    ch.events.exit(code, null);
  }
}

function supervisor(worker: ScriptedWorker, extra: Partial<WorkerSupervisorOptions> = {}): { sup: WorkerSupervisor; failures: AgentError[] } {
  const failures: AgentError[] = [];
  const sup = new WorkerSupervisor({
    mode: 'process',
    init: { backendModule: 'file:///fake.js', interfaceClassGuid: '{7A1C9E52-3B4D-4F86-A0E1-5D2C8B6F9A13}', settings: {}, traceLimit: 10 },
    pingIntervalMs: 10,
    hangTimeoutMs: 60,
    onLog: () => undefined,
    onFailure: (e) => failures.push(e),
    createChannel: worker.create,
    ...extra,
  });
  return { sup, failures };
}

const until = async (check: () => boolean, ms = 2_000): Promise<void> => {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('WorkerSupervisor', () => {
  it('starts a worker, answers requests, and stops it', async () => {
    const w = new ScriptedWorker();
    w.answer = (c) => (c.op === 'probe' ? { interfaceGuid: 'g', present: true, symbolicLink: null } : undefined);
    const { sup } = supervisor(w);
    await sup.start();
    expect(sup.info).toMatchObject({ state: 'ready', mode: 'process', pid: 1001, restarts: 0, backend: 'fake' });
    expect(await sup.request({ op: 'probe' }, { timeoutMs: 1_000 })).toEqual({ interfaceGuid: 'g', present: true, symbolicLink: null });
    await sup.close();
    expect(sup.info.state).toBe('stopped');
    await expect(sup.request({ op: 'probe' }, { timeoutMs: 1_000 })).rejects.toMatchObject({ code: 'LAB_AGENT_BACKEND_UNAVAILABLE' });
  });

  it('marks the worker stopped when the backend cannot start, and answers LAB_AGENT_BACKEND_UNAVAILABLE with the cause', async () => {
    const w = new ScriptedWorker();
    w.fatal = true;
    const { sup } = supervisor(w);
    await sup.start();
    expect(sup.info).toMatchObject({ state: 'stopped', lastExit: expect.stringContaining('WIN32_UNAVAILABLE') });
    const err = await sup.request({ op: 'probe' }, { timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect(err).toMatchObject({ code: 'LAB_AGENT_BACKEND_UNAVAILABLE', status: 503 });
    expect((err as Error).cause).toMatchObject({ code: 'WIN32_UNAVAILABLE' });
    expect(w.channels[0]!.killed).toBe(true);
  });

  it('reports a crash as SERVICE_CRASHED to pending requests and the agent, restarts, and gives up past the budget', async () => {
    const w = new ScriptedWorker();
    w.answer = (c) => (c.op === 'wait' ? undefined : {});
    const { sup, failures } = supervisor(w, { maxRestarts: 1, restartWindowMs: 60_000 });
    await sup.start();
    const pending = sup.request({ op: 'wait', sessionId: 'S1', until: 'configured', timeoutMs: 5_000 }, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    w.crash(1);
    const err = await pending;
    expect(err).toMatchObject({ code: 'SERVICE_CRASHED', message: expect.stringContaining('Error: boom in a native callback') });
    expect(failures.map((f) => f.code)).toEqual(['SERVICE_CRASHED']);
    await until(() => sup.info.state === 'ready');
    expect(sup.info).toMatchObject({ restarts: 1, pid: 1002, lastExit: expect.stringContaining('exited with code 1') });
    w.crash(3);
    expect(sup.info.state).toBe('crashed');
    await expect(sup.request({ op: 'probe' }, { timeoutMs: 1_000 })).rejects.toMatchObject({ code: 'SERVICE_CRASHED', message: expect.stringContaining('not restarted again') });
    // The recovery step: an explicit restart resets the budget.
    expect(await sup.restart()).toMatchObject({ state: 'ready', pid: 1003 });
  });

  it('reports a worker that stops answering pings as SERVICE_HUNG, kills it and starts another', async () => {
    const w = new ScriptedWorker();
    const { sup, failures } = supervisor(w);
    await sup.start();
    w.hang();
    await until(() => failures.length > 0);
    expect(failures[0]).toMatchObject({ code: 'SERVICE_HUNG', message: expect.stringContaining('did not answer a ping within 60 ms') });
    expect(w.channels[0]!.killed).toBe(true);
    await until(() => sup.info.state === 'ready');
    expect(sup.info.restarts).toBe(1);
    await sup.close();
  });

  it('counts a command left unanswered past its bound as SERVICE_HUNG; an aborted request sends a cancel', async () => {
    const w = new ScriptedWorker();
    w.answer = () => undefined;
    const { sup } = supervisor(w, { hangTimeoutMs: 10_000 });
    await sup.start();
    await expect(sup.request({ op: 'status', sessionId: 'S1' }, { timeoutMs: 30 })).rejects.toMatchObject({ code: 'SERVICE_HUNG', message: expect.stringContaining("'status' within 30 ms") });
    await until(() => sup.info.state === 'ready');
    const controller = new AbortController();
    const reason = new AgentError('LAB_AGENT_DEADLINE', 'too late', 'wait longer');
    const req = sup.request({ op: 'status', sessionId: 'S1' }, { timeoutMs: 10_000, signal: controller.signal });
    controller.abort(reason);
    await expect(req).rejects.toBe(reason);
    expect(w.channels.at(-1)!.sent.some((m) => m.type === 'cancel')).toBe(true);
    await sup.close();
  });

  it('gives up on a worker that does not start in time', async () => {
    const w = new ScriptedWorker();
    w.hung = true;
    const { sup } = supervisor(w, { startTimeoutMs: 30 });
    await sup.start();
    expect(sup.info).toMatchObject({ state: 'stopped', lastExit: expect.stringContaining('not ready within 30 ms') });
  });
});
