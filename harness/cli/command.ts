/**
 * The shape of a `usbfn-hil` command and the argument parsing every command shares: unknown options and
 * bad values are usage errors (one line, exit 2), `--help` prints the command's own usage.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../../core/index.js';

export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The full usage text shown by `usbfn-hil <command> --help`. */
  readonly usage: string;
  /** Runs the command; resolves with the process exit code. Throws UsageError for bad input. */
  run(argv: readonly string[]): Promise<number>;
}

/** Thrown by {@link parseCommandArgs} when `--help` was given: the caller prints the usage. */
export class HelpRequested extends Error {
  constructor(readonly usage: string) {
    super('help requested');
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `node:util` parseArgs with the CLI's conventions: `--help`/`-h` on every command, strict options, and
 * parse failures turned into a UsageError that names the command.
 * @throws HelpRequested, UsageError INVALID_ARGUMENT
 */
export function parseCommandArgs<O extends Options>(command: Pick<Command, 'name' | 'usage'>, argv: readonly string[], options: O, allowPositionals = false) {
  try {
    const parsed = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals });
    if ((parsed.values as Record<string, unknown>)['help'] === true) throw new HelpRequested(command.usage);
    return parsed;
  } catch (err) {
    if (err instanceof HelpRequested) throw err;
    throw parseArgsUsageError(command.name, err) ?? err;
  }
}

/**
 * A `node:util` parseArgs failure (unknown option, missing value) as the CLI's one-line usage error, or
 * undefined for any other error. Node's hint about `--` is dropped: it only confuses a mistyped option.
 */
export function parseArgsUsageError(commandName: string, err: unknown): UsageError | undefined {
  if (!(err instanceof TypeError) || !String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) return undefined;
  const what = err.message.split('. To specify a positional argument')[0]!;
  return new UsageError('INVALID_ARGUMENT', `${commandName}: ${what.charAt(0).toLowerCase()}${what.slice(1)} (see usbfn-hil ${commandName} --help)`, {}, { cause: err });
}

/**
 * A TCP port from the command line: an integer 0..65535 written in decimal (0 = any free port).
 * @throws UsageError INVALID_ARGUMENT
 */
export function parsePort(text: string | undefined, option = '--port'): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new UsageError('INVALID_ARGUMENT', `${option} '${text}' is not a TCP port: give a decimal number 0..65535 (0 = any free port)`);
  }
  return Number(text);
}

/**
 * A 16-bit USB id (VID/PID) from the command line: `0x1209` or decimal.
 * @throws UsageError INVALID_ARGUMENT
 */
export function parseUsbId(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const v = /^0x[0-9a-f]{1,4}$/i.test(text) ? Number.parseInt(text, 16) : /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) {
    throw new UsageError('INVALID_ARGUMENT', `${option} '${text}' is not a 16-bit USB id: use e.g. ${option} 0x1209`);
  }
  return v;
}

/**
 * A duration in whole seconds from the command line (1..86400), returned in ms.
 * @throws UsageError INVALID_ARGUMENT
 */
export function parseSeconds(text: string | undefined, option: string, defaultSeconds: number): number {
  if (text === undefined) return defaultSeconds * 1000;
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 86_400) {
    throw new UsageError('INVALID_ARGUMENT', `${option} '${text}' is not a number of seconds: give a whole number 1..86400`);
  }
  return Number(text) * 1000;
}

/** A timestamp for file names: `2026-12-06T21-00-00-000Z`. */
export function fileStamp(date = new Date()): string {
  return date.toISOString().replace(/[:.]/g, '-');
}
