/**
 * `UsbIpServer`: exports the devices of a {@link UsbHost} over USB/IP 1.1.1 (TCP, port 3240 by default),
 * so that a USB/IP client — Linux's `usbip attach` with vhci-hcd, or {@link UsbIpUsbHost} — drives them.
 * Behind it can be any implementation of the seam: the simulator's `SimUsbHost` (the simulated link with
 * its packet rules, stalls, ZLPs, resets and detach) or `NodeUsbHost` (a real device through libusb).
 *
 * Security: USB/IP has no authentication. The server binds 127.0.0.1 and serves loopback clients only,
 * unless told otherwise (`listenHost`, `allowClient`); whoever can connect can drive the exported devices.
 *
 * @see docs/usbip.md, https://docs.kernel.org/usb/usbip_protocol.html
 * @example
 * await using server = await UsbIpServer.listen({ host: simulation.host, port: 0 });
 * console.log(`usbip --tcp-port ${server.port} list -r 127.0.0.1`);
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { RealClock, UsageError, type Clock } from '../../core/index.js';
import type { UsbDeviceFilter, UsbHost } from '../usb-host.js';
import { exportedDeviceRecord, UsbIpExports } from './usbip-exports.js';
import type { UsbIpExportedDevice } from './usbip-op-codec.js';
import { PayloadPool } from './payload-pool.js';
import { USBIP_PORT } from './usbip-protocol.js';
import { DEFAULT_USBIP_LIMITS, UsbIpSession, type UsbIpLimits, type UsbIpLogEntry, type UsbIpTransport } from './usbip-session.js';

export interface UsbIpServerOptions {
  /** The devices' host: `SimUsbHost` (a simulation) or `NodeUsbHost` (real devices). */
  readonly host: UsbHost;
  /** Which of its devices are exported. Default: all. */
  readonly filter?: UsbDeviceFilter | undefined;
  /** Address to bind. Default 127.0.0.1. */
  readonly listenHost?: string | undefined;
  /** TCP port; 0 picks a free one. Default 3240. */
  readonly port?: number | undefined;
  /** Which client addresses are served. Default: loopback only (127.0.0.0/8, ::1). */
  readonly allowClient?: ((address: string) => boolean) | undefined;
  readonly limits?: Partial<UsbIpLimits> | undefined;
  /** Receives every log line (connections, imports, each connection's end and its reason). Default: none. */
  readonly log?: ((entry: UsbIpLogEntry) => void) | undefined;
  /** Clock of the server's own deadlines. Default: real time. */
  readonly clock?: Clock | undefined;
}

/**
 * Replies buffered for a client before the server stops reading its requests (backpressure). Several
 * 1 MiB bulk replies in flight stay under it; a client that stops reading does not grow the server's memory
 * past it by much more than one reply.
 */
const REPLY_HIGH_WATER_BYTES = 8 * 1024 * 1024;

/** Loopback addresses, IPv4 and IPv6 (IPv4-mapped included). */
export function isLoopbackAddress(address: string): boolean {
  return /^(::ffff:)?127\./.test(address) || address === '::1';
}

export class UsbIpServer implements AsyncDisposable {
  readonly #server: Server;
  readonly #exports: UsbIpExports;
  readonly #limits: UsbIpLimits;
  readonly #clock: Clock;
  readonly #log: (entry: UsbIpLogEntry) => void;
  readonly #allow: (address: string) => boolean;
  readonly #sessions = new Set<UsbIpSession>();
  readonly #pool = new PayloadPool();
  readonly #hotplug = new AbortController();
  #nextId = 1;
  #closing: Promise<void> | undefined;

  private constructor(server: Server, options: UsbIpServerOptions) {
    this.#server = server;
    this.#limits = { ...DEFAULT_USBIP_LIMITS, ...options.limits };
    this.#clock = options.clock ?? new RealClock();
    this.#log = options.log ?? (() => undefined);
    this.#allow = options.allowClient ?? isLoopbackAddress;
    this.#exports = new UsbIpExports(options.host, options.filter ?? {}, this.#limits.deviceTimeoutMs);
  }

