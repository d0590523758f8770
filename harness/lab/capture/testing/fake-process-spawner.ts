/**
 * A {@link ProcessSpawner} whose processes are scripts: a test (or ./fake-capture-tools) says what the tool
 * prints, which files it writes, how it answers signals and when it exits. A program without a script fails
 * to start with ENOENT, as a tool that is not installed.
 */
import type { ProcessExit, ProcessSpawner, SpawnedProcess } from '../process-spawner.js';

type Signal = 'SIGTERM' | 'SIGINT' | 'SIGKILL';

/** What a script can do with its process. */
export interface FakeProcessHandle {
  readonly file: string;
  readonly args: readonly string[];
  /** Adds output (stdout or stderr: the seam does not tell them apart). */
  print(text: string): void;
  exit(exitCode: number | null, signal?: string | null): void;
  /** Handles SIGTERM/SIGINT (the default ends the process by the signal). SIGKILL always ends it, unless {@link unkillable}. */
  onSignal(handler: (signal: Signal) => void): void;
  /** The process ignores even SIGKILL (stuck in the kernel). */
  unkillable(): void;
  readonly hasExited: boolean;
}

export type FakeProcessScript = (process: FakeProcessHandle) => void;

export interface FakeProcess extends SpawnedProcess {
  readonly file: string;
  readonly args: readonly string[];
  /** Signals sent, in order. */
  readonly signals: readonly Signal[];
}

export class FakeProcessSpawner implements ProcessSpawner {
  readonly spawned: FakeProcess[] = [];
  readonly #scripts: Readonly<Record<string, FakeProcessScript>>;
  #nextPid = 4000;

  constructor(scripts: Readonly<Record<string, FakeProcessScript>>) {
    this.#scripts = scripts;
  }

  spawn(file: string, args: readonly string[]): FakeProcess {
    let text = '';
    const listeners = new Set<(chunk: string) => void>();
    const signals: Signal[] = [];
    let resolveExit!: (exit: ProcessExit) => void;
    const exited = new Promise<ProcessExit>((r) => (resolveExit = r));
    let exitedYet = false;
    let handler: ((signal: Signal) => void) | undefined;
    let killable = true;
    const exit = (e: ProcessExit): void => {
      if (exitedYet) return;
      exitedYet = true;
      resolveExit(e);
    };
    const script = this.#scripts[file];
    const handle: FakeProcessHandle = {
      file,
      args,
      print(t) {
        if (exitedYet) return;
        text += t;
        for (const l of listeners) l(t);
      },
      exit: (exitCode, signal = null) => exit({ exitCode, signal }),
      onSignal: (h) => (handler = h),
      unkillable: () => (killable = false),
      get hasExited() {
        return exitedYet;
      },
    };
    const process: FakeProcess = {
      file,
      args,
      signals,
      pid: script === undefined ? undefined : this.#nextPid++,
      output: () => text,
      onOutput(l) {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      exited,
      kill(signal) {
        if (exitedYet) return false;
        signals.push(signal);
        if (signal === 'SIGKILL') {
          if (killable) exit({ exitCode: null, signal: 'SIGKILL' });
        } else if (handler !== undefined) handler(signal);
        else exit({ exitCode: null, signal });
        return true;
      },
    };
    this.spawned.push(process);
    // Like a real spawn, the process runs (or fails to start) after spawn() returned.
    setImmediate(() => (script === undefined ? exit({ exitCode: null, signal: null, spawnError: 'ENOENT' }) : script(handle)));
    return process;
  }
}
