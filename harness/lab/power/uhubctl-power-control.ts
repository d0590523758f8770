/**
 * `hotplug.kind: 'uhubctl'`: VBUS of one port of a hub with per-port power switching, through uhubctl on
 * the host PC. Each action runs `uhubctl -l <hub> -p <port> -a off|on|cycle`, then reads the port status
 * uhubctl printed after its power request and checks it (off → no power bit; on → power bit), so that a
 * request the hub ignored is an error, not a silent pass. When uhubctl finds no hub at the location, a
 * second run (`uhubctl -f`, every hub, no action) tells a wrong location from a hub that cannot switch one
 * port (ganged or no power switching).
 *
 * ASSUMPTION: a port whose status reads "off" has no VBUS. Some hubs clear the power bit but keep VBUS on
 * (uhubctl's README, "compatible hubs"); only the device detaching proves it, which is the caller's wait.
 * @see docs/bench-hardware.md
 */
import { RealClock, type Clock } from '../../../core/index.js';
import { checkCommand } from './check-command.js';
import { CommandError, COMMAND_ERROR, ExecFileCommandRunner, formatCommand, tail, type CommandResult, type CommandRunner } from './command-runner.js';
import { Deadline } from './deadline.js';
import type { PowerActionOptions, PowerControl } from './power-control.js';
import { POWER_ERROR, PowerControlError } from './power-control-error.js';
import { checkHubPort, uhubctlActionArgs, uhubctlStatusArgs, type UhubctlAction } from './uhubctl-command.js';
import { hubsOf, parseUhubctlOutput, type UhubctlHubStatus, type UhubctlOutput, type UhubctlPortStatus } from './uhubctl-output.js';

/** Default deadline of one action, not counting the off time of a cycle. */
export const UHUBCTL_DEFAULT_TIMEOUT_MS = 10_000;
/** uhubctl's own default off time of a cycle (`-d 2`). */
export const UHUBCTL_DEFAULT_CYCLE_DELAY_MS = 2_000;

/** The udev rule uhubctl's project ships for use without root (group `dialout`), Linux 6.0+ block included. */
export const UHUBCTL_UDEV_RULES = [
  'SUBSYSTEM=="usb", DRIVER=="hub|usb", MODE="0664", GROUP="dialout"',
  'SUBSYSTEM=="usb", DRIVER=="hub|usb", RUN+="/bin/sh -c \\"chown -f root:dialout $sys$devpath/*port*/disable || true\\"" RUN+="/bin/sh -c \\"chmod -f 660 $sys$devpath/*port*/disable || true\\""',
] as const;

/** What to do about a permission problem, ready to copy. */
export const UHUBCTL_PERMISSION_FIX = [
  `printf '%s\\n' '${UHUBCTL_UDEV_RULES[0]}' '${UHUBCTL_UDEV_RULES[1]}' | sudo tee /etc/udev/rules.d/52-usb.rules`,
  'sudo udevadm trigger --attr-match=subsystem=usb',
  'sudo usermod -aG dialout "$USER"   # then log out and back in',
  'or run the harness as root, or set hotplug.command to ["sudo", "-n", "uhubctl"] with a sudoers entry for uhubctl',
].join('\n');

/** How to install uhubctl, per platform. */
export function uhubctlInstallFix(platform: string): string {
  if (platform === 'win32') return 'uhubctl cannot switch port power on Windows (WinUSB does not pass hub class requests): use hotplug.kind "exec" with a relay or PDU, or "port-reset"';
  if (platform === 'darwin') return 'brew install uhubctl (or sudo port install uhubctl)';
  return 'sudo apt install uhubctl (Debian/Ubuntu), sudo dnf install uhubctl (Fedora), or build it from https://github.com/mvp/uhubctl';
}

