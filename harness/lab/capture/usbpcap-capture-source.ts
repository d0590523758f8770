/**
 * Host capture on a Windows host PC: USBPcap (https://desowin.org/usbpcap/), where installed
 * (`%ProgramFiles%\USBPcap\USBPcapCMD.exe`), capturing every device of one root hub:
 * `USBPcapCMD.exe -d \\.\USBPcapN -o <file> -A`. The file is classic pcap of LINKTYPE_USBPCAP (249).
 *
 * USBPcapCMD must run elevated: started without elevation it re-launches itself through UAC ("runas"),
 * whose prompt nobody on a bench answers, so start() checks the harness's own integrity level first
 * (`whoami /groups`: Mandatory Label\High or System) and reports `unavailable` otherwise.
 *
 * ASSUMPTION: USBPcap's control device N is the root hub libusb numbers as bus N. Neither tool documents
 * its numbering; give `interfaceName` when it differs (`USBPcapCMD.exe --extcap-interfaces` lists them,
 * `USBPcapCMD.exe --extcap-config --extcap-interface \\.\USBPcapN` the devices on each).
 * ASSUMPTION: USBPcapCMD has no stop request except `q` typed on a console, so stop() terminates it; the
 * buffers it already wrote are in the file, and a record cut by the termination is dropped.
 * @see docs/bench-hardware.md
 */
import { win32 } from 'node:path';
import { AbortedError, RealClock, UsageError, type Clock } from '../../../core/index.js';
import { ExecFileCommandRunner, tail, type CommandRunner } from '../power/index.js';
import { nodeCaptureFileSystem, type CaptureFileSystem } from './capture-file-system.js';
import { stopCaptureProcess, waitUntilCapturing, type CaptureToolOptions } from './capture-process.js';
import type { CaptureOptions, HostCaptureResult, HostCaptureSource } from './host-capture-source.js';
import { LINKTYPE_USBPCAP } from './pcap-file.js';
import { NodeProcessSpawner, type ProcessSpawner, type SpawnedProcess } from './process-spawner.js';
import { readCaptureFile, type CaptureWindow } from './read-capture-file.js';

/** Integrity-level SIDs of an elevated process (Mandatory Label\High, \System). */
const ELEVATED_SIDS = ['S-1-16-12288', 'S-1-16-16384'] as const;

/** Where the USBPcap installer puts USBPcapCMD.exe, given the environment. */
export function usbpcapCandidates(env: NodeJS.ProcessEnv): string[] {
  const roots = [env['ProgramFiles'], env['ProgramW6432'], env['ProgramFiles(x86)'], 'C:\\Program Files'].filter((r): r is string => typeof r === 'string' && r !== '');
  return [...new Set(roots.map((r) => win32.join(r, 'USBPcap', 'USBPcapCMD.exe')))];
}

export interface UsbpcapCaptureSourceOptions extends CaptureToolOptions {
  /** The device's bus (`UsbDeviceInfo.busNumber`): the root hub to capture. */
  readonly busNumber: number;
  /** The USBPcap control device, e.g. `\\.\USBPcap2`. Default `\\.\USBPcap<busNumber>` (an ASSUMPTION). */
  readonly interfaceName?: string | undefined;
  /** Path of USBPcapCMD.exe. Default: the first of {@link usbpcapCandidates} that exists. */
  readonly usbpcapCmdPath?: string | undefined;
  /** Runs `whoami /groups` (the elevation check). */
  readonly runner?: CommandRunner | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
}

const TOOL = 'USBPcapCMD';

type State =
  | { readonly kind: 'idle' }
  | { readonly kind: 'unavailable'; readonly reason: string }
  | { readonly kind: 'running'; readonly process: SpawnedProcess; readonly dir: string; readonly file: string; readonly startMs: number };

