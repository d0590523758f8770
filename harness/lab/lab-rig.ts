/**
 * The `lab` rig: a real Windows USB function device reached through its device agent (`AgentClient`), and
 * the host PC's USB through a `UsbHost` (`NodeUsbHost` by default; the lab-sim world passes a USB/IP host).
 *
 * - Each scenario opens one agent session with its world (function, bus event depth, whether the service
 *   starts); the device side is a {@link RemoteDeviceSide}, the clock is real time.
 * - Agent and transport faults are infrastructure faults (`LAB_AGENT_*`, `LAB_BENCH_*`): the scenario is
 *   reported broken, and the bench *latches* broken: later scenarios are skipped with that first cause
 *   instead of failing one by one (see docs/lab-setup.md).
 * - A scenario whose world the bench cannot give (another speed, an unplugged start without power control,
 *   an absent devnode) is skipped with the reason ({@link LabRig.skipReason}).
 * - The host-negotiated speed must equal the bench's configured speed: checked at session start when the
 *   device is already enumerated, and whenever the session opens the function on the host.
 * - The report gets the session's device event log (what the agent holds, or what was streamed if the agent
 *   died), the device trace when `agent.trace` is on, and the host capture when the bench has one.
 */
import { AbortedError, ModeNotSupportedError, RealClock, type Clock, type HarnessError, type UsbDeviceSpeed } from '../../core/index.js';
import type { LeaseInfo } from '../../device-side/index.js';
import type { HostAgent, UsbDeviceHandle, UsbHost } from '../../host-side/index.js';
import type { LabConfig } from './lab-config.js';
import type { DeviceSide, Rig, Session, SessionCapture, WorldOptions } from '../rig.js';
import { AgentClient } from './agent-client.js';
import { AgentLease } from './agent-lease.js';
import type { HostCaptureResult, HostCaptureSource, PowerControl } from './bench-capabilities.js';
import { checkBenchSpeed, deviceFilter, openBenchFunction } from './bench-host.js';
import { Deadline } from './deadline.js';
import { breaksBench, brokenBenchError, brokenBenchReason, MemoryBenchLatch, type BenchLatch } from './bench-latch.js';
import { DEFAULT_DEVICE_WAIT_MS, RemoteDeviceSide, toDeviceLogEntry } from './remote-device-side.js';

export interface LabRigOptions {
  readonly config: LabConfig;
  /** The agent's token (from the environment variable the config names). */
  readonly token: string;
  /** The agent client (default one built from the config). */
  readonly client?: AgentClient | undefined;
  /** Creates the host side once per rig (default `NodeUsbHost.create()`); the rig closes it. */
  readonly host?: (() => Promise<UsbHost>) | undefined;
  /** A lease the run already holds (taken and renewed by the lab run's global setup); default: take one. */
  readonly lease?: LeaseInfo | undefined;
  /** The run's broken latch (default in memory). */
  readonly latch?: BenchLatch | undefined;
  /** Power control of the device's connection, when the bench has one. */
  readonly power?: PowerControl | undefined;
  /** A host capture per session, when the bench has one. */
  readonly capture?: (() => HostCaptureSource) | undefined;
  /** Clock of the host agent and the harness's waits (default real time). */
  readonly clock?: Clock | undefined;
  /**
   * The bench runs each session at the speed its scenario asks for (the lab-sim world's simulated device);
   * a real bench has one speed, `bench.speed`, and scenarios asking for another are skipped.
   */
  readonly speedPerSession?: boolean | undefined;
}

/** What a lab session reports besides the device log. */
interface BenchFacts {
  readonly benchId: string;
  readonly speed: UsbDeviceSpeed;
  readonly agentUrl: string;
  readonly agentVersion: string;
  readonly backend: string;
  /** Agent wall clock minus host wall clock, estimated from the midpoint of the health round trip. */
  readonly clockOffsetMs: number;
}

export class LabRig implements Rig {
  readonly mode = 'lab' as const;
  readonly config: LabConfig;
  readonly client: AgentClient;
  readonly latch: BenchLatch;
  readonly #options: LabRigOptions;
  readonly #clock: Clock;
  readonly #sessions = new Set<LabSession>();
  #ready: Promise<{ host: UsbHost; leaseId: string; facts: BenchFacts }> | undefined;
  #ownLease: AgentLease | undefined;
  #host: UsbHost | undefined;
  #closed = false;

