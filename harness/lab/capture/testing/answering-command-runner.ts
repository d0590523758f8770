/**
 * A {@link CommandRunner} that answers short commands (`whoami /groups`, `dumpcap --version`) from a table
 * keyed by the command line; an unknown command is not installed. Records what was run.
 */
import { COMMAND_ERROR, CommandError, formatCommand, type CommandResult, type CommandRunner } from '../../power/index.js';

export class AnsweringCommandRunner implements CommandRunner {
  readonly calls: string[] = [];
  readonly #answers: Readonly<Record<string, Partial<CommandResult>>>;

  /** `answers`: command line (`whoami /groups`) → its output and exit code (default 0). */
  constructor(answers: Readonly<Record<string, Partial<CommandResult>>>) {
    this.#answers = answers;
  }

  async run(file: string, args: readonly string[]): Promise<CommandResult> {
    const line = formatCommand(file, args);
    this.calls.push(line);
    const answer = this.#answers[line];
    if (answer === undefined) throw new CommandError(COMMAND_ERROR.notFound, file, `${line} failed: '${file}' is not installed or not on PATH`);
    return { exitCode: 0, signal: null, stdout: '', stderr: '', ...answer };
  }
}