export interface UhubctlPowerControlOptions {
  /** uhubctl hub location, e.g. `1-1` (as `uhubctl` lists it; `lsusb -t` shows the same tree). */
  readonly hub: string;
  /** Port of that hub the device is plugged into (1-based). */
  readonly port: number;
  /** How to run uhubctl, as an argument array. Default `['uhubctl']`; e.g. `['sudo', '-n', 'uhubctl']`. */
  readonly command?: readonly string[] | undefined;
  /** Off time of `cycle()` in ms (uhubctl `-d`). Default 2000. */
  readonly cycleDelayMs?: number | undefined;
  /** Power-off requests per `off` (uhubctl `-r`), for kernels that power a port back on. Default uhubctl's (1). */
  readonly repeat?: number | undefined;
  /** Act on this location only, not on the USB 3 companion hub (uhubctl `-e`). Default false. */
  readonly exact?: boolean | undefined;
  /** Deadline of one action when the caller gives none. Default 10000 (+ cycleDelayMs for a cycle). */
  readonly timeoutMs?: number | undefined;
  readonly runner?: CommandRunner | undefined;
  readonly clock?: Clock | undefined;
  /** For install hints. Default `process.platform`. */
  readonly platform?: string | undefined;
}

/** The port's status as uhubctl printed it, per hub (the hub itself and, for a USB 3 hub, its companion). */
export interface UhubctlPortReport {
  readonly location: string;
  readonly hub: UhubctlHubStatus['hub'];
  readonly port: UhubctlPortStatus;
}

/** Power control of one hub port through uhubctl. */
export class UhubctlPowerControl implements PowerControl {
  readonly kind = 'uhubctl';
  readonly hub: string;
  readonly port: number;
  readonly #command: readonly [string, ...string[]];
  readonly #cycleDelayMs: number;
  readonly #repeat: number | undefined;
  readonly #exact: boolean;
  readonly #timeoutMs: number;
  readonly #runner: CommandRunner;
  readonly #clock: Clock;
  readonly #platform: string;

