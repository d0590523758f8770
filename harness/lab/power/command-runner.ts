/**
 * The `CommandRunner` seam: how the bench code runs a short external command (uhubctl, a relay CLI, a PDU
 * client). Commands are argument arrays run without a shell, so nothing in a hub location, a port or a user's
 * configured argument is ever interpreted by a shell. Tests pass a fake runner (./testing); the real one is
 * {@link ExecFileCommandRunner}.
 */
import { execFile } from 'node:child_process';
import { AbortedError, HarnessError, TimeoutError } from '../../../core/index.js';

/** How a command ended, whatever its exit status. */
export interface CommandResult {
  /** Exit code, or null when a signal ended the process. */
  readonly exitCode: number | null;
  /** The signal that ended the process (e.g. `SIGSEGV`), or null. */
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CommandRunOptions {
  /** The process is killed (SIGKILL) after this many ms and the run rejects with TimeoutError. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** Runs short commands. */
export interface CommandRunner {
  /**
   * Runs `file` with `args` (no shell) and resolves with its exit status, stdout and stderr, whatever the
   * exit code. The process is always reaped before the promise settles (bounded wait after a kill).
   * @throws CommandError LAB_COMMAND_NOT_FOUND (not installed / not on PATH), LAB_COMMAND_NOT_PERMITTED
   * (not executable), LAB_COMMAND_FAILED_TO_START, LAB_COMMAND_OUTPUT_TOO_LARGE; TimeoutError; AbortedError.
   */
  run(file: string, args: readonly string[], options: CommandRunOptions): Promise<CommandResult>;
}

/** Stable codes of {@link CommandError}. */
export const COMMAND_ERROR = {
  notFound: 'LAB_COMMAND_NOT_FOUND',
  notPermitted: 'LAB_COMMAND_NOT_PERMITTED',
  failedToStart: 'LAB_COMMAND_FAILED_TO_START',
  outputTooLarge: 'LAB_COMMAND_OUTPUT_TOO_LARGE',
} as const;

export type CommandErrorCode = (typeof COMMAND_ERROR)[keyof typeof COMMAND_ERROR];

/** A command could not be run at all (as opposed to running and exiting with a failure code). */
export class CommandError extends HarnessError {
  override readonly name = 'CommandError';
  readonly file: string;
  constructor(code: CommandErrorCode, file: string, message: string, options?: { cause?: unknown }) {
    super(code, `[${code}] ${message}`, { file }, options);
    this.file = file;
  }
}

/** `uhubctl -l 1-1 -p 2 -a off`: the command as a user would type it (for messages only; never executed). */
export function formatCommand(file: string, args: readonly string[]): string {
  const quote = (s: string): string => (/^[\w@%+=:,./\\-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [file, ...args].map(quote).join(' ');
}

/** The last `maxChars` of a command's output, for messages. */
export function tail(text: string, maxChars = 400): string {
  const t = text.trim();
  return t.length <= maxChars ? t : `…${t.slice(t.length - maxChars)}`;
}

export interface ExecFileCommandRunnerOptions {
  /** Most bytes kept of stdout and of stderr each; more kills the command. Default 1 MiB. */
  readonly maxOutputBytes?: number | undefined;
  /** How long to wait for the process to exit after SIGKILL before giving up on reaping it. Default 2000. */
  readonly reapTimeoutMs?: number | undefined;
}

/**
 * Runs commands with `child_process.execFile` (argument array, `shell: false`), with its own timeout and
 * abort handling so that a timeout is reported as one (execFile's own `timeout` cannot be told apart from
 * an external kill).
 */
export class ExecFileCommandRunner implements CommandRunner {
  readonly #maxOutputBytes: number;
  readonly #reapTimeoutMs: number;

  constructor(options: ExecFileCommandRunnerOptions = {}) {
    this.#maxOutputBytes = options.maxOutputBytes ?? 1024 * 1024;
    this.#reapTimeoutMs = options.reapTimeoutMs ?? 2_000;
  }

  run(file: string, args: readonly string[], options: CommandRunOptions): Promise<CommandResult> {
    const what = formatCommand(file, args);
    if (options.signal?.aborted) return Promise.reject(new AbortedError(what, options.signal.reason));
    return new Promise<CommandResult>((resolve, reject) => {
      let ending: 'timeout' | 'abort' | undefined;
      let settled = false;
      let reapTimer: NodeJS.Timeout | undefined;
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(reapTimer);
        options.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const endingError = (detail: string): Error =>
        ending === 'abort' ? new AbortedError(what, options.signal?.reason) : new TimeoutError(what, options.timeoutMs, detail);

      const child = execFile(
        file,
        [...args],
        { shell: false, windowsHide: true, encoding: 'utf8', maxBuffer: this.#maxOutputBytes },
        (error, stdout, stderr) => {
          if (ending !== undefined) {
            settle(() => reject(endingError(stderr.trim() === '' ? 'the command was killed' : `the command was killed; it printed: ${tail(stderr)}`)));
            return;
          }
          if (error === null) {
            settle(() => resolve({ exitCode: 0, signal: null, stdout, stderr }));
            return;
          }
          const code = (error as NodeJS.ErrnoException).code as unknown;
          if (code === 'ENOENT') {
            settle(() => reject(new CommandError(COMMAND_ERROR.notFound, file, `${what} failed: '${file}' is not installed or not on PATH`, { cause: error })));
          } else if (code === 'EACCES' || code === 'EPERM') {
            settle(() => reject(new CommandError(COMMAND_ERROR.notPermitted, file, `${what} failed: '${file}' may not be executed by this user (${String(code)})`, { cause: error })));
          } else if (code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
            settle(() => reject(new CommandError(COMMAND_ERROR.outputTooLarge, file, `${what} failed: it printed more than ${this.#maxOutputBytes} bytes and was killed`, { cause: error })));
          } else if (typeof code === 'number') {
            settle(() => resolve({ exitCode: code, signal: null, stdout, stderr }));
          } else if (error.signal) {
            settle(() => resolve({ exitCode: null, signal: error.signal ?? null, stdout, stderr }));
          } else {
            settle(() => reject(new CommandError(COMMAND_ERROR.failedToStart, file, `${what} could not be run: ${error.message}`, { cause: error })));
          }
        },
      );
      const kill = (why: 'timeout' | 'abort'): void => {
        ending = why;
        child.kill('SIGKILL');
        // A process stuck in the kernel (e.g. in USB I/O) may not die at once: bound the wait for the reap.
        reapTimer = setTimeout(() => {
          settle(() => reject(endingError(`the command was killed, but pid ${child.pid ?? '?'} did not exit within ${this.#reapTimeoutMs} ms of SIGKILL`)));
        }, this.#reapTimeoutMs);
      };
      const timer = setTimeout(() => kill('timeout'), Math.max(0, options.timeoutMs));
      const onAbort = (): void => kill('abort');
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
