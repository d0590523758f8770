/**
 * A scripted {@link CommandRunner} for tests: each expected call names its arguments and what the command
 * does (output and exit code, a start failure, or hanging until its timeout or abort). A call nobody
 * expected fails the test with the command line, so a test states every command the code under test runs.
 */
import { AbortedError, TimeoutError } from '../../../../core/index.js';
import { COMMAND_ERROR, CommandError, formatCommand, type CommandResult, type CommandRunner, type CommandRunOptions } from '../command-runner.js';

export interface ScriptedCommand {
  /** The program expected (default: any). */
  readonly file?: string | undefined;
  /** The exact arguments expected. */
  readonly args: readonly string[];
  /** Output and exit status (default exit 0, no output). */
  readonly result?: Partial<CommandResult> | undefined;
  /** `not-found`: ENOENT; `not-permitted`: EACCES; `hang`: never exits (rejects on timeout or abort). */
  readonly behaviour?: 'not-found' | 'not-permitted' | 'hang' | undefined;
  /** Runs when the command is called (e.g. to advance a test clock by the command's duration). */
  readonly onRun?: (() => void) | undefined;
}

export interface RecordedCall {
  readonly file: string;
  readonly args: readonly string[];
  readonly timeoutMs: number;
}

export class FakeCommandRunner implements CommandRunner {
  readonly calls: RecordedCall[] = [];
  readonly #script: ScriptedCommand[];

  constructor(script: readonly ScriptedCommand[]) {
    this.#script = [...script];
  }

  /** Scripted calls not made yet. */
  get pending(): readonly ScriptedCommand[] {
    return this.#script;
  }

  async run(file: string, args: readonly string[], options: CommandRunOptions): Promise<CommandResult> {
    this.calls.push({ file, args: [...args], timeoutMs: options.timeoutMs });
    const next = this.#script.shift();
    const what = formatCommand(file, args);
    if (next === undefined) throw new Error(`FakeCommandRunner: unexpected command ${what} (the script is exhausted)`);
    if ((next.file !== undefined && next.file !== file) || JSON.stringify(next.args) !== JSON.stringify(args)) {
      throw new Error(`FakeCommandRunner: expected ${formatCommand(next.file ?? file, next.args)}, got ${what}`);
    }
    next.onRun?.();
    if (options.signal?.aborted) throw new AbortedError(what, options.signal.reason);
    switch (next.behaviour) {
      case 'not-found':
        throw new CommandError(COMMAND_ERROR.notFound, file, `${what} failed: '${file}' is not installed or not on PATH`);
      case 'not-permitted':
        throw new CommandError(COMMAND_ERROR.notPermitted, file, `${what} failed: '${file}' may not be executed by this user (EACCES)`);
      case 'hang':
        return new Promise<CommandResult>((_resolve, reject) => {
          const timer = setTimeout(() => reject(new TimeoutError(what, options.timeoutMs, 'the command was killed')), options.timeoutMs);
          options.signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(new AbortedError(what, options.signal?.reason));
          });
        });
      default:
        return { exitCode: 0, signal: null, stdout: '', stderr: '', ...next.result };
    }
  }
}
