/**
 * Test support for the integration tests of this folder: the real device-side service
 * ({@link UsbFnService}) over the whole simulation (CM model, GenericUSBFn model, UFX, virtual bus) and
 * the real host agent over `SimUsbHost`, plus a recording `UsbFnPort` that notes every Win32-surface
 * call in order so a test can assert the lifecycle's call order (DESIGN.md §4).
 *
 * Not a test file and not part of the simulator's public API.
 */
import { type SetupPacket } from '../../core/index.js';
import { ioctlName } from '../../device-side/abi/index.js';
import type { FunctionContext, SetupReply, UsbFunction } from '../../device-side/service/function-api.js';
import { UsbFnService } from '../../device-side/service/usbfn-service.js';
import type {
  CmNotifyListener,
  CmRegistration,
  InterfaceListQuery,
  IoctlOptions,
  UsbFnFile,
  UsbFnPort,
} from '../../device-side/usbfn-port.js';
import { HostAgent } from '../../host-side/agent/host-agent.js';
import type { UsbDeviceHandle } from '../../host-side/usb-host.js';
import { createSimulation, type Simulation, type SimulationOptions } from '../simulation.js';
import type { DriverLogEntry, IoctlLogEntry } from '../usbfn/driver-log.js';
import { SimUsbFnFile, type SimUsbFnPort } from '../usbfn/sim-usbfn-port.js';

/** A handle that records each DeviceIoControl by IOCTL name before passing it on. */
class RecordingFile implements UsbFnFile {
  constructor(
    readonly inner: SimUsbFnFile,
    readonly calls: string[],
  ) {}

  get symbolicLink(): string {
    return this.inner.symbolicLink;
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  ioctl(code: number, input: Uint8Array | null, output: Uint8Array | null, options?: IoctlOptions): Promise<number> {
    this.calls.push(ioctlName(code).replace('IOCTL_GENERICUSBFN_', ''));
    return this.inner.ioctl(code, input, output, options);
  }

  close(): Promise<void> {
    this.calls.push('CloseHandle');
    return this.inner.close();
  }
}

/**
 * A `UsbFnPort` that delegates to the simulation's `SimUsbFnPort` and records the order of calls:
 * `CM_Register_Notification(DEVICEINTERFACE)`, `CM_Get_Device_Interface_List_SizeW`, `CreateFileW`,
 * IOCTL names without their prefix (`GET_CLASS_INFO`), `CloseHandle`, `CM_Unregister_Notification(<id>)`.
 */
export class RecordingUsbFnPort implements UsbFnPort {
  readonly calls: string[] = [];
  /** Runs right after the DEVICEINTERFACE registration exists, before `watchInterfaces` returns. */
  afterWatchInterfaces: (() => void) | undefined;

  constructor(readonly inner: SimUsbFnPort) {}

  get clock(): SimUsbFnPort['clock'] {
    return this.inner.clock;
  }

  getInterfaceListSize(query: InterfaceListQuery): Promise<number> {
    this.calls.push('CM_Get_Device_Interface_List_SizeW');
    return this.inner.getInterfaceListSize(query);
  }

  getInterfaceList(query: InterfaceListQuery, bufferChars: number): Promise<Uint8Array> {
    this.calls.push('CM_Get_Device_Interface_ListW');
    return this.inner.getInterfaceList(query, bufferChars);
  }

  async watchInterfaces(guid: string, listener: CmNotifyListener): Promise<CmRegistration> {
    const reg = await this.inner.watchInterfaces(guid, listener);
    this.calls.push('CM_Register_Notification(DEVICEINTERFACE)');
    this.afterWatchInterfaces?.();
    return this.#recordUnregister(reg);
  }

  async watchHandle(file: UsbFnFile, listener: CmNotifyListener): Promise<CmRegistration> {
    const inner = file instanceof RecordingFile ? file.inner : file;
    const reg = await this.inner.watchHandle(inner, listener);
    this.calls.push('CM_Register_Notification(DEVICEHANDLE)');
    return this.#recordUnregister(reg);
  }

