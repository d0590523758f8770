/**
 * The device agent's `sim` backend (`usbfn-hil agent serve --backend sim [--usbip <host:port>]`): each
 * session is a fresh simulation of the USB function device on the wall clock (GenericUSBFn.sys, CM and the
 * link), whose port the agent's worker runs the real device-side service over; the session's simulated
 * device is exported over USB/IP so that the harness on the other end (or `usbip attach`) is its host.
 *
 * It lives in the harness layer because device-side may not import the simulator: the agent imports it by
 * module URL into its worker (device-side/agent/agent-backend.ts).
 *
 * Settings: `usbip` — `host:port` to export on (none: no export); `speed` — the default bus speed of a
 * session that names none (default high); `cmLatencyMs` — `{ min, max }` of the seeded CM callback latency
 * (default 0–2 ms, as in sim).
 */
import { UsageError, type UsbDeviceSpeed } from '../../core/index.js';
import { USBFN_HIL_TEST_INTERFACE_GUID, type AgentBackend, type AgentBackendOptions, type AgentBackendSession, type AgentBackendSessionArgs, type CreateAgentBackend } from '../../device-side/index.js';
import { UsbIpServer } from '../../host-side/index.js';
import { createSimulation, loopbackFunctionConfig, type Simulation } from '../../simulator/index.js';
import { SessionUsbHost } from './session-usb-host.js';

const SPEEDS: readonly UsbDeviceSpeed[] = ['full', 'high', 'super'];

/** `host:port` (`[v6]:port`) of the USB/IP export. @throws UsageError INVALID_ARGUMENT */
export function parseUsbipListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || port > 65535) throw new UsageError('INVALID_ARGUMENT', `--usbip '${text}' is not <host>:<port>: use e.g. --usbip 127.0.0.1:3240`);
  return { host: m[1] ?? m[2]!, port };
}

class SimAgentBackend implements AgentBackend {
  readonly name = 'sim' as const;
  readonly #host: SessionUsbHost;
  readonly #server: UsbIpServer | undefined;
  readonly #speed: UsbDeviceSpeed;
  readonly #cmLatencyMs: { min: number; max: number };
  #simulation: Simulation | undefined;

  constructor(server: UsbIpServer | undefined, host: SessionUsbHost, speed: UsbDeviceSpeed, cmLatencyMs: { min: number; max: number }) {
    this.#server = server;
    this.#host = host;
    this.#speed = speed;
    this.#cmLatencyMs = cmLatencyMs;
  }

  async openSession(args: AgentBackendSessionArgs): Promise<AgentBackendSession> {
    await this.#closeSimulation();
    const speed = args.world.speed ?? this.#speed;
    const simulation = createSimulation({
      config: loopbackFunctionConfig(),
      seed: args.seed,
      speed,
      realTime: true,
      cmNotificationLatencyMs: this.#cmLatencyMs,
    });
    this.#simulation = simulation;
    await this.#host.switchTo(simulation.host);
    args.log('simulatedDevice', { speed, seed: args.seed, usbip: this.#server === undefined ? null : `${this.#server.address.host}:${this.#server.address.port}` });
    return {
      port: simulation.port,
      interfaceClassGuid: simulation.function().interfaceGuid,
      close: () => this.#closeSimulation(simulation),
    };
  }

  async #closeSimulation(which?: Simulation): Promise<void> {
    const simulation = this.#simulation;
    if (simulation === undefined || (which !== undefined && which !== simulation)) return;
    this.#simulation = undefined;
    await this.#host.switchTo(undefined);
    await simulation.dispose();
  }

  async probe() {
    // The simulated function is present whenever a session's simulation is powered (sessions power it).
    return { interfaceGuid: USBFN_HIL_TEST_INTERFACE_GUID, present: true, symbolicLink: this.#simulation?.function().symbolicLink ?? null };
  }

  async close(): Promise<void> {
    await this.#closeSimulation();
    await this.#server?.close();
  }
}

export const createAgentBackend: CreateAgentBackend = async (options: AgentBackendOptions): Promise<AgentBackend> => {
  const s = options.settings;
  const speed = (s['speed'] ?? 'high') as UsbDeviceSpeed;
  if (!SPEEDS.includes(speed)) throw new UsageError('INVALID_ARGUMENT', `sim backend speed '${String(s['speed'])}': use full, high or super`);
  const latency = (s['cmLatencyMs'] ?? { min: 0, max: 2 }) as { min: number; max: number };
  const host = new SessionUsbHost();
  let server: UsbIpServer | undefined;
  if (typeof s['usbip'] === 'string') {
    const listen = parseUsbipListen(s['usbip']);
    server = await UsbIpServer.listen({ host, listenHost: listen.host, port: listen.port });
  }
  return new SimAgentBackend(server, host, speed, latency);
};