  /** @throws UsageError INVALID_CONFIG for a bad location, port, command, delay or repeat count. */
  constructor(options: UhubctlPowerControlOptions) {
    checkHubPort(options.hub, options.port);
    this.hub = options.hub;
    this.port = options.port;
    this.#command = checkCommand(options.command ?? ['uhubctl'], 'hotplug.command');
    this.#cycleDelayMs = options.cycleDelayMs ?? UHUBCTL_DEFAULT_CYCLE_DELAY_MS;
    this.#repeat = options.repeat;
    this.#exact = options.exact ?? false;
    this.#timeoutMs = options.timeoutMs ?? UHUBCTL_DEFAULT_TIMEOUT_MS;
    this.#runner = options.runner ?? new ExecFileCommandRunner();
    this.#clock = options.clock ?? new RealClock();
    this.#platform = options.platform ?? process.platform;
    // Validates delay and repeat now rather than at the first action.
    uhubctlActionArgs({ hub: this.hub, port: this.port, action: 'cycle', cycleDelayMs: this.#cycleDelayMs, repeat: this.#repeat, exact: this.#exact });
  }

  off(options: PowerActionOptions = {}): Promise<void> {
    return this.#act('off', options);
  }

  on(options: PowerActionOptions = {}): Promise<void> {
    return this.#act('on', options);
  }

  cycle(options: PowerActionOptions = {}): Promise<void> {
    return this.#act('cycle', options);
  }

  /**
   * The port's status now (`uhubctl -l <hub> -p <port>`), for a bench check.
   * @throws PowerControlError as the actions; TimeoutError; AbortedError.
   */
  async status(options: PowerActionOptions = {}): Promise<UhubctlPortReport[]> {
    const deadline = new Deadline(this.#clock, options.timeoutMs ?? this.#timeoutMs);
    const args = uhubctlStatusArgs(this.hub, this.port, this.#exact);
    const result = await this.#run(args, deadline, options.signal);
    if (result.exitCode !== 0) await this.#failure(args, result, deadline, options.signal);
    const output = this.#parse(args, result);
    return this.#portReports(args, output.blocks);
  }

  async #act(action: UhubctlAction, options: PowerActionOptions): Promise<void> {
    const deadline = new Deadline(this.#clock, options.timeoutMs ?? this.#timeoutMs + (action === 'cycle' ? this.#cycleDelayMs : 0));
    const args = uhubctlActionArgs({ hub: this.hub, port: this.port, action, cycleDelayMs: this.#cycleDelayMs, repeat: this.#repeat, exact: this.#exact });
    const result = await this.#run(args, deadline, options.signal);
    if (result.exitCode !== 0) await this.#failure(args, result, deadline, options.signal);
    const output = this.#parse(args, result);
    this.#portReports(args, output.blocks.filter((b) => b.phase === 'current'));
    this.#verify(action, args, output, result);
  }

  /** The port line of every block, or LAB_POWER_NO_PORT naming the hub's ports. */
  #portReports(args: readonly string[], blocks: readonly UhubctlHubStatus[]): UhubctlPortReport[] {
    if (blocks.length === 0) {
      throw new PowerControlError(POWER_ERROR.unreadableOutput, `${this.#what(args)} printed no hub status: cannot tell what happened to the port. Run it by hand and check \`uhubctl -v\` (2.3.0 or later)`, this.#data());
    }
    const reports: UhubctlPortReport[] = [];
    for (const b of blocks) {
      const line = b.ports.find((p) => p.port === this.port);
      if (line === undefined) {
        const count = b.hub.portCount ?? b.ports.length;
        throw new PowerControlError(
          POWER_ERROR.noPort,
          `${this.#what(args)} failed: hub ${b.location} (${b.hub.text}) has ${count} port${count === 1 ? '' : 's'}, so port ${this.port} does not exist. Set hotplug.port to the port the device is plugged into (run \`uhubctl -l ${b.location}\` and look for its VID:PID)`,
          { ...this.#data(), portCount: count },
        );
      }
      reports.push({ location: b.location, hub: b.hub, port: line });
    }
    return reports;
  }

  /** off → every `new` block after an off request shows no power; on → power; cycle → both, in order. */
  #verify(action: UhubctlAction, args: readonly string[], output: UhubctlOutput, result: CommandResult): void {
    const wanted: ('off' | 'on')[] = action === 'cycle' ? ['off', 'on'] : [action];
    for (const power of wanted) {
      const after = output.blocks.filter((b) => b.phase === 'new' && b.after === power);
      if (after.length === 0) {
        throw new PowerControlError(
          POWER_ERROR.unreadableOutput,
          `${this.#what(args)} printed no "New status" after a power ${power} request: cannot verify the port. uhubctl printed: ${tail(result.stdout + result.stderr)}`,
          this.#data(),
        );
      }
      for (const { location, hub, port } of this.#portReports(args, after)) {
        if (port.powered === (power === 'on')) continue;
        const permission = /Permission denied|Operation not permitted|Failed to control port power/i.test(result.stderr);
        throw new PowerControlError(
          permission ? POWER_ERROR.permission : POWER_ERROR.verifyFailed,
          `${this.#what(args)} did not switch the port ${power}: after the request, hub ${location} reports "${port.line}"` +
            (permission
              ? `, and uhubctl said: ${tail(result.stderr)}. Give uhubctl access to the hub:\n${UHUBCTL_PERMISSION_FIX}`
              : `. The hub (${hub.text}) ignored the request: it may claim per-port power switching without implementing it. Use a hub from uhubctl's list of compatible hubs (docs/bench-hardware.md)` +
                (action === 'off' ? ', or try hotplug.repeat (e.g. 10) if the kernel powers the port back on' : '')),
          { ...this.#data(), location, status: port.status },
        );
      }
    }
  }

  /** Turns a failed uhubctl run into the error that says what is wrong with the bench. Never returns. */
  async #failure(args: readonly string[], result: CommandResult, deadline: Deadline, signal: AbortSignal | undefined): Promise<never> {
    const text = `${result.stdout}\n${result.stderr}`;
    if (/permission problems|LIBUSB_ERROR_ACCESS/i.test(text)) {
      throw new PowerControlError(POWER_ERROR.permission, `${this.#what(args)} failed: uhubctl may not open the hubs (${tail(result.stderr, 200)}). Give it access:\n${UHUBCTL_PERMISSION_FIX}`, this.#data());
    }
    if (/No compatible devices detected/i.test(text)) {
      throw await this.#diagnoseMissingHub(args, deadline, signal);
    }
    throw new PowerControlError(
      POWER_ERROR.commandFailed,
      `${this.#what(args)} failed with ${result.exitCode === null ? `signal ${result.signal}` : `exit code ${result.exitCode}`}: ${tail(text) || '(no output)'}. Run it by hand to see why`,
      { ...this.#data(), exitCode: result.exitCode },
    );
  }

  /** uhubctl found no switchable hub at the location: list every hub (`-f`) to say why. */
  async #diagnoseMissingHub(args: readonly string[], deadline: Deadline, signal: AbortSignal | undefined): Promise<PowerControlError> {
    const listArgs = ['-f'];
    let hubs: UhubctlHubStatus[] = [];
    try {
      const listing = await this.#run(listArgs, deadline, signal);
      hubs = listing.exitCode === 0 ? hubsOf(parseUhubctlOutput(listing.stdout)) : [];
    } catch (err) {
      if (!(err instanceof PowerControlError && err.code === POWER_ERROR.unreadableOutput)) throw err;
    }
    const here = hubs.find((h) => h.location === this.hub);
    const switchable = hubs.filter((h) => h.hub.powerSwitching === 'ppps' || h.hub.powerSwitching === undefined);
    const others =
      switchable.length === 0
        ? 'uhubctl sees no hub with per-port power switching on this host'
        : `hubs with per-port power switching here: ${switchable.map((h) => `${h.location} (${h.hub.text})`).join('; ')}`;
    if (here !== undefined) {
      const mode = here.hub.powerSwitching === 'ganged' ? 'switches the power of all its ports together (ganged)' : 'has no power switching';
      return new PowerControlError(
        POWER_ERROR.notSwitchable,
        `${this.#what(args)} failed: hub ${this.hub} (${here.hub.text}) ${mode}, so one port cannot be turned off. Plug the device into a hub with per-port power switching (${others}) and update hotplug.hub/port, or use hotplug.kind "exec" (a relay or PDU) or "port-reset"`,
        { ...this.#data(), powerSwitching: here.hub.powerSwitching },
      );
    }
    return new PowerControlError(
      POWER_ERROR.noHub,
      `${this.#what(args)} failed: there is no hub at location ${this.hub} (${others}). Run \`uhubctl\` (and \`lsusb -t\`) with the device plugged in, and set hotplug.hub to the location of the hub it hangs off`,
      this.#data(),
    );
  }

  #parse(args: readonly string[], result: CommandResult): UhubctlOutput {
    try {
      return parseUhubctlOutput(result.stdout);
    } catch (err) {
      if (err instanceof PowerControlError) throw new PowerControlError(POWER_ERROR.unreadableOutput, `${this.#what(args)}: ${err.message}`, this.#data(), { cause: err });
      throw err;
    }
  }

  async #run(args: readonly string[], deadline: Deadline, signal: AbortSignal | undefined): Promise<CommandResult> {
    const [file, ...prefix] = this.#command;
    const timeoutMs = deadline.next(this.#what(args));
    try {
      return await this.#runner.run(file, [...prefix, ...args], { timeoutMs, signal });
    } catch (err) {
      if (err instanceof CommandError && err.code === COMMAND_ERROR.notFound) {
        throw new PowerControlError(POWER_ERROR.toolMissing, `${this.#what(args)} failed: '${err.file}' is not installed or not on PATH. ${uhubctlInstallFix(this.#platform)}`, this.#data(), { cause: err });
      }
      if (err instanceof CommandError && err.code === COMMAND_ERROR.notPermitted) {
        throw new PowerControlError(POWER_ERROR.permission, `${this.#what(args)} failed: '${err.file}' may not be executed by this user. Check its file mode (ls -l "$(command -v ${err.file})")`, this.#data(), { cause: err });
      }
      throw err;
    }
  }

  #what(args: readonly string[]): string {
    const [file, ...prefix] = this.#command;
    return formatCommand(file, [...prefix, ...args]);
  }

  #data(): { hub: string; port: number } {
    return { hub: this.hub, port: this.port };
  }
}