  async watchInstance(deviceInstanceId: string, listener: CmNotifyListener): Promise<CmRegistration> {
    return this.#recordUnregister(await this.inner.watchInstance(deviceInstanceId, listener));
  }

  async open(symbolicLink: string): Promise<UsbFnFile> {
    this.calls.push('CreateFileW');
    return new RecordingFile(await this.inner.open(symbolicLink), this.calls);
  }

  #recordUnregister(reg: CmRegistration): CmRegistration {
    return {
      id: reg.id,
      unregister: () => {
        this.calls.push(`CM_Unregister_Notification(${reg.id})`);
        return reg.unregister();
      },
    };
  }
}

/** The simulated handle behind the service's open handle (for CM-level tricks such as a second registration). */
export function simFileOf(service: UsbFnService): SimUsbFnFile {
  const file = service.client?.file;
  const inner = file instanceof RecordingFile ? file.inner : file;
  if (!(inner instanceof SimUsbFnFile)) throw new Error('the service has no open simulated handle');
  return inner;
}

/** One simulated device + its host PC with the real service and a function on top. */
export class ServiceWorld<F extends UsbFunction = UsbFunction> implements AsyncDisposable {
  readonly sim: Simulation;
  readonly port: RecordingUsbFnPort;
  readonly service: UsbFnService;
  readonly fn: F;
  #handle: UsbDeviceHandle | undefined;

  constructor(fn: F, options: SimulationOptions & { stepTimeoutMs?: number; busEventDepth?: number; rescanIntervalMs?: number } = {}) {
    this.sim = createSimulation(options);
    this.port = new RecordingUsbFnPort(this.sim.port);
    this.fn = fn;
    this.service = new UsbFnService({
      port: this.port,
      interfaceClassGuid: this.sim.function().interfaceGuid,
      fn,
      stepTimeoutMs: options.stepTimeoutMs,
      busEventDepth: options.busEventDepth,
      rescanIntervalMs: options.rescanIntervalMs,
    });
  }

  get clock(): Simulation['clock'] {
    return this.sim.clock;
  }

  get driver(): Simulation['functions'][number]['driver'] {
    return this.sim.function().driver;
  }

  get instanceId(): string {
    return this.sim.function().instanceId;
  }

  /** Kinds of the service's event log, in order. */
  kinds(): string[] {
    return this.service.log.entries.map((e) => e.kind);
  }

  /** The driver's IOCTL log entries completed at or after `sinceMs` (optionally one IOCTL, short name). */
  ioctls(sinceMs = 0, name?: string): IoctlLogEntry[] {
    return this.driver.log
      .entries()
      .filter((e: DriverLogEntry): e is IoctlLogEntry => e.kind === 'ioctl' && e.timeMs >= sinceMs)
      .filter((e) => name === undefined || e.ioctl === `IOCTL_GENERICUSBFN_${name}`);
  }

  /** Starts the service and waits until the host has configured the device. */
  async startConfigured(timeoutMs = 5_000): Promise<void> {
    await this.service.start();
    await this.service.whenConfigured({ timeoutMs });
  }

  /** Opens the device on the simulated host, claims the function's interface, and returns a host agent. */
  async connectHost(timeoutMs = 5_000): Promise<{ handle: UsbDeviceHandle; agent: HostAgent }> {
    const info = await this.sim.host.waitForDevice({ vendorId: 0x1209 }, { timeoutMs });
    const handle = await this.sim.host.open(info, { timeoutMs });
    this.#handle = handle;
    const fn = this.sim.function();
    await handle.claimInterface(fn.interfaceNumber);
    await this.service.whenConfigured({ timeoutMs });
    const agent = new HostAgent({
      handle,
      interfaceNumber: fn.interfaceNumber,
      clock: this.sim.clock,
      maxPacketSize: info.speed === 'full' ? 64 : info.speed === 'super' ? 1024 : 512,
      timeoutMs: 1_000,
    });
    return { handle, agent };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.#handle?.close().catch(() => undefined); // the device may be gone already
      await this.service.stop();
    } finally {
      await this.sim.dispose();
    }
  }
}