/** USBPcap capture of one root hub around a scenario. */
export class UsbpcapCaptureSource implements HostCaptureSource {
  readonly kind = 'usbpcap';
  readonly busNumber: number;
  readonly interfaceName: string;
  readonly #cmdPath: string | undefined;
  readonly #trim: boolean;
  readonly #startTimeoutMs: number;
  readonly #stopTimeoutMs: number;
  readonly #killWaitMs: number;
  readonly #spawner: ProcessSpawner;
  readonly #runner: CommandRunner;
  readonly #fs: CaptureFileSystem;
  readonly #clock: Clock;
  readonly #wallClockMs: () => number;
  readonly #env: NodeJS.ProcessEnv;
  readonly #platform: string;
  #state: State = { kind: 'idle' };
  #window: CaptureWindow | undefined;

  /** @throws UsageError INVALID_ARGUMENT for a bus number that is not 1..255 or a malformed interface name. */
  constructor(options: UsbpcapCaptureSourceOptions) {
    if (!Number.isInteger(options.busNumber) || options.busNumber < 1 || options.busNumber > 255) {
      throw new UsageError('INVALID_ARGUMENT', `busNumber ${options.busNumber} is not a USB bus: give the device's busNumber (1..255)`, { busNumber: options.busNumber });
    }
    const name = options.interfaceName ?? `\\\\.\\USBPcap${options.busNumber}`;
    if (!/^\\\\\.\\USBPcap\d+$/.test(name)) {
      throw new UsageError('INVALID_ARGUMENT', `interfaceName ${JSON.stringify(name)} is not a USBPcap control device: give e.g. "\\\\.\\USBPcap1" (USBPcapCMD.exe --extcap-interfaces lists them)`, { interfaceName: name });
    }
    this.busNumber = options.busNumber;
    this.interfaceName = name;
    this.#cmdPath = options.usbpcapCmdPath;
    this.#trim = options.trimToWindow ?? false;
    this.#startTimeoutMs = options.startTimeoutMs ?? 5_000;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
    this.#killWaitMs = options.killWaitMs ?? 2_000;
    this.#spawner = options.spawner ?? new NodeProcessSpawner();
    this.#runner = options.runner ?? new ExecFileCommandRunner();
    this.#fs = options.fileSystem ?? nodeCaptureFileSystem;
    this.#clock = options.clock ?? new RealClock();
    this.#wallClockMs = options.wallClockMs ?? Date.now;
    this.#env = options.env ?? process.env;
    this.#platform = options.platform ?? process.platform;
  }

  get window(): CaptureWindow | undefined {
    return this.#window;
  }

  /** The arguments of USBPcapCMD for an output file: every device of the root hub (`-A`). */
  commandFor(file: string): string[] {
    return ['-d', this.interfaceName, '-o', file, '-A'];
  }