  constructor(options: LabRigOptions) {
    this.#options = options;
    this.config = options.config;
    this.#clock = options.clock ?? new RealClock();
    this.latch = options.latch ?? new MemoryBenchLatch();
    this.client =
      options.client ??
      new AgentClient({ url: options.config.agent.url, token: options.token, deadlineMs: options.config.agent.deadlineMs, heartbeatMs: options.config.agent.heartbeatMs });
  }

  /**
   * Why a scenario with this world cannot run on this bench, or undefined when it can. The scenario
   * fixture skips with this reason before opening a session.
   */
  async skipReason(world: WorldOptions): Promise<string | undefined> {
    const { bench } = this.config;
    const broken = this.latch.broken();
    if (broken !== undefined) return brokenBenchReason(bench.id, broken);
    if (world.speed !== undefined && world.speed !== bench.speed && this.#options.speedPerSession !== true) {
      return `the scenario needs ${world.speed} speed; bench ${bench.id} negotiates ${bench.speed} speed (bench.speed in the lab config)`;
    }
    if (world.powered === false) {
      return `the scenario starts with the function's devnode absent (powered: false), which only the simulator can set up`;
    }
    if (world.attached === false && this.#options.power === undefined) {
      return `the scenario starts unplugged (attached: false), which needs power control of the device's port; bench ${bench.id} has hotplug "${this.config.hotplug.kind}" and no power control`;
    }
    return undefined;
  }

  /**
   * After a scenario failed with a product-looking error, whether the bench itself went away during it: a
   * power loss cuts the host's transfer (LIBUSB_ERROR_NO_DEVICE) a moment before the agent is found gone.
   * Asks the agent once (bounded); when it is unreachable, or the bench latched broken in this scenario,
   * returns that infrastructure error, so the scenario is filed broken (tradefed's check after a failure).
   */
  async infrastructureCause(scenario: string, err: unknown, options: { timeoutMs?: number } = {}): Promise<HarnessError | undefined> {
    if (breaksBench(err)) return undefined;
    const latched = this.latch.broken();
    if (latched !== undefined) return latched.scenario === scenario ? brokenBenchError(this.config.bench.id, latched) : undefined;
    try {
      await this.client.health({ deadlineMs: options.timeoutMs ?? 2_000 });
      return undefined;
    } catch (healthErr) {
      if (!breaksBench(healthErr)) return undefined;
      this.noteFault(scenario, healthErr);
      return healthErr;
    }
  }

  /** Records an infrastructure fault as the bench's broken cause (the first one wins). */
  noteFault(scenario: string, err: unknown): void {
    if (breaksBench(err)) this.latch.latch(scenario, err);
  }

