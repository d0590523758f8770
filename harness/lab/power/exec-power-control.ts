/**
 * `hotplug.kind: 'exec'`: power through a user command: a USB relay's CLI, a PDU client (e.g. pdudaemon's
 * `pduclient`), a lab script. The configuration gives each action as an argument array (no shell); the
 * command must exit 0 within the deadline. A cycle runs the configured `cycle` command, or `off`, a pause of
 * `cycleDelayMs`, then `on`.
 *
 * The harness cannot read a relay's state back: it trusts exit code 0. Whether the device really detached
 * is the caller's wait for it to leave the bus.
 * @see docs/bench-hardware.md
 */
import { delay, RealClock, UsageError, type Clock } from '../../../core/index.js';
import { checkCommand } from './check-command.js';
import { CommandError, COMMAND_ERROR, ExecFileCommandRunner, formatCommand, tail, type CommandRunner } from './command-runner.js';
import { Deadline } from './deadline.js';
import type { PowerActionOptions, PowerControl } from './power-control.js';
import { POWER_ERROR, PowerControlError } from './power-control-error.js';

export interface ExecPowerControlOptions {
  /** Turns the device's power off, e.g. `["usbrelay", "BITFT_1=0"]`. */
  readonly off: readonly string[];
  /** Turns it on, e.g. `["usbrelay", "BITFT_1=1"]`. */
  readonly on: readonly string[];
  /** Does a whole cycle itself (e.g. `["pduclient", "--daemon", "localhost", "--hostname", "pdu1", "--port", "3", "--command", "reboot"]`). */
  readonly cycle?: readonly string[] | undefined;
  /** Off time between `off` and `on` when there is no `cycle` command. Default 2000. */
  readonly cycleDelayMs?: number | undefined;
  /** Exit codes that mean success. Default `[0]`. */
  readonly successExitCodes?: readonly number[] | undefined;
  /** Deadline of one action when the caller gives none. Default 10000 (+ cycleDelayMs for a cycle). */
  readonly timeoutMs?: number | undefined;
  readonly runner?: CommandRunner | undefined;
  readonly clock?: Clock | undefined;
}

/** Power control through user commands. */
export class ExecPowerControl implements PowerControl {
  readonly kind = 'exec';
  readonly #off: readonly [string, ...string[]];
  readonly #on: readonly [string, ...string[]];
  readonly #cycle: readonly [string, ...string[]] | undefined;
  readonly #cycleDelayMs: number;
  readonly #success: ReadonlySet<number>;
  readonly #timeoutMs: number;
  readonly #runner: CommandRunner;
  readonly #clock: Clock;

  /** @throws UsageError INVALID_CONFIG for a command that is not an argument array, or a bad delay. */
  constructor(options: ExecPowerControlOptions) {
    this.#off = checkCommand(options.off, 'hotplug.off');
    this.#on = checkCommand(options.on, 'hotplug.on');
    this.#cycle = options.cycle === undefined ? undefined : checkCommand(options.cycle, 'hotplug.cycle');
    this.#cycleDelayMs = options.cycleDelayMs ?? 2_000;
    if (!Number.isFinite(this.#cycleDelayMs) || this.#cycleDelayMs < 0) {
      throw new UsageError('INVALID_CONFIG', `hotplug.cycleDelayMs is ${JSON.stringify(options.cycleDelayMs)}: give the off time of a cycle in ms, 0 or more`, { field: 'hotplug.cycleDelayMs' });
    }
    this.#success = new Set(options.successExitCodes ?? [0]);
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#runner = options.runner ?? new ExecFileCommandRunner();
    this.#clock = options.clock ?? new RealClock();
  }

  async off(options: PowerActionOptions = {}): Promise<void> {
    await this.#run('off', this.#off, new Deadline(this.#clock, options.timeoutMs ?? this.#timeoutMs), options.signal);
  }

  async on(options: PowerActionOptions = {}): Promise<void> {
    await this.#run('on', this.#on, new Deadline(this.#clock, options.timeoutMs ?? this.#timeoutMs), options.signal);
  }

  async cycle(options: PowerActionOptions = {}): Promise<void> {
    if (this.#cycle !== undefined) {
      await this.#run('cycle', this.#cycle, new Deadline(this.#clock, options.timeoutMs ?? this.#timeoutMs), options.signal);
      return;
    }
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs + this.#cycleDelayMs;
    // Checked before switching off: running out of time during the pause would leave the device off.
    if (timeoutMs <= this.#cycleDelayMs) {
      throw new UsageError('INVALID_ARGUMENT', `cycle timeoutMs ${timeoutMs} is not longer than the off time (hotplug.cycleDelayMs ${this.#cycleDelayMs}): give more time or a shorter off time`, { timeoutMs });
    }
    const deadline = new Deadline(this.#clock, timeoutMs);
    await this.#run('off', this.#off, deadline, options.signal);
    await delay(this.#clock, this.#cycleDelayMs, options.signal);
    await this.#run('on', this.#on, deadline, options.signal);
  }

  async #run(action: string, command: readonly [string, ...string[]], deadline: Deadline, signal: AbortSignal | undefined): Promise<void> {
    const [file, ...args] = command;
    const what = formatCommand(file, args);
    let result;
    try {
      result = await this.#runner.run(file, args, { timeoutMs: deadline.next(what), signal });
    } catch (err) {
      if (err instanceof CommandError && err.code === COMMAND_ERROR.notFound) {
        throw new PowerControlError(POWER_ERROR.toolMissing, `power ${action} (${what}) failed: '${file}' is not installed or not on PATH. Install it or give its full path in hotplug.${action}`, { action, file }, { cause: err });
      }
      if (err instanceof CommandError && err.code === COMMAND_ERROR.notPermitted) {
        throw new PowerControlError(POWER_ERROR.permission, `power ${action} (${what}) failed: '${file}' may not be executed by this user. Check its file mode`, { action, file }, { cause: err });
      }
      throw err;
    }
    if (result.exitCode !== null && this.#success.has(result.exitCode)) return;
    const how = result.exitCode === null ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
    const output = tail(`${result.stderr}\n${result.stdout}`);
    throw new PowerControlError(
      POWER_ERROR.commandFailed,
      `power ${action} (${what}) ${how}${output === '' ? ' and printed nothing' : `: ${output}`}. Run the command by hand to check the relay or PDU and its configuration`,
      { action, file, exitCode: result.exitCode },
    );
  }
}
