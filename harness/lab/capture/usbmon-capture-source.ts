/**
 * Host capture on a Linux host PC: usbmon of the device's bus through dumpcap (`dumpcap -i usbmonN -P -q -w
 * <file>`), or tshark (`tshark -i usbmonN -F pcap -q -w <file>`) where dumpcap is not on PATH. The file is
 * classic pcap of LINKTYPE_USB_LINUX_MMAPPED (220), the format the simulator writes too.
 *
 * start() checks `/dev/usbmonN` first (loaded, readable) so the reason of a missing capture is precise, then
 * starts the tool and waits (bounded) until it reports its output file, which it does only once the
 * interface is open. stop() sends SIGTERM (dumpcap then flushes and closes the file), waits (bounded),
 * kills if needed, reaps, reads the file and removes its temporary directory.
 * @see docs/bench-hardware.md
 */
import { AbortedError, RealClock, UsageError, type Clock } from '../../../core/index.js';
import { tail } from '../power/index.js';
import { nodeCaptureFileSystem, type CaptureFileSystem } from './capture-file-system.js';
import { stopCaptureProcess, waitUntilCapturing, type CaptureToolOptions } from './capture-process.js';
import type { CaptureOptions, HostCaptureResult, HostCaptureSource } from './host-capture-source.js';
import { LINKTYPE_USB_LINUX, LINKTYPE_USB_LINUX_MMAPPED } from './pcap-file.js';
import { NodeProcessSpawner, type ProcessSpawner, type SpawnedProcess } from './process-spawner.js';
import { readCaptureFile, type CaptureWindow } from './read-capture-file.js';
import { checkUsbmon, USBMON_LOAD_FIX, USBMON_PERMISSION_FIX } from './usbmon-check.js';

export type UsbmonTool = 'dumpcap' | 'tshark';

export interface UsbmonCaptureSourceOptions extends CaptureToolOptions {
  /** The device's bus (`UsbDeviceInfo.busNumber`): the capture is `usbmon<busNumber>`. */
  readonly busNumber: number;
  /** Which tool; default: dumpcap, then tshark when dumpcap is not installed. */
  readonly tool?: UsbmonTool | 'auto' | undefined;
}


type State =
  | { readonly kind: 'idle' }
  | { readonly kind: 'unavailable'; readonly reason: string }
  | { readonly kind: 'running'; readonly tool: UsbmonTool; readonly process: SpawnedProcess; readonly dir: string; readonly file: string; readonly startMs: number };

/** usbmon capture of one bus around a scenario. */
export class UsbmonCaptureSource implements HostCaptureSource {
  readonly kind = 'usbmon';
  readonly busNumber: number;
  /** The capture interface, `usbmon<busNumber>`. */
  readonly interfaceName: string;
  readonly #tools: readonly UsbmonTool[];
  readonly #trim: boolean;
  readonly #startTimeoutMs: number;
  readonly #stopTimeoutMs: number;
  readonly #killWaitMs: number;
  readonly #spawner: ProcessSpawner;
  readonly #fs: CaptureFileSystem;
  readonly #clock: Clock;
  readonly #wallClockMs: () => number;
  readonly #platform: string;
  #state: State = { kind: 'idle' };
  #window: CaptureWindow | undefined;

  /** @throws UsageError INVALID_ARGUMENT for a bus number that is not 1..255. */
  constructor(options: UsbmonCaptureSourceOptions) {
    if (!Number.isInteger(options.busNumber) || options.busNumber < 1 || options.busNumber > 255) {
      throw new UsageError('INVALID_ARGUMENT', `busNumber ${options.busNumber} is not a USB bus: give the device's busNumber (1..255)`, { busNumber: options.busNumber });
    }
    this.busNumber = options.busNumber;
    this.interfaceName = `usbmon${options.busNumber}`;
    const tool = options.tool ?? 'auto';
    this.#tools = tool === 'auto' ? ['dumpcap', 'tshark'] : [tool];
    this.#trim = options.trimToWindow ?? false;
    this.#startTimeoutMs = options.startTimeoutMs ?? 5_000;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
    this.#killWaitMs = options.killWaitMs ?? 2_000;
    this.#spawner = options.spawner ?? new NodeProcessSpawner();
    this.#fs = options.fileSystem ?? nodeCaptureFileSystem;
    this.#clock = options.clock ?? new RealClock();
    this.#wallClockMs = options.wallClockMs ?? Date.now;
    this.#platform = options.platform ?? process.platform;
  }

  /** Host wall-clock times of the last start() and stop(), in ms since the epoch. */
  get window(): CaptureWindow | undefined {
    return this.#window;
  }

  /** The command line for a tool (argument array). */
  commandFor(tool: UsbmonTool, file: string): string[] {
    return tool === 'dumpcap' ? ['-i', this.interfaceName, '-P', '-q', '-w', file] : ['-i', this.interfaceName, '-F', 'pcap', '-q', '-w', file];
  }

