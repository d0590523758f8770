/**
 * The two ways the agent reaches its service worker: a forked child process with an IPC channel (crash
 * isolation: the agent survives a crash or a wedged native call of the worker), or the same
 * {@link ServiceHost} inside the agent (`in-process`, for Windows node under Wine, where child-process IPC
 * is unavailable). Messages cross both as JSON, so the two behave alike apart from isolation.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { execArgvFor, siblingModule } from '../module-url.js';
import { ServiceHost } from './service-host.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

/** What the supervisor hears from a channel. */
export interface WorkerChannelEvents {
  message(message: FromWorker): void;
  /** The worker process ended (never for in-process). */
  exit(code: number | null, signal: NodeJS.Signals | null): void;
  /** A line the worker wrote to stdout/stderr. */
  output(line: string, stream: 'stdout' | 'stderr'): void;
}

export interface WorkerChannel {
  readonly pid: number | null;
  send(message: ToWorker): void;
  /** Hard stop (a crashed or hung worker): SIGKILL / TerminateProcess. */
  kill(): void;
  /** Orderly stop: the worker closes its session and backend, then exits (bounded by `timeoutMs`). */
  shutdown(timeoutMs: number): Promise<void>;
}

/** Environment variables the worker does not get (it needs no credentials). */
const SECRET_ENV = ['USBFN_HIL_AGENT_TOKEN'];

/** Forks `worker-main` (`.ts` through tsx's loader in a checkout, `.js` from dist/). */
export function forkWorkerChannel(events: WorkerChannelEvents): WorkerChannel {
  const entry = siblingModule(import.meta.url, './worker-main');
  const env = { ...process.env };
  for (const name of SECRET_ENV) delete env[name];
  const child = fork(fileURLToPath(entry), [], {
    execArgv: execArgvFor(entry),
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'json',
  });
  for (const stream of ['stdout', 'stderr'] as const) {
    let partial = '';
    child[stream]?.setEncoding('utf8');
    child[stream]?.on('data', (chunk: string) => {
      const parts = (partial + chunk).split(/\r?\n/);
      partial = parts.pop() ?? '';
      for (const line of parts) if (line !== '') events.output(line, stream);
    });
  }
  child.on('message', (m) => events.message(m as FromWorker));
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      resolve();
      events.exit(code, signal);
    }),
  );
  // A failed spawn (no node binary, EAGAIN) is reported as an exit without code; later errors (a send on a
  // channel that just closed) are followed by the exit event, so they need no handling of their own — but an
  // 'error' event without a listener would take the agent down.
  child.on('error', () => {
    if (!exited && child.exitCode === null && child.pid === undefined) {
      exited = true;
      events.exit(null, null);
    }
  });
  return {
    pid: child.pid ?? null,
    send: (message) => {
      if (child.connected) child.send(message, () => undefined);
    },
    kill: () => {
      if (!exited) child.kill('SIGKILL');
    },
    shutdown: async (timeoutMs) => {
      if (exited) return;
      if (child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

const jsonCopy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** The service host inside the agent; messages are delivered asynchronously, as JSON copies. */
export function inProcessWorkerChannel(events: WorkerChannelEvents): WorkerChannel {
  let open = true;
  const host = new ServiceHost({
    ownProcess: false,
    send: (message) => {
      if (!open) return;
      const copy = jsonCopy(message);
      queueMicrotask(() => {
        if (open) events.message(copy);
      });
    },
  });
  return {
    pid: null,
    send: (message) => {
      if (!open) return;
      const copy = jsonCopy(message);
      queueMicrotask(() => void host.handle(copy));
    },
    kill: () => {
      open = false;
      void host.dispose().catch(() => undefined);
    },
    shutdown: async () => {
      open = false;
      await host.dispose();
    },
  };
}