  /**
   * Starts listening.
   * @throws UsageError USBIP_LISTEN when the address cannot be bound (port in use, no such address), with the cause.
   */
  static async listen(options: UsbIpServerOptions): Promise<UsbIpServer> {
    const port = options.port ?? USBIP_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('INVALID_ARGUMENT', `port ${port} is not a TCP port: use 0..65535 (0 = any free port)`);
    const listenHost = options.listenHost ?? '127.0.0.1';
    const net = createServer({ noDelay: true });
    const server = new UsbIpServer(net, options);
    net.on('connection', (socket) => server.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      net.once('error', (err) =>
        reject(new UsageError('USBIP_LISTEN', `cannot listen on ${listenHost}:${port}: ${err.message}. Pick another port (--listen ${listenHost}:<port>) or stop what holds it`, { listenHost, port }, { cause: err })),
      );
      net.listen(port, listenHost, () => resolve());
    });
    net.on('error', (err) => server.#log({ level: 'error', connection: 0, remote: '', event: 'refused', message: `server socket error: ${err.message}` }));
    void server.#watchHotplug();
    return server;
  }

  /** The bound address. */
  get address(): { host: string; port: number } {
    const a = this.#server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  get port(): number {
    return this.address.port;
  }

  /** What `OP_REP_DEVLIST` would list now. */
  async exportedDevices(): Promise<UsbIpExportedDevice[]> {
    return (await this.#exports.list()).map((e) => exportedDeviceRecord(e, this.#exports.host.backend));
  }

  /** Connections open now. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /**
   * Serves one connection over any byte transport: the listener uses it for each accepted socket; tests
   * feed bytes to the returned session directly.
   */
  openSession(transport: UsbIpTransport): UsbIpSession {
    const session = new UsbIpSession({ id: this.#nextId++, transport, exports: this.#exports, clock: this.#clock, limits: this.#limits, log: this.#log, pool: this.#pool });
    this.#sessions.add(session);
    void session.done.then(() => this.#sessions.delete(session));
    return session;
  }

  /** Stops listening, ends every connection (releasing its device) and waits for them. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#hotplug.abort();
      const stopped = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      await Promise.all([...this.#sessions].map((s) => s.close('server shutting down')));
      await stopped;
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #accept(socket: Socket): void {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    if (this.#closing !== undefined || !this.#allow(socket.remoteAddress ?? '')) {
      this.#log({ level: 'warn', connection: 0, remote, event: 'refused', message: this.#closing ? 'server shutting down' : 'client address not allowed (loopback only unless allowClient says otherwise)' });
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const transport: UsbIpTransport = {
      remote,
      write(chunks, onWritten) {
        if (socket.destroyed) {
          onWritten?.();
          return true;
        }
        // The callback of the last write runs once all of them are flushed (or failed with the socket).
        const last = chunks.length - 1;
        if (last === 0) socket.write(chunks[0]!, onWritten);
        else {
          socket.cork();
          chunks.forEach((c, i) => socket.write(c, i === last ? onWritten : undefined));
          socket.uncork();
        }
        // Node's own mark (16 KiB) is below one bulk reply: stop reading only when replies really pile up.
        return socket.writableLength <= REPLY_HIGH_WATER_BYTES;
      },
      end() {
        if (!socket.destroyed) socket.end();
        // A peer that never reads would keep a half-closed socket: give it the grace period, then drop it.
        setTimeout(() => socket.destroy(), 1000).unref();
      },
      pauseInput: () => socket.pause(),
      resumeInput: () => socket.resume(),
    };
    const session = this.openSession(transport);
    socket.on('data', (chunk: Buffer) => session.receive(chunk));
    socket.on('drain', () => session.drained());
    socket.on('end', () => session.inputEnded());
    socket.on('error', (err) => session.transportFailed(err));
    socket.on('close', () => session.transportFailed(new Error('connection closed')));
  }

  /** Detach of an imported device ends its connection; any hotplug event refreshes what is exported. */
  async #watchHotplug(): Promise<void> {
    try {
      for await (const e of this.#exports.host.hotplugEvents({ signal: this.#hotplug.signal })) {
        this.#exports.forget(e.device.id);
        if (e.type !== 'detach') continue;
        for (const s of this.#sessions) if (s.importedDeviceId === e.device.id) s.deviceDetached();
      }
    } catch (err) {
      this.#log({ level: 'error', connection: 0, remote: '', event: 'device', message: `hotplug events stopped: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
}
