import { describe, expect, it } from 'vitest';
import { formatDoctorReport, runDoctor, type DoctorCheckContext, type UsbDeviceHandle, type UsbDeviceInfo, type UsbHost } from '../../../host-side/index.js';
import { FakeCommandRunner, uhubctlFixture, type ScriptedCommand } from './testing/index.js';
import { uhubctlDoctorCheck, type UhubctlDoctorCheckOptions } from './uhubctl-doctor-check.js';

const DEV: UsbDeviceInfo = {
  id: '1-1.2', busNumber: 1, deviceAddress: 9, vendorId: 0x1209, productId: 0x0001, deviceVersion: 0x100, speed: 'high',
  manufacturer: 'usbfn-hil', product: 'Loopback', serialNumber: 'LAB-01', interfaces: [{ interfaceNumber: 0, interfaceClass: 0xff }],
};

const context = (expected: UsbDeviceInfo | undefined, platform = 'linux'): DoctorCheckContext => ({ platform, devices: expected ? [expected] : [], expected });

async function check(script: ScriptedCommand[], ctx: DoctorCheckContext, options: Partial<UhubctlDoctorCheckOptions> = {}) {
  const runner = new FakeCommandRunner(script);
  const findings = await uhubctlDoctorCheck({ runner, ...options }).run(ctx);
  return { findings, runner };
}