/** What {@link probeFunction} saw, in order (`configured:1`, `deconfigured:reset`, `setup:0x10`, ...). */
export interface ProbeFunction extends UsbFunction {
  readonly events: string[];
  /** The context of the current configuration, if any. */
  ctx: FunctionContext | undefined;
  /** Every context handed out, oldest first. */
  readonly contexts: FunctionContext[];
  /** The last OUT data stage received by request 0x11. */
  lastOut: Uint8Array | undefined;
  /** What onQueryRemove answers. */
  queryRemoveVerdict: 'allow' | 'veto';
  readonly customEvents: { eventGuid: string; data: Uint8Array; nameOffset: number }[];
}

/** Requests the probe answers: 0x10 IN (3 bytes), 0x11 OUT (data kept), 0x12 no data, 0x13 OUT stalled after the data stage. */
export const PROBE_REQUEST = { IN: 0x10, OUT: 0x11, NO_DATA: 0x12, OUT_THEN_STALL: 0x13 } as const;

/** A small function that records every callback the service makes (bulk OUT 0x01 / bulk IN 0x81, no queues). */
export function probeFunction(): ProbeFunction {
  const probe: ProbeFunction = {
    name: 'probe',
    events: [],
    ctx: undefined,
    contexts: [],
    lastOut: undefined,
    queryRemoveVerdict: 'allow',
    customEvents: [],
    pipes: { out: { direction: 'out' }, in: { direction: 'in' } },
    onSetup(setup: SetupPacket): SetupReply {
      probe.events.push(`setup:0x${setup.bRequest.toString(16)}`);
      switch (setup.bRequest) {
        case PROBE_REQUEST.IN:
          return { stage: 'in', data: Uint8Array.of(0xc0, 0xff, 0xee) };
        case PROBE_REQUEST.OUT:
          return {
            stage: 'out',
            onData: (d) => {
              probe.lastOut = d.slice();
            },
          };
        case PROBE_REQUEST.NO_DATA:
          return { stage: 'none' };
        case PROBE_REQUEST.OUT_THEN_STALL:
          return { stage: 'out', onData: () => 'stall' };
        default:
          return { stage: 'stall' };
      }
    },
    onConfigured(ctx, value) {
      probe.ctx = ctx;
      probe.contexts.push(ctx);
      probe.events.push(`configured:${value}:${ctx.speed}`);
    },
    onDeconfigured(reason) {
      probe.ctx = undefined;
      probe.events.push(`deconfigured:${reason}`);
    },
    onSuspend() {
      probe.events.push('suspend');
    },
    onResume() {
      probe.events.push('resume');
    },
    onSetInterface(n, alt) {
      probe.events.push(`setInterface:${n}/${alt}`);
    },
    onQueryRemove() {
      probe.events.push(`queryRemove:${probe.queryRemoveVerdict}`);
      return probe.queryRemoveVerdict;
    },
    onCustomEvent(eventGuid, data, nameOffset) {
      probe.events.push('customEvent');
      probe.customEvents.push({ eventGuid, data: data.slice(), nameOffset });
    },
  };
  return probe;
}

/** Resolves once `predicate` holds, checking after each virtual-clock turn; rejects after `timeoutMs` virtual ms. */
export async function until(sim: Simulation, predicate: () => boolean, what: string, timeoutMs = 1_000): Promise<void> {
  const deadline = sim.clock.now() + timeoutMs;
  while (!predicate()) {
    if (sim.clock.now() > deadline) throw new Error(`timed out after ${timeoutMs} virtual ms waiting for ${what}`);
    await new Promise<void>((resolve) => sim.clock.setTimer(1, resolve));
  }
}
