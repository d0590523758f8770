/**
 * `usbfn-hil usbip serve`: option checks, and a real run: it listens on an ephemeral 127.0.0.1 port, a
 * `UsbIpUsbHost` finds the test function there and loops data through it, and aborting the command ends
 * the export (the port refuses connections afterwards).
 */
import { describe, expect, it } from 'vitest';
import { UsbIpUsbHost } from '../../host-side/index.js';
import { commandUsbip, parseListen } from './usbip-command.js';

describe('usbfn-hil usbip', () => {
  it('parses --listen as host:port, [ipv6]:port or a bare port', () => {
    expect(parseListen('127.0.0.1:3240')).toEqual({ host: '127.0.0.1', port: 3240 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListen('3241')).toEqual({ host: '127.0.0.1', port: 3241 });
    expect(() => parseListen('127.0.0.1:99999')).toThrow(/INVALID_ARGUMENT.*--listen '127.0.0.1:99999'/);
    expect(() => parseListen('nohost:')).toThrow(/is not <host>:<port>/);
  });

  it('refuses an unknown subcommand, a bad speed and a non-loopback address without --allow-remote', async () => {
    const io = { out: () => undefined, err: () => undefined, signal: AbortSignal.abort() };
    await expect(commandUsbip(['attach'], io)).rejects.toThrow(/unknown subcommand 'attach'/);
    await expect(commandUsbip(['serve', '--speed', 'low'], io)).rejects.toThrow(/--speed 'low' is not a speed/);
    await expect(commandUsbip(['serve', '--listen', '0.0.0.0:0'], io)).rejects.toThrow(/not a loopback address.*--allow-remote/);
  });

  it('serves the simulated test function until stopped', async () => {
    const stop = new AbortController();
    const out: string[] = [];
    const log: string[] = [];
    let listening!: (a: { port: number }) => void;
    const address = new Promise<{ port: number }>((resolve) => (listening = resolve));
    const run = commandUsbip(['serve', '--listen', '127.0.0.1:0', '--speed', 'full', '--seed', '9'], {
      out: (l) => out.push(l),
      err: (l) => log.push(l),
      signal: stop.signal,
      onListening: listening,
    });
    const { port } = await address;
    expect(out.join('\n')).toMatch(new RegExp(`usbip --tcp-port ${port} list -r 127.0.0.1`));
    {
      await using host = new UsbIpUsbHost({ port, pollIntervalMs: 20 });
      const info = await host.waitForDevice({ vendorId: 0x1209, productId: 0x0001 }, { timeoutMs: 5000 });
      expect(info.speed).toBe('full');
      await using dev = await host.open(info);
      await dev.claimInterface(0);
      const data = Uint8Array.from({ length: 200 }, (_, i) => i);
      await dev.bulkOut(0x01, data);
      expect((await dev.bulkIn(0x81, 256)).data).toEqual(data);
    }
    stop.abort();
    await expect(run).resolves.toBe(0);
    expect(log.some((l) => /import: imported VID 0x1209 PID 0x0001/.test(l))).toBe(true);
    await expect(new UsbIpUsbHost({ port }).listDevices()).rejects.toMatchObject({ code: 'USBIP_UNREACHABLE' });
  });
});
