import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../core/index.js';
import { POWER_ERROR, PowerControlError } from './power-control-error.js';
import { FakeCommandRunner, uhubctlFixture, type ScriptedCommand } from './testing/index.js';
import { UhubctlPowerControl, type UhubctlPowerControlOptions } from './uhubctl-power-control.js';

const action = (hub: string, port: number, a: string, ...extra: string[]): string[] => ['-l', hub, '-p', String(port), '-a', a, ...extra];

function control(script: ScriptedCommand[], options: Partial<UhubctlPowerControlOptions> = {}): { power: UhubctlPowerControl; runner: FakeCommandRunner } {
  const runner = new FakeCommandRunner(script);
  return { power: new UhubctlPowerControl({ hub: '1-1', port: 2, runner, platform: 'linux', clock: manualClock(), ...options }), runner };
}

async function failure(p: Promise<unknown>): Promise<PowerControlError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PowerControlError);
  return err as PowerControlError;
}

/** A clock the test moves by hand (the fake runner advances it by each command's duration). */
function manualClock(): Clock & { advance(ms: number): void } {
  let t = 0;
  return { now: () => t, setTimer: () => ({ cancel() {} }), advance: (ms) => (t += ms) };
}

describe('UhubctlPowerControl on a hub with per-port power switching', () => {
  it('switches the port off with uhubctl -l 1-1 -p 2 -a off and checks it reads off', async () => {
    const { power, runner } = control([{ file: 'uhubctl', args: action('1-1', 2, 'off'), result: uhubctlFixture('ppps-off', 0) }]);
    expect(power.kind).toBe('uhubctl');
    await power.off();
    expect(runner.calls).toEqual([{ file: 'uhubctl', args: action('1-1', 2, 'off'), timeoutMs: 10_000 }]);
  });

  it('switches it on and checks it reads powered', async () => {
    const { power, runner } = control([{ args: action('1-1', 2, 'on'), result: uhubctlFixture('ppps-on', 0) }]);
    await power.on({ timeoutMs: 3_000 });
    expect(runner.calls[0]?.timeoutMs).toBe(3_000);
    expect(runner.pending).toEqual([]);
  });

  it('cycles with the off time as -d and a deadline that includes it; both halves are checked', async () => {
    const { power, runner } = control([{ args: action('1-1', 2, 'cycle', '-d', '2'), result: uhubctlFixture('ppps-cycle', 0) }]);
    await power.cycle();
    expect(runner.calls[0]?.timeoutMs).toBe(12_000);
    // The same output without its "on" half is not a cycle.
    const half = uhubctlFixture('ppps-off', 0);
    const { power: p2 } = control([{ args: action('1-1', 2, 'cycle', '-d', '0.5'), result: half }], { cycleDelayMs: 500 });
    const err = await failure(p2.cycle());
    expect(err.code).toBe(POWER_ERROR.unreadableOutput);
    expect(err.message).toContain('no "New status" after a power on request');
  });

  it('runs uhubctl through a configured prefix (sudo -n) and passes -r and -e', async () => {
    const { power, runner } = control([{ file: 'sudo', args: ['-n', 'uhubctl', ...action('1-1', 2, 'off', '-r', '10', '-e')], result: uhubctlFixture('ppps-off', 0) }], {
      command: ['sudo', '-n', 'uhubctl'],
      repeat: 10,
      exact: true,
    });
    await power.off();
    expect(runner.pending).toEqual([]);
  });

  it('reads the port status for a bench check', async () => {
    const { power } = control([{ args: ['-l', '1-1', '-p', '2'], result: uhubctlFixture('ppps-status', 0) }]);
    const [report] = await power.status();
    expect(report).toMatchObject({ location: '1-1', port: { port: 2, powered: true, device: { vendorId: 0x1209, productId: 0x0001 } } });
  });

  it('fails when the hub ignored the request, quoting the port line', async () => {
    const { power } = control([{ args: action('1-1', 2, 'off'), result: uhubctlFixture('ppps-ignored-off', 0) }]);
    const err = await failure(power.off());
    expect(err.code).toBe(POWER_ERROR.verifyFailed);
    expect(err.message).toMatch(/^\[LAB_POWER_VERIFY_FAILED\] uhubctl -l 1-1 -p 2 -a off did not switch the port off/);
    expect(err.message).toContain('hub 1-1 reports "Port 2: 0503 power highspeed enable connect [1209:0001 usbfn-hil Loopback LAB-01]"');
    expect(err.message).toContain('0bda:5411 Generic 4-Port USB 2.0 Hub');
    expect(err.message).toContain('hotplug.repeat');
    expect(err.data).toMatchObject({ hub: '1-1', port: 2, location: '1-1', status: 0x0503 });
  });

  it('says the port does not exist when the hub has fewer ports', async () => {
    const { power } = control([{ args: action('1-1', 7, 'off'), result: uhubctlFixture('ppps-wrong-port', 0) }], { port: 7 });
    const err = await failure(power.off());
    expect(err.code).toBe(POWER_ERROR.noPort);
    expect(err.message).toContain('hub 1-1 (04b4:6570 USB2.0 Hub, USB 2.00, 4 ports, ppps) has 4 ports, so port 7 does not exist');
    expect(err.data['portCount']).toBe(4);
  });
});

