/**
 * Starts the device agent with the `sim` backend as a separate process, as a real bench would run it: the
 * same CLI (`usbfn-hil agent serve --backend sim --usbip …`), its own token, 127.0.0.1 only, and waits
 * until it answers. The lab-sim world's global setup and its tests use it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { TimeoutError } from '../../core/index.js';

export interface LabSimAgent {
  readonly url: string;
  readonly usbip: { readonly host: string; readonly port: number };
  readonly token: string;
  readonly pid: number;
  /** What the agent printed (stdout and stderr), for a failure's message. */
  output(): string;
  /** Stops the agent (SIGTERM, then SIGKILL after 5 s) and waits for it. */
  stop(): Promise<void>;
}

/** A TCP port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitAlive(url: string, child: ChildProcess, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the lab-sim device agent exited (${child.exitCode ?? child.signalCode}) before answering:\n${output().slice(-2000)}`);
    }
    try {
      const res = await fetch(`${url}/v1/health?probe=1`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new TimeoutError('the lab-sim device agent to answer', timeoutMs, output().slice(-2000));
}

/**
 * Starts `usbfn-hil agent serve --backend sim` on free 127.0.0.1 ports.
 * @throws TimeoutError when it does not answer within `startTimeoutMs` (default 30 s).
 */
export async function startLabSimAgent(options: { startTimeoutMs?: number; worker?: 'process' | 'in-process'; benchId?: string } = {}): Promise<LabSimAgent> {
  const [httpPort, usbipPort] = [await freePort(), await freePort()];
  const token = randomBytes(24).toString('hex');
  const bin = fileURLToPath(new URL('../cli/bin.js', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      bin,
      'agent',
      'serve',
      '--backend',
      'sim',
      '--listen',
      `127.0.0.1:${httpPort}`,
      '--usbip',
      `127.0.0.1:${usbipPort}`,
      '--worker',
      options.worker ?? 'process',
      '--bench-id',
      options.benchId ?? 'lab-sim',
      '--bench-tag',
      'lab-sim',
    ],
    { env: { ...process.env, USBFN_HIL_AGENT_TOKEN: token }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const url = `http://127.0.0.1:${httpPort}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitAlive(url, child, options.startTimeoutMs ?? 30_000, () => out);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, usbip: { host: '127.0.0.1', port: usbipPort }, token, pid: child.pid ?? -1, output: () => out, stop };
}
