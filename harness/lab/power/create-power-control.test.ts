import { describe, expect, it } from 'vitest';
import type { UsbDeviceHandle } from '../../../host-side/index.js';
import { createPowerControl, type PowerControlConfig } from './create-power-control.js';
import { ExecPowerControl } from './exec-power-control.js';
import { NonePowerControl } from './none-power-control.js';
import { PortResetPowerControl } from './port-reset-power-control.js';
import { POWER_ERROR } from './power-control-error.js';
import { FakeCommandRunner, uhubctlFixture } from './testing/index.js';
import { UhubctlPowerControl } from './uhubctl-power-control.js';

describe('createPowerControl', () => {
  it('builds the control of each hotplug kind, with the runner it is given', async () => {
    const runner = new FakeCommandRunner([{ file: 'uhubctl', args: ['-l', '1-1', '-p', '2', '-a', 'off'], result: uhubctlFixture('ppps-off', 0) }]);
    const uhubctl = createPowerControl({ kind: 'uhubctl', hub: '1-1', port: 2 }, { runner });
    expect(uhubctl).toBeInstanceOf(UhubctlPowerControl);
    await uhubctl.off();
    expect(runner.pending).toEqual([]);
    expect(createPowerControl({ kind: 'exec', off: ['relay', 'off'], on: ['relay', 'on'] })).toBeInstanceOf(ExecPowerControl);
    expect(createPowerControl({ kind: 'port-reset' }, { getHandle: async () => ({}) as UsbDeviceHandle })).toBeInstanceOf(PortResetPowerControl);
    expect(createPowerControl({ kind: 'none' })).toBeInstanceOf(NonePowerControl);
  });

  it('needs a handle source for port-reset and rejects unknown kinds', () => {
    expect(() => createPowerControl({ kind: 'port-reset' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('getHandle') }));
    expect(() => createPowerControl({ kind: 'usb-relay' } as unknown as PowerControlConfig)).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringContaining('hotplug.kind is "usb-relay"') }),
    );
  });
});

describe('NonePowerControl', () => {
  it('refuses every action and says how to configure one', async () => {
    const none = new NonePowerControl();
    expect(none.kind).toBe('none');
    for (const action of [none.off(), none.on(), none.cycle()]) {
      await expect(action).rejects.toMatchObject({ code: POWER_ERROR.notConfigured, message: expect.stringContaining('hotplug.kind "none"') });
    }
  });
});