describe('UhubctlPowerControl on a USB 3 hub (two hubs in one)', () => {
  it('checks the port on both the USB 2 half and the SuperSpeed half', async () => {
    const { power } = control([
      { args: action('1-1', 2, 'off'), result: uhubctlFixture('usb3-off', 0) },
      { args: action('1-1', 2, 'on'), result: uhubctlFixture('usb3-on', 0) },
    ]);
    await power.off();
    await power.on();
  });

  it('fails if one half stayed powered', async () => {
    const out = uhubctlFixture('usb3-off', 0);
    const stuck = { ...out, stdout: out.stdout.replace('  Port 2: 00a0 off', '  Port 2: 02a0 power 5gbps Rx.Detect') };
    const { power } = control([{ args: action('1-1', 2, 'off'), result: stuck }]);
    const err = await failure(power.off());
    expect(err.code).toBe(POWER_ERROR.verifyFailed);
    expect(err.message).toContain('hub 2-1 reports "Port 2: 02a0 power 5gbps Rx.Detect"');
  });
});

describe('UhubctlPowerControl tells what is wrong with the bench', () => {
  it('a ganged hub: lists all hubs with -f and names the switchable one', async () => {
    const { power, runner } = control(
      [
        { args: action('3-4', 2, 'off'), result: uhubctlFixture('ganged-off', 1) },
        { args: ['-f'], result: uhubctlFixture('ganged-force-list', 0) },
      ],
      { hub: '3-4' },
    );
    const err = await failure(power.off());
    expect(err.code).toBe(POWER_ERROR.notSwitchable);
    expect(err.message).toContain('hub 3-4 (1a40:0101 USB 2.0 Hub, USB 2.00, 4 ports, ganged) switches the power of all its ports together (ganged)');
    expect(err.message).toContain('3-1 (2109:2817 VIA Labs, Inc. USB2.0 Hub, USB 2.10, 4 ports, ppps)');
    expect(err.data['powerSwitching']).toBe('ganged');
    expect(runner.calls.map((c) => c.args)).toEqual([action('3-4', 2, 'off'), ['-f']]);
  });

  it('a hub without power switching', async () => {
    const { power } = control(
      [
        { args: action('1-2', 2, 'on'), result: { ...uhubctlFixture('no-hubs', 1), stderr: 'No compatible devices detected at location 1-2!\nRun with -h to get usage info.\n' } },
        { args: ['-f'], result: uhubctlFixture('no-hubs-force-list', 0) },
      ],
      { hub: '1-2' },
    );
    const err = await failure(power.on());
    expect(err.code).toBe(POWER_ERROR.notSwitchable);
    expect(err.message).toContain('has no power switching');
    expect(err.message).toContain('uhubctl sees no hub with per-port power switching on this host');
  });

  it('a wrong location: names the hubs that exist', async () => {
    const { power } = control(
      [
        { args: action('1-9', 2, 'off'), result: uhubctlFixture('wrong-location-off', 1) },
        { args: ['-f'], result: uhubctlFixture('ppps-list', 0) },
      ],
      { hub: '1-9' },
    );
    const err = await failure(power.off());
    expect(err.code).toBe(POWER_ERROR.noHub);
    expect(err.message).toContain('there is no hub at location 1-9');
    expect(err.message).toContain('1-1 (04b4:6570 USB2.0 Hub, USB 2.00, 4 ports, ppps)');
    expect(err.message).toContain('lsusb -t');
  });

  it('no permission: gives the udev rule and does not run anything else', async () => {
    const { power, runner } = control([{ args: action('1-1', 2, 'off'), result: uhubctlFixture('permission', 1) }]);
    const err = await failure(power.off());
    expect(err.code).toBe(POWER_ERROR.permission);
    expect(err.message).toContain('SUBSYSTEM=="usb", DRIVER=="hub|usb", MODE="0664", GROUP="dialout"');
    expect(err.message).toContain('udevadm trigger --attr-match=subsystem=usb');
    expect(runner.calls).toHaveLength(1);
  });

  it('uhubctl not installed: says how to install it on this platform', async () => {
    const linux = await failure(control([{ args: action('1-1', 2, 'off'), behaviour: 'not-found' }]).power.off());
    expect(linux.code).toBe(POWER_ERROR.toolMissing);
    expect(linux.message).toContain('sudo apt install uhubctl');
    expect(linux.cause).toMatchObject({ code: 'LAB_COMMAND_NOT_FOUND' });
    const mac = await failure(control([{ args: action('1-1', 2, 'off'), behaviour: 'not-found' }], { platform: 'darwin' }).power.off());
    expect(mac.message).toContain('brew install uhubctl');
    const notExecutable = await failure(control([{ args: action('1-1', 2, 'off'), behaviour: 'not-permitted' }]).power.off());
    expect(notExecutable.code).toBe(POWER_ERROR.permission);
  });

  it('any other failure: exit code and output', async () => {
    const { power } = control([{ args: action('1-1', 2, 'on'), result: { exitCode: 1, stderr: 'Error initializing USB!\n' } }]);
    const err = await failure(power.on());
    expect(err.code).toBe(POWER_ERROR.commandFailed);
    expect(err.message).toContain('failed with exit code 1: Error initializing USB!');
  });

  it('output it cannot read', async () => {
    const { power } = control([{ args: action('1-1', 2, 'off'), result: { stdout: 'Current status for hub 1-1, vendor 04b4:6570, 4 ports\n   Port 2: 0503 power\n' } }]);
    const err = await failure(power.off());
    expect(err.code).toBe(POWER_ERROR.unreadableOutput);
    expect(err.cause).toBeInstanceOf(PowerControlError);
  });
});

