/**
 * The `ProcessSpawner` seam: how host capture starts a long-running tool (dumpcap, tshark, USBPcapCMD) and
 * watches its output and exit. No shell: the program and its arguments are passed as they are. Tests use a
 * fake (./testing) that plays a tool's behaviour.
 */
import { spawn } from 'node:child_process';

export interface ProcessExit {
  /** Exit code, or null when a signal ended it or it never started. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** Why it could not be started (`ENOENT`: not installed; `EACCES`), when it could not. */
  readonly spawnError?: string | undefined;
}

export interface SpawnedProcess {
  readonly pid: number | undefined;
  /** stdout and stderr so far, in arrival order (the last 64 KiB). */
  output(): string;
  /** Calls `listener` with each new chunk of output; returns the unsubscribe. */
  onOutput(listener: (chunk: string) => void): () => void;
  /** Settles once the process has exited or failed to start (never rejects). */
  readonly exited: Promise<ProcessExit>;
  /** Sends a signal (on Windows any signal terminates the process); false when it is already gone. */
  kill(signal: 'SIGTERM' | 'SIGINT' | 'SIGKILL'): boolean;
}

export interface ProcessSpawner {
  spawn(file: string, args: readonly string[]): SpawnedProcess;
}

const OUTPUT_KEEP_CHARS = 64 * 1024;

/** Spawns with `child_process.spawn` (`shell: false`, stdin closed, stdout/stderr piped). */
export class NodeProcessSpawner implements ProcessSpawner {
  spawn(file: string, args: readonly string[]): SpawnedProcess {
    let text = '';
    const listeners = new Set<(chunk: string) => void>();
    const child = spawn(file, [...args], { shell: false, windowsHide: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const append = (data: Buffer): void => {
      const chunk = data.toString('utf8');
      text = (text + chunk).slice(-OUTPUT_KEEP_CHARS);
      for (const l of listeners) l(chunk);
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    const exited = new Promise<ProcessExit>((resolve) => {
      child.on('error', (err: NodeJS.ErrnoException) => {
        // 'error' without a pid: it never started. With a pid (a failed kill), wait for 'close'.
        if (child.pid === undefined) resolve({ exitCode: null, signal: null, spawnError: err.code ?? err.message });
      });
      child.once('close', (code, signal) => resolve({ exitCode: code, signal }));
    });
    return {
      pid: child.pid,
      output: () => text,
      onOutput(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      exited,
      kill: (signal) => child.exitCode === null && child.signalCode === null && child.kill(signal),
    };
  }
}