describe('uhubctlDoctorCheck', () => {
  it('lists the hubs that switch per port and where the expected device is, as a hotplug setting', async () => {
    const { findings, runner } = await check([{ file: 'uhubctl', args: ['-f'], result: uhubctlFixture('ppps-list', 0) }], context(DEV));
    expect(runner.calls).toHaveLength(1);
    expect(findings.map((f) => [f.severity, f.code])).toEqual([
      ['ok', 'UHUBCTL_HUBS'],
      ['ok', 'UHUBCTL_DEVICE_PORT'],
    ]);
    expect(findings[0]!.title).toBe('uhubctl can switch the ports of 2 hubs');
    expect(findings[0]!.detail).toContain('1-1  04b4:6570 USB2.0 Hub, USB 2.00, 4 ports, ppps\n    port 2: 1209:0001 usbfn-hil Loopback LAB-01');
    expect(findings[1]!.title).toBe('The expected device 1209:0001 is on port 2 of hub 1-1, which switches per port');
    expect(findings[1]!.detail).toBe('In usbfn-hil.lab.json: "hotplug": { "kind": "uhubctl", "hub": "1-1", "port": 2 }');
  });

  it('warns that a root hub port may not really cut VBUS', async () => {
    const onRoot = {
      exitCode: 0,
      signal: null,
      stderr: '',
      stdout:
        'Current status for hub 1 [1d6b:0002 Linux 6.1.0-18-amd64 xhci-hcd xHCI Host Controller 0000:00:14.0, USB 2.00, 12 ports, ppps]\n' +
        '  Port 3: 0503 power highspeed enable connect [1209:0001 usbfn-hil Loopback LAB-01]\n',
    };
    const { findings } = await check([{ args: ['-f'], result: onRoot }], context(DEV));
    const f = findings.find((x) => x.code === 'UHUBCTL_DEVICE_PORT');
    expect(f?.title).toContain('port 3 of hub 1,');
    expect(f?.detail).toContain('This is a root hub');
  });

  it('names a ganged hub the device hangs off and the hub to move it to', async () => {
    const { findings } = await check([{ args: ['-f'], result: uhubctlFixture('ganged-force-list', 0) }], context(DEV));
    const f = findings.find((x) => x.code === 'UHUBCTL_DEVICE_NOT_SWITCHABLE');
    expect(f).toMatchObject({ severity: 'warning', title: 'The expected device 1209:0001 is on port 2 of hub 3-4, which cannot switch one port (ganged)' });
    expect(f?.fix).toBe('Move it to a port of 3-1 or 3.');
  });

  it('warns when no hub switches per port, listing the others', async () => {
    const { findings } = await check([{ args: ['-f'], result: uhubctlFixture('no-hubs-force-list', 0) }], context(undefined));
    expect(findings[0]).toMatchObject({ severity: 'warning', code: 'UHUBCTL_NO_HUBS' });
    expect(findings[0]!.detail).toContain('1-2  05e3:0610 GenesysLogic USB2.1 Hub, USB 2.10, 4 ports, nops');
    const empty = await check([{ args: ['-f'], result: uhubctlFixture('no-hubs', 1) }], context(undefined));
    expect(empty.findings[0]).toMatchObject({ code: 'UHUBCTL_NO_HUBS', detail: 'No hub answered uhubctl at all.' });
  });

  it('says how to install uhubctl, or to get permission, without failing the host', async () => {
    const missing = await check([{ args: ['-f'], behaviour: 'not-found' }], context(DEV));
    expect(missing.findings).toEqual([expect.objectContaining({ severity: 'info', code: 'UHUBCTL_MISSING', fix: expect.stringContaining('sudo apt install uhubctl') })]);
    const denied = await check([{ args: ['-f'], result: { ...uhubctlFixture('permission', 1), stderr: 'There were permission problems while accessing USB.\nFollow https://git.io/JIB2Z for a fix!\nNo compatible devices detected!\n' } }], context(DEV));
    expect(denied.findings).toEqual([expect.objectContaining({ severity: 'warning', code: 'UHUBCTL_PERMISSION', fix: expect.stringContaining('52-usb.rules') })]);
  });

  it('does not run uhubctl on Windows', async () => {
    const { findings, runner } = await check([], context(DEV, 'win32'));
    expect(runner.calls).toEqual([]);
    expect(findings[0]).toMatchObject({ severity: 'info', code: 'UHUBCTL_UNSUPPORTED' });
  });

  it('checks a configured hub and port, as errors', async () => {
    const wrongHub = await check([{ args: ['-f'], result: uhubctlFixture('ganged-force-list', 0) }], context(DEV), { hub: '3-4', port: 2 });
    expect(wrongHub.findings.find((f) => f.code === 'UHUBCTL_CONFIGURED_HUB')).toMatchObject({ severity: 'error', title: 'The configured hub 3-4 cannot switch one port (ganged)' });
    const noHub = await check([{ args: ['-f'], result: uhubctlFixture('ppps-list', 0) }], context(DEV), { hub: '2-3', port: 1 });
    expect(noHub.findings.find((f) => f.code === 'UHUBCTL_CONFIGURED_HUB')?.detail).toBe('uhubctl sees hubs at: 1-1, 1');
    const noPort = await check([{ args: ['-f'], result: uhubctlFixture('ppps-list', 0) }], context(DEV), { hub: '1-1', port: 6 });
    expect(noPort.findings.find((f) => f.code === 'UHUBCTL_CONFIGURED_PORT')).toMatchObject({ severity: 'error', title: 'Hub 1-1 has no port 6' });
    const missing = await check([{ args: ['-f'], behaviour: 'not-found' }], context(DEV), { hub: '1-1', port: 2 });
    expect(missing.findings[0]?.severity).toBe('error');
  });

  it('shows in usbfn-hil doctor next to the device checks', async () => {
    const host = {
      backend: 'fake',
      listDevices: async () => [DEV],
      open: async (info: UsbDeviceInfo) => ({ info, close: async () => undefined }) as unknown as UsbDeviceHandle,
      close: async () => undefined,
    } as unknown as UsbHost;
    const runner = new FakeCommandRunner([{ args: ['-f'], result: uhubctlFixture('ppps-list', 0) }]);
    const report = await runDoctor({
      createHost: async () => host,
      vendorId: 0x1209,
      productId: 0x0001,
      platform: 'linux',
      fileSystem: { exists: async () => true },
      checks: [uhubctlDoctorCheck({ runner })],
    });
    expect(report.ok).toBe(true);
    const text = formatDoctorReport(report);
    expect(text).toContain('[ok]   The expected device 1209:0001 is on port 2 of hub 1-1, which switches per port');
    expect(text).toContain('"hotplug": { "kind": "uhubctl", "hub": "1-1", "port": 2 }');
    expect(text).toContain('Result: ready.');
  });
});