  async start(options: CaptureOptions = {}): Promise<void> {
    if (this.#state.kind === 'running') throw new UsageError('INVALID_STATE', `the ${this.interfaceName} capture is already running: stop() it before starting again`);
    if (options.signal?.aborted) throw new AbortedError(`starting the ${this.interfaceName} capture`, options.signal.reason);
    this.#window = undefined;
    const check = await checkUsbmon(this.#fs, this.busNumber, this.#platform);
    if (!check.ok) {
      this.#state = { kind: 'unavailable', reason: `no host capture of bus ${this.busNumber}: ${check.reason}` };
      return;
    }
    const dir = await this.#fs.makeTempDir('usbfn-hil-capture-');
    const file = `${dir}/${this.interfaceName}.pcap`;
    const missing: string[] = [];
    for (const tool of this.#tools) {
      const process = this.#spawner.spawn(tool, this.commandFor(tool, file));
      const outcome = await waitUntilCapturing(
        process,
        // dumpcap prints "File: <path>", tshark "-- File: "<path>"", after the interface opened.
        { outputPattern: /\bFile: / },
        { clock: this.#clock, fileSystem: this.#fs },
        { timeoutMs: options.timeoutMs ?? this.#startTimeoutMs, signal: options.signal },
      );
      if (outcome.status === 'running') {
        this.#state = { kind: 'running', tool, process, dir, file, startMs: this.#wallClockMs() };
        return;
      }
      if (outcome.status === 'exited' && outcome.exit.spawnError === 'ENOENT') {
        missing.push(tool);
        continue;
      }
      // Not capturing: make sure the process is gone before saying why.
      await stopCaptureProcess(process, { clock: this.#clock }, { signal: 'SIGTERM', graceMs: 0, killWaitMs: this.#killWaitMs });
      await this.#fs.remove(dir);
      if (outcome.status === 'aborted') throw new AbortedError(`starting the ${this.interfaceName} capture`, outcome.reason);
      this.#state = {
        kind: 'unavailable',
        reason:
          outcome.status === 'timeout'
            ? `no host capture of bus ${this.busNumber}: ${tool} did not start capturing on ${this.interfaceName} within ${options.timeoutMs ?? this.#startTimeoutMs} ms (it printed: ${tail(process.output()) || 'nothing'})`
            : `no host capture of bus ${this.busNumber}: ${this.#explainExit(tool, outcome.exit, process.output())}`,
      };
      return;
    }
    await this.#fs.remove(dir);
    this.#state = {
      kind: 'unavailable',
      reason: `no host capture of bus ${this.busNumber}: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed. Fix: sudo apt install wireshark-common (dumpcap) or tshark, and allow non-root capture (sudo dpkg-reconfigure wireshark-common)`,
    };
  }

  async stop(options: CaptureOptions = {}): Promise<HostCaptureResult> {
    const state = this.#state;
    this.#state = { kind: 'idle' };
    if (state.kind === 'idle') return { unavailable: `the ${this.interfaceName} capture was not started: call start() before the scenario` };
    if (state.kind === 'unavailable') return { unavailable: state.reason };
    const stopMs = this.#wallClockMs();
    this.#window = { startMs: state.startMs, stopMs };
    try {
      // An exit that already happened wins the race (settled promises resolve in array order).
      const early = await Promise.race([state.process.exited, Promise.resolve(undefined)]);
      if (early !== undefined) {
        return { unavailable: `the ${this.interfaceName} capture ended on its own during the scenario: ${this.#explainExit(state.tool, early, state.process.output())}` };
      }
      const stopped = await stopCaptureProcess(
        state.process,
        { clock: this.#clock },
        { signal: 'SIGTERM', graceMs: options.timeoutMs ?? this.#stopTimeoutMs, killWaitMs: this.#killWaitMs, abort: options.signal },
      );
      if (stopped.exit === undefined) {
        return { unavailable: `${state.tool} (pid ${state.process.pid ?? '?'}) did not exit after SIGTERM and SIGKILL: the ${this.interfaceName} capture cannot be trusted` };
      }
      if (stopped.killed) {
        return { unavailable: `${state.tool} did not stop within ${options.timeoutMs ?? this.#stopTimeoutMs} ms of SIGTERM and was killed: the ${this.interfaceName} capture may be cut short` };
      }
      return await readCaptureFile(this.#fs, state.file, {
        tool: state.tool,
        linkTypes: [LINKTYPE_USB_LINUX_MMAPPED, LINKTYPE_USB_LINUX],
        allowTruncatedTail: false,
        window: this.#trim ? this.#window : undefined,
      });
    } finally {
      await this.#fs.remove(state.dir);
    }
  }

  /** Why the tool exited instead of capturing, with the fix. */
  #explainExit(tool: UsbmonTool, exit: { exitCode: number | null; signal: string | null; spawnError?: string | undefined }, output: string): string {
    const said = tail(output);
    if (exit.spawnError !== undefined) return `${tool} could not be started (${exit.spawnError})`;
    if (/permission|not permitted/i.test(output)) return `${tool} may not open ${this.interfaceName}: ${said}. Fix:\n${USBMON_PERMISSION_FIX}`;
    if (/no (such )?device|There is no device named/i.test(output)) return `${tool} finds no ${this.interfaceName}: ${said}. Fix: ${USBMON_LOAD_FIX}`;
    const how = exit.exitCode === null ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
    return `${tool} ${how}: ${said || 'it printed nothing'}`;
  }
}
