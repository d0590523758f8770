import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../simulator/index.js';
import { ExecPowerControl, type ExecPowerControlOptions } from './exec-power-control.js';
import { POWER_ERROR } from './power-control-error.js';
import { FakeCommandRunner, type ScriptedCommand } from './testing/index.js';

const OFF = ['usbrelay', 'BITFT_1=0'];
const ON = ['usbrelay', 'BITFT_1=1'];

function control(script: ScriptedCommand[], options: Partial<ExecPowerControlOptions> = {}): { power: ExecPowerControl; runner: FakeCommandRunner; clock: VirtualClock } {
  const runner = new FakeCommandRunner(script);
  const clock = new VirtualClock();
  return { power: new ExecPowerControl({ off: OFF, on: ON, runner, clock, ...options }), runner, clock };
}

describe('ExecPowerControl', () => {
  it('runs the configured argument arrays for off and on, without a shell', async () => {
    const { power, runner } = control([
      { file: 'usbrelay', args: ['BITFT_1=0'] },
      { file: 'usbrelay', args: ['BITFT_1=1'] },
    ]);
    expect(power.kind).toBe('exec');
    await power.off();
    await power.on({ timeoutMs: 2_500 });
    expect(runner.calls.map((c) => [c.file, c.args, c.timeoutMs])).toEqual([
      ['usbrelay', ['BITFT_1=0'], 10_000],
      ['usbrelay', ['BITFT_1=1'], 2_500],
    ]);
  });

  it('cycles as off, the off time on the clock, then on', async () => {
    const at: number[] = [];
    const { power, clock } = control(
      [
        { file: 'usbrelay', args: ['BITFT_1=0'], onRun: () => at.push(clock.now()) },
        { file: 'usbrelay', args: ['BITFT_1=1'], onRun: () => at.push(clock.now()) },
      ],
      { cycleDelayMs: 1_500 },
    );
    await power.cycle();
    expect(at[1]! - at[0]!).toBe(1_500);
  });

  it('uses a cycle command when there is one (e.g. a PDU reboot)', async () => {
    const cycle = ['pduclient', '--daemon', 'localhost', '--hostname', 'pdu1', '--port', '3', '--command', 'reboot'];
    const { power, runner } = control([{ file: 'pduclient', args: cycle.slice(1) }], { cycle });
    await power.cycle();
    expect(runner.pending).toEqual([]);
  });

  it('fails on a non-zero exit with the output, and accepts configured success codes', async () => {
    const { power } = control([{ file: 'usbrelay', args: ['BITFT_1=0'], result: { exitCode: 1, stderr: 'Unable to open device BITFT\n' } }]);
    await expect(power.off()).rejects.toMatchObject({
      code: POWER_ERROR.commandFailed,
      message: expect.stringMatching(/^\[LAB_POWER_COMMAND_FAILED\] power off \(usbrelay BITFT_1=0\) exited with code 1: Unable to open device BITFT\. Run the command by hand/),
      data: { action: 'off', file: 'usbrelay', exitCode: 1 },
    });
    const killed = control([{ file: 'usbrelay', args: ['BITFT_1=1'], result: { exitCode: null, signal: 'SIGSEGV' } }]);
    await expect(killed.power.on()).rejects.toMatchObject({ message: expect.stringContaining('was killed by SIGSEGV and printed nothing') });
    const lenient = control([{ file: 'usbrelay', args: ['BITFT_1=1'], result: { exitCode: 2 } }], { successExitCodes: [0, 2] });
    await lenient.power.on();
  });

  it('says when the command is not installed', async () => {
    const { power } = control([{ file: 'usbrelay', args: ['BITFT_1=1'], behaviour: 'not-found' }]);
    await expect(power.on()).rejects.toMatchObject({ code: POWER_ERROR.toolMissing, message: expect.stringContaining('give its full path in hotplug.on') });
  });

  it('stops a cycle on abort during the off time, before switching on', async () => {
    const ac = new AbortController();
    const { power, runner } = control([{ file: 'usbrelay', args: ['BITFT_1=0'], onRun: () => queueMicrotask(() => ac.abort(new Error('stop'))) }]);
    await expect(power.cycle({ signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(runner.calls).toHaveLength(1);
  });

  it('refuses a cycle whose deadline is shorter than its off time, before switching anything', async () => {
    const { power, runner } = control([], { cycleDelayMs: 5_000 });
    await expect(power.cycle({ timeoutMs: 4_000 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(runner.calls).toEqual([]);
  });

  it('rejects commands that are not argument arrays', () => {
    expect(() => new ExecPowerControl({ off: 'usbrelay BITFT_1=0' as unknown as string[], on: ON })).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringContaining('hotplug.off is "usbrelay BITFT_1=0"') }),
    );
    expect(() => new ExecPowerControl({ off: OFF, on: [] })).toThrow(expect.objectContaining({ message: expect.stringContaining('hotplug.on') }));
    expect(() => new ExecPowerControl({ off: OFF, on: ON, cycle: [''] })).toThrow(expect.objectContaining({ message: expect.stringContaining('hotplug.cycle') }));
    expect(() => new ExecPowerControl({ off: OFF, on: ON, cycleDelayMs: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  });
});
