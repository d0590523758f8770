/**
 * The Linux `usbip` userland (Debian's usbip package, not written by this project) lists the simulated
 * test function exported by `usbfn-hil usbip serve`: busid, VID:PID, device class and the vendor-specific
 * interface, decoded from our OP_REP_DEVLIST by its own parser.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTool, IN_CI, runTool, startServe, type ServeProcess } from './system-tools.js';

const usbip = await findTool('usbip', ['/usr/sbin/usbip', '/usr/bin/usbip']);

if (usbip === undefined) {
  describe('usbip tier: the usbip userland lists the export', () => {
    // CI installs the userland, so there its absence fails; elsewhere the tier is skipped with the reason.
    it.skipIf(!IN_CI)('needs the usbip userland (apt-get install usbip)', () => {
      expect.fail('usbip is not installed (/usr/sbin/usbip): .ci/run installs the Debian usbip package before npm run test:usbip');
    });
  });
} else {
  describe.each(['high', 'full'] as const)('usbip tier: `usbip list -r` of the export (%s speed)', (speed) => {
    let serve: ServeProcess;
    beforeAll(async () => {
      serve = await startServe(['--speed', speed]);
    });
    afterAll(async () => {
      if (serve !== undefined) expect(await serve.stop()).toBe(0);
    });

    it('shows the busid, the VID:PID, the device class and the vendor-specific interface', async () => {
      // The device enumerates on the simulation's real-time schedule; until then the list is empty.
      let r = await runTool(usbip, ['--tcp-port', String(serve.port), 'list', '-r', '127.0.0.1']);
      for (let i = 0; i < 50 && !/1209:0001/.test(r.stdout); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        r = await runTool(usbip, ['--tcp-port', String(serve.port), 'list', '-r', '127.0.0.1']);
      }
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/Exportable USB devices/);
      expect(r.stdout).toMatch(/ - 127\.0\.0\.1/);
      // `<busid>: <vendor> : <product> (1209:0001)`, then the path, the device class, one line per interface.
      expect(r.stdout).toMatch(/sim-1-\d+: .*\(1209:0001\)/);
      expect(r.stdout).toMatch(/: \/usbfn-hil\/sim\/sim-1-\d+/);
      expect(r.stdout).toMatch(/\(Defined at Interface level\) \(00\/00\/00\)/);
      expect(r.stdout).toMatch(/ 0 - Vendor Specific Class .*\(ff\/00\/00\)/);
      expect(r.stdout.match(/ \d+ - /g)).toHaveLength(1);
      // The server's log line of that listing (stderr of the child arrives on its own schedule).
      for (let i = 0; i < 50 && !/devlist: sent 1 device\(s\)/.test(serve.stderr.join('')); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(serve.stderr.join('')).toMatch(/devlist: sent 1 device\(s\)/);
      expect(serve.stderr.join('')).toMatch(/end: device list sent/);
    });
  });
}