  /** The installed USBPcapCMD.exe, or undefined. */
  async findUsbpcapCmd(): Promise<string | undefined> {
    const candidates = this.#cmdPath !== undefined ? [this.#cmdPath] : usbpcapCandidates(this.#env);
    for (const c of candidates) if ((await this.#fs.access(c, 'exists')) === 'ok') return c;
    return undefined;
  }

  async start(options: CaptureOptions = {}): Promise<void> {
    if (this.#state.kind === 'running') throw new UsageError('INVALID_STATE', `the ${this.interfaceName} capture is already running: stop() it before starting again`);
    if (options.signal?.aborted) throw new AbortedError(`starting the ${this.interfaceName} capture`, options.signal.reason);
    this.#window = undefined;
    const why = await this.#blocker(options);
    if (typeof why === 'string') {
      this.#state = { kind: 'unavailable', reason: `no host capture of bus ${this.busNumber}: ${why}` };
      return;
    }
    const dir = await this.#fs.makeTempDir('usbfn-hil-capture-');
    // USBPcapCMD creates its file with CREATE_NEW: the path must not exist yet.
    const file = win32.join(dir, `usbpcap${this.busNumber}.pcap`);
    const process = this.#spawner.spawn(why.cmd, this.commandFor(file));
    const timeoutMs = options.timeoutMs ?? this.#startTimeoutMs;
    const outcome = await waitUntilCapturing(process, { file }, { clock: this.#clock, fileSystem: this.#fs }, { timeoutMs, signal: options.signal });
    if (outcome.status === 'running') {
      this.#state = { kind: 'running', process, dir, file, startMs: this.#wallClockMs() };
      return;
    }
    await stopCaptureProcess(process, { clock: this.#clock }, { signal: 'SIGTERM', graceMs: 0, killWaitMs: this.#killWaitMs });
    await this.#fs.remove(dir);
    if (outcome.status === 'aborted') throw new AbortedError(`starting the ${this.interfaceName} capture`, outcome.reason);
    const said = tail(process.output()) || 'nothing';
    this.#state = {
      kind: 'unavailable',
      reason:
        outcome.status === 'timeout'
          ? `no host capture of bus ${this.busNumber}: ${TOOL} did not create its file within ${timeoutMs} ms (it printed: ${said})`
          : `no host capture of bus ${this.busNumber}: ${TOOL} ${outcome.exit.spawnError !== undefined ? `could not be started (${outcome.exit.spawnError})` : `exited with code ${outcome.exit.exitCode}`} (it printed: ${said}). Check the control device (${TOOL}.exe --extcap-interfaces) and that USBPcap's driver is installed (reboot after installing)`,
    };
  }

  async stop(options: CaptureOptions = {}): Promise<HostCaptureResult> {
    const state = this.#state;
    this.#state = { kind: 'idle' };
    if (state.kind === 'idle') return { unavailable: `the ${this.interfaceName} capture was not started: call start() before the scenario` };
    if (state.kind === 'unavailable') return { unavailable: state.reason };
    this.#window = { startMs: state.startMs, stopMs: this.#wallClockMs() };
    try {
      // An exit that already happened wins the race (settled promises resolve in array order).
      const early = await Promise.race([state.process.exited, Promise.resolve(undefined)]);
      if (early !== undefined) {
        return { unavailable: `${TOOL} ended on its own during the scenario (exit code ${early.exitCode}; it printed: ${tail(state.process.output()) || 'nothing'})` };
      }
      // Termination is the normal stop here (see the ASSUMPTION above).
      const stopped = await stopCaptureProcess(state.process, { clock: this.#clock }, { signal: 'SIGTERM', graceMs: options.timeoutMs ?? this.#stopTimeoutMs, killWaitMs: this.#killWaitMs, abort: options.signal });
      if (stopped.exit === undefined) return { unavailable: `${TOOL} (pid ${state.process.pid ?? '?'}) did not exit when terminated: the capture cannot be trusted` };
      return await readCaptureFile(this.#fs, state.file, { tool: TOOL, linkTypes: [LINKTYPE_USBPCAP], allowTruncatedTail: true, window: this.#trim ? this.#window : undefined });
    } finally {
      await this.#fs.remove(state.dir);
    }
  }

  /** Why USBPcap cannot capture here, or the path of USBPcapCMD.exe. */
  async #blocker(options: CaptureOptions): Promise<string | { cmd: string }> {
    if (this.#platform !== 'win32') return `USBPcap exists on Windows only (this host is ${this.#platform})`;
    const cmd = await this.findUsbpcapCmd();
    if (cmd === undefined) {
      const looked = this.#cmdPath !== undefined ? [this.#cmdPath] : usbpcapCandidates(this.#env);
      return `USBPcap is not installed (no ${looked.join(' or ')}). Fix: install it from https://desowin.org/usbpcap/ (Wireshark's installer offers it too) and reboot, or give the path of USBPcapCMD.exe`;
    }
    let groups;
    try {
      groups = await this.#runner.run('whoami', ['/groups'], { timeoutMs: options.timeoutMs ?? this.#startTimeoutMs, signal: options.signal });
    } catch (err) {
      if (err instanceof AbortedError) throw err;
      return `cannot tell whether this process is elevated (whoami /groups failed: ${(err as Error).message}); ${TOOL} needs an elevated process`;
    }
    if (groups.exitCode !== 0) return `cannot tell whether this process is elevated (whoami /groups exited with code ${groups.exitCode}); ${TOOL} needs an elevated process`;
    if (!ELEVATED_SIDS.some((sid) => groups.stdout.includes(sid))) {
      return `${TOOL} needs an elevated process, and this one is not (without it ${TOOL} asks for UAC consent in a window nobody answers). Fix: run the harness from an administrator shell, or as a CI runner service with administrator rights`;
    }
    return { cmd };
  }
}
