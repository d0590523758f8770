/**
 * `usbfn-hil usbip serve`: the simulated test function exported over USB/IP (docs/usbip.md), standalone.
 * The simulation runs on the wall clock with the real device-side service and the loopback test function;
 * `usbip list -r`, `usbip attach` (on a kernel with vhci-hcd) or `UsbIpUsbHost` reach it on 127.0.0.1.
 *
 *   usbfn-hil usbip serve [--listen <host>:<port>] [--speed full|high|super] [--seed <n>] [--allow-remote]
 *
 * Runs until SIGINT/SIGTERM, then closes the server (ending every connection) and stops the simulation.
 */
import { parseArgs } from 'node:util';
import { hex, UsageError, type UsbDeviceSpeed } from '../../core/index.js';
import { isLoopbackAddress, USBIP_PORT, type UsbIpLogEntry } from '../../host-side/index.js';
import { exportSimulation, TEST_FUNCTION_PID, TEST_FUNCTION_VID } from '../../simulator/index.js';
import { parseSeed } from '../seed.js';
import { simWorld } from '../world/index.js';
import type { Command } from './command.js';

export const USBIP_USAGE = `  usbfn-hil usbip serve [--listen <host>:<port>] [--speed full|high|super] [--seed <n>] [--allow-remote]
      Exports the simulated test function over USB/IP (default 127.0.0.1:${USBIP_PORT}) until Ctrl-C.
      List it with: usbip --tcp-port <port> list -r <host>. See docs/usbip.md.`;

const SPEEDS: readonly UsbDeviceSpeed[] = ['full', 'high', 'super'];

/** Where to listen: `<host>:<port>`, `[<ipv6>]:<port>` or `<port>` (host 127.0.0.1). */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):)?(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || !Number.isInteger(port) || port > 65535) {
    throw new UsageError('INVALID_ARGUMENT', `--listen '${text}' is not <host>:<port>: use e.g. --listen 127.0.0.1:${USBIP_PORT} (port 0 = any free port)`);
  }
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

export interface UsbipCommandIo {
  /** Lines for the user (the address, how to list). */
  readonly out: (line: string) => void;
  /** The server's log. */
  readonly err: (line: string) => void;
  /** Ends `serve` (default: SIGINT or SIGTERM). */
  readonly signal?: AbortSignal | undefined;
  /** Told the bound port once the server listens (tests). */
  readonly onListening?: ((address: { host: string; port: number }) => void) | undefined;
}

function formatLog(e: UsbIpLogEntry): string {
  return `usbip ${e.level} #${e.connection} ${e.remote} ${e.event}: ${e.message}`;
}

/**
 * `usbfn-hil usbip <subcommand>`; resolves with the exit code.
 * @throws UsageError INVALID_ARGUMENT for a bad option, USBIP_LISTEN when the address cannot be bound.
 */
export async function commandUsbip(argv: string[], io: UsbipCommandIo = { out: (l) => console.log(l), err: (l) => console.error(l) }): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'serve') throw new UsageError('INVALID_ARGUMENT', `usbip: unknown subcommand '${sub ?? ''}': use\n${USBIP_USAGE}`);
  const { values } = parseArgs({
    args: rest,
    options: {
      listen: { type: 'string', default: `127.0.0.1:${USBIP_PORT}` },
      speed: { type: 'string', default: 'high' },
      seed: { type: 'string', default: '1' },
      'allow-remote': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const listen = parseListen(values.listen);
  const speed = values.speed as UsbDeviceSpeed;
  if (!SPEEDS.includes(speed)) throw new UsageError('INVALID_ARGUMENT', `--speed '${values.speed}' is not a speed: use ${SPEEDS.join(', ')}`);
  const seed = parseSeed(values.seed, '--seed');
  const allowRemote = values['allow-remote'];
  if (!isLoopbackAddress(listen.host) && !allowRemote) {
    throw new UsageError(
      'INVALID_ARGUMENT',
      `--listen ${listen.host} is not a loopback address: USB/IP has no authentication, so anyone who reaches the port drives the device. Add --allow-remote to serve other hosts on purpose`,
    );
  }

  // The simulated test function on the wall clock, its device-side service started.
  const world = await simWorld().withSeed(seed).withSpeed(speed).withFunction('loopback').withRealTime().start();
  const { simulation } = world;
  try {
    const server = await exportSimulation(simulation, {
      listenHost: listen.host,
      port: listen.port,
      allowClient: allowRemote ? () => true : undefined,
      log: (e) => io.err(formatLog(e)),
    });
    try {
      const { host, port } = server.address;
      const shown = host.includes(':') ? `[${host}]` : host;
      io.out(`usbfn-hil: exporting the simulated test function (VID ${hex(TEST_FUNCTION_VID, 4)} PID ${hex(TEST_FUNCTION_PID, 4)}, ${speed} speed, seed ${seed}) over USB/IP on ${shown}:${port}`);
      io.out(`usbfn-hil: list it with: usbip --tcp-port ${port} list -r ${host}`);
      if (allowRemote) io.out('usbfn-hil: WARNING: --allow-remote: any host that reaches this port can drive the device (USB/IP has no authentication)');
      io.onListening?.({ host, port });
      await untilStopped(io.signal);
      io.out('usbfn-hil: stopping the USB/IP export');
    } finally {
      await server.close();
    }
  } finally {
    await world.close();
  }
  return 0;
}

/** Resolves when `signal` aborts, or on SIGINT/SIGTERM without one. */
function untilStopped(signal: AbortSignal | undefined): Promise<void> {
  if (signal !== undefined) {
    return signal.aborted ? Promise.resolve() : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export const usbipCommand: Command = {
  name: 'usbip',
  summary: 'export the simulated test function over USB/IP (usbip serve)',
  usage: `usage:\n${USBIP_USAGE}`,
  run: (argv) => commandUsbip([...argv]),
};