  #connect(): Promise<{ host: UsbHost; leaseId: string; facts: BenchFacts }> {
    this.#ready ??= (async () => {
      const sentAt = Date.now();
      const health = await this.client.checkVersion();
      const receivedAt = Date.now();
      let leaseId: string;
      if (this.#options.lease !== undefined) {
        leaseId = this.#options.lease.leaseId;
      } else {
        this.#ownLease = await AgentLease.acquire(this.client, {
          holder: this.config.lease.holder,
          runId: `rig-${process.pid}`,
          ttlMs: this.config.lease.ttlMs,
          waitMs: this.config.lease.waitMs,
          onLost: (err) => this.latch.latch('(lease renewal)', err),
        });
        leaseId = this.#ownLease.leaseId;
      }
      this.#host = await (this.#options.host ?? defaultHost)();
      return {
        host: this.#host,
        leaseId,
        facts: {
          benchId: this.config.bench.id,
          speed: this.config.bench.speed,
          agentUrl: this.client.url,
          agentVersion: health.agentVersion,
          backend: health.backend,
          clockOffsetMs: Math.round(health.nowMs - (sentAt + receivedAt) / 2),
        },
      };
    })();
    return this.#ready;
  }

  /**
   * Opens the scenario's session on the device agent.
   * @throws LabBenchError LAB_BENCH_BROKEN when the bench latched broken; ModeNotSupportedError for a world
   * the bench cannot give (see {@link skipReason}); LabAgentError for agent faults (they latch the bench).
   */
  async openSession(args: { name: string; seed: number; world: WorldOptions }): Promise<Session> {
    const { world, name } = args;
    const broken = this.latch.broken();
    if (broken !== undefined) throw brokenBenchError(this.config.bench.id, broken);
    const reason = await this.skipReason(world);
    if (reason !== undefined) throw new ModeNotSupportedError(`the world of "${name}"`, 'lab', reason);
    const guard = async <T>(step: () => Promise<T>): Promise<T> => {
      try {
        return await step();
      } catch (err) {
        this.noteFault(name, err);
        throw err;
      }
    };
    const { host, leaseId, facts } = await guard(() => this.#connect());
    // The speed this session runs at: the bench's, or the scenario's on a bench that can switch.
    const config: LabConfig =
      this.#options.speedPerSession === true && world.speed !== undefined ? { ...this.config, bench: { ...this.config.bench, speed: world.speed } } : this.config;
    let poweredOff = false;
    if (world.attached === false) {
      await guard(() => this.#options.power!.off());
      poweredOff = true;
    }
    const info = await guard(() =>
      this.client.openSession({
        leaseId,
        name,
        seed: args.seed >>> 0,
        world: {
          fn: world.fn ?? 'loopback',
          ...(world.busEventDepth === undefined ? {} : { busEventDepth: world.busEventDepth }),
          startService: world.startService ?? true,
          trace: this.config.agent.trace,
          ...(this.#options.speedPerSession === true ? { speed: config.bench.speed } : {}),
        },
      }),
    );
    const capture = this.#options.capture?.();
    const session = new LabSession({
      rig: this,
      config,
      name,
      seed: args.seed,
      host,
      sessionId: info.sessionId,
      functionName: info.functionName,
      facts,
      clock: this.#clock,
      capture,
      power: this.#options.power,
      poweredOff,
      onClose: () => this.#sessions.delete(session),
    });
    this.#sessions.add(session);
    try {
      await capture?.start();
      // Speed at session start: when the device is already on the host, it must be at the bench's speed.
      if (!poweredOff) {
        // Best effort: a device in the middle of re-enumerating may not list; the check repeats whenever the
        // scenario opens the function.
        const [present] = await host.listDevices(deviceFilter(this.config)).catch(() => []);
        if (present !== undefined) await guard(async () => checkBenchSpeed(config, present));
      }
    } catch (err) {
      await session.close().catch(() => undefined);
      throw err;
    }
    return session;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await Promise.allSettled([...this.#sessions].map((s) => s.close()));
    } finally {
      await this.#ownLease?.release().catch(() => undefined);
      await this.#host?.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

async function defaultHost(): Promise<UsbHost> {
  const { NodeUsbHost } = await import('../../host-side/index.js');
  return NodeUsbHost.create();
}

interface LabSessionArgs {
  readonly rig: LabRig;
  /** The rig's configuration, with the speed this session runs at. */
  readonly config: LabConfig;
  readonly name: string;
  readonly seed: number;
  readonly host: UsbHost;
  readonly sessionId: string;
  readonly functionName: string;
  readonly facts: BenchFacts;
  readonly clock: Clock;
  readonly capture: HostCaptureSource | undefined;
  readonly power: PowerControl | undefined;
  readonly poweredOff: boolean;
  readonly onClose: () => void;
}

/** Bound on the entries kept from the live event stream (the agent's ring holds 5000). */
const STREAMED_MAX = 20_000;

class LabSession implements Session {
  readonly mode = 'lab' as const;
  readonly seed: number;
  readonly speed: UsbDeviceSpeed;
  readonly clock: Clock;
  readonly host: UsbHost;
  readonly device: DeviceSide;
  readonly capture: SessionCapture;
  readonly sim = undefined;
  readonly sessionId: string;
  readonly #args: LabSessionArgs;
  readonly #config: LabConfig;
  readonly #follow = new AbortController();
  readonly #streamed: ReturnType<typeof toDeviceLogEntry>[] = [];
  readonly #gaps: { fromSeq: number; toSeq: number; dropped: number }[] = [];
  #streamError: string | undefined;
  #following: Promise<void>;
  #agent: Promise<HostAgent> | undefined;
  #handle: UsbDeviceHandle | undefined;
  #captured: HostCaptureResult | undefined;
  #poweredOff: boolean;
  #closed = false;

  constructor(args: LabSessionArgs) {
    this.#args = args;
    this.#config = args.config;
    this.seed = args.seed;
    this.speed = this.#config.bench.speed;
    this.clock = args.clock;
    this.host = args.host;
    this.sessionId = args.sessionId;
    this.#poweredOff = args.poweredOff;
    this.device = new RemoteDeviceSide({
      client: args.rig.client,
      sessionId: args.sessionId,
      functionName: args.functionName,
      onFault: (err) => args.rig.noteFault(args.name, err),
    });
    this.capture = {
      // Empty until the capture stopped (artifacts/close); empty for good on a bench without one.
      pcap: () => (this.#captured !== undefined && 'pcap' in this.#captured ? this.#captured.pcap : new Uint8Array(0)),
      recordCount: 0,
    };
    this.#following = this.#followEvents();
  }

  /** Follows the device's event stream for the whole session: the log survives the agent, and a stall breaks the bench. */
  async #followEvents(): Promise<void> {
    try {
      for await (const item of this.#args.rig.client.events(this.sessionId, { follow: true, signal: this.#follow.signal })) {
        if (item.type === 'entry') {
          if (this.#streamed.length < STREAMED_MAX) this.#streamed.push(toDeviceLogEntry(item.entry));
        } else if (item.type === 'gap') {
          this.#gaps.push({ fromSeq: item.fromSeq, toSeq: item.toSeq, dropped: item.dropped });
        }
      }
    } catch (err) {
      if (err instanceof AbortedError || this.#follow.signal.aborted) return;
      this.#streamError = err instanceof Error ? err.message : String(err);
      this.#args.rig.noteFault(this.#args.name, err);
    }
  }

  agent(options: { timeoutMs?: number } = {}): Promise<HostAgent> {
    this.#agent ??= this.#openAgent(options.timeoutMs ?? DEFAULT_DEVICE_WAIT_MS);
    return this.#agent;
  }

  async reopenAgent(options: { timeoutMs?: number } = {}): Promise<HostAgent> {
    const old = this.#handle;
    this.#agent = undefined;
    this.#handle = undefined;
    await old?.close();
    return this.agent(options);
  }

  async #openAgent(timeoutMs: number): Promise<HostAgent> {
    try {
      if (this.#poweredOff) {
        await this.#args.power!.on();
        this.#poweredOff = false;
      }
      const deadline = new Deadline(this.clock, timeoutMs);
      const opened = await openBenchFunction({ host: this.host, config: this.#config, clock: this.clock, deadline });
      this.#handle = opened.handle;
      await this.device.whenConfigured({ timeoutMs: Math.max(1, Math.round(deadline.remainingMs())) });
      return opened.agent;
    } catch (err) {
      this.#args.rig.noteFault(this.#args.name, err);
      this.#agent = undefined;
      throw err;
    }
  }

  async artifacts(): Promise<{ deviceLog: unknown; extras: Record<string, unknown> }> {
    const client = this.#args.rig.client;
    const extras: Record<string, unknown> = { bench: this.#args.facts };
    let deviceLog: unknown;
    try {
      const log = await client.log(this.sessionId, { deadlineMs: 5_000 });
      deviceLog = { dropped: log.dropped, entries: log.entries.map(toDeviceLogEntry) };
    } catch (err) {
      // The agent is gone: what was streamed live is all there is.
      deviceLog = { dropped: null, entries: this.#streamed, source: 'live event stream', agentError: err instanceof Error ? err.message : String(err) };
    }
    if (this.#gaps.length > 0 || this.#streamError !== undefined) extras['deviceEventStream'] = { gaps: this.#gaps, error: this.#streamError ?? null };
    if (this.#config.agent.trace) {
      extras['deviceTrace'] = await client.trace(this.sessionId, { deadlineMs: 10_000 }).catch((err: unknown) => ({ unavailable: err instanceof Error ? err.message : String(err) }));
    }
    const capture = this.#args.capture;
    if (capture === undefined) {
      extras['hostCapture'] = { unavailable: `bench ${this.#config.bench.id} has no host capture` };
    } else {
      this.#captured ??= await capture.stop();
      if ('unavailable' in this.#captured) extras['hostCapture'] = { unavailable: this.#captured.unavailable };
    }
    return { deviceLog, extras };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#follow.abort(new Error('session closed'));
      await this.#following;
      await this.#handle?.close().catch(() => undefined);
      if (this.#args.capture !== undefined) this.#captured ??= await this.#args.capture.stop();
      if (this.#poweredOff) {
        await this.#args.power!.on();
        this.#poweredOff = false;
      }
      const brokenBefore = this.#args.rig.latch.broken();
      try {
        await this.#args.rig.client.closeSession(this.sessionId);
      } catch (err) {
        // Gone already (lease expiry, agent restart) is not a failure of closing. On a bench that already
        // broke, the first cause tells the story: closing's own failure would only repeat it.
        const gone = err instanceof Error && 'code' in err && err.code === 'LAB_AGENT_NO_SESSION';
        if (!gone) {
          this.#args.rig.noteFault(this.#args.name, err);
          if (brokenBefore === undefined) throw err;
        }
      }
    } finally {
      this.#args.onClose();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