describe('UhubctlPowerControl deadlines', () => {
  it('gives the diagnosis what is left of the one deadline', async () => {
    const clock = manualClock();
    const { power, runner } = control(
      [
        { args: action('1-9', 2, 'off'), result: uhubctlFixture('wrong-location-off', 1), onRun: () => clock.advance(4_000) },
        { args: ['-f'], result: uhubctlFixture('ppps-list', 0) },
      ],
      { hub: '1-9', clock },
    );
    await failure(power.off({ timeoutMs: 5_000 }));
    expect(runner.calls.map((c) => c.timeoutMs)).toEqual([5_000, 1_000]);
  });

  it('times out with the command line when uhubctl hangs, and stops on abort', async () => {
    const hung = control([{ args: action('1-1', 2, 'off'), behaviour: 'hang' }]).power.off({ timeoutMs: 20 });
    await expect(hung).rejects.toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining('uhubctl -l 1-1 -p 2 -a off did not happen within 20 ms') });
    const ac = new AbortController();
    const aborted = control([{ args: action('1-1', 2, 'on'), behaviour: 'hang' }]).power.on({ signal: ac.signal });
    ac.abort(new Error('scenario ended'));
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('rejects a bad configuration up front', () => {
    expect(() => new UhubctlPowerControl({ hub: '1-1 && reboot', port: 2 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    expect(() => new UhubctlPowerControl({ hub: '1-1', port: 2, command: [] })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringContaining('hotplug.command') }));
    expect(() => new UhubctlPowerControl({ hub: '1-1', port: 2, repeat: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });
});
