/**
 * Builds the {@link PowerControl} a bench's `hotplug` configuration asks for.
 */
import { UsageError, type Clock } from '../../../core/index.js';
import type { CommandRunner } from './command-runner.js';
import { ExecPowerControl, type ExecPowerControlOptions } from './exec-power-control.js';
import { NonePowerControl } from './none-power-control.js';
import { PortResetPowerControl, type PortResetPowerControlOptions } from './port-reset-power-control.js';
import type { PowerControl } from './power-control.js';
import { UhubctlPowerControl, type UhubctlPowerControlOptions } from './uhubctl-power-control.js';

/** The `hotplug` section of a bench's configuration. */
export type PowerControlConfig =
  | { readonly kind: 'none' }
  | ({ readonly kind: 'uhubctl' } & Omit<UhubctlPowerControlOptions, 'runner' | 'clock' | 'platform'>)
  | ({ readonly kind: 'exec' } & Omit<ExecPowerControlOptions, 'runner' | 'clock'>)
  | ({ readonly kind: 'port-reset' } & Omit<PortResetPowerControlOptions, 'getHandle' | 'clock'>);

/** What the implementations need from the rig. */
export interface PowerControlDeps {
  readonly runner?: CommandRunner | undefined;
  readonly clock?: Clock | undefined;
  /** Required for `port-reset`: the open handle of the device under test. */
  readonly getHandle?: PortResetPowerControlOptions['getHandle'] | undefined;
}

/**
 * @throws UsageError INVALID_CONFIG for an unknown kind or bad settings (the message names the field).
 * @example createPowerControl({ kind: 'uhubctl', hub: '1-1', port: 2 })
 */
export function createPowerControl(config: PowerControlConfig, deps: PowerControlDeps = {}): PowerControl {
  switch (config.kind) {
    case 'none':
      return new NonePowerControl();
    case 'uhubctl':
      return new UhubctlPowerControl({ ...config, runner: deps.runner, clock: deps.clock });
    case 'exec':
      return new ExecPowerControl({ ...config, runner: deps.runner, clock: deps.clock });
    case 'port-reset':
      if (deps.getHandle === undefined) {
        throw new UsageError('INVALID_ARGUMENT', 'hotplug.kind "port-reset" needs a way to get the device handle: pass deps.getHandle (the rig\'s open handle of the device under test)');
      }
      return new PortResetPowerControl({ ...config, getHandle: deps.getHandle, clock: deps.clock });
    default: {
      const kind: unknown = (config as { kind: unknown }).kind;
      throw new UsageError('INVALID_CONFIG', `hotplug.kind is ${JSON.stringify(kind)}: use "none", "uhubctl", "exec" or "port-reset"`, { field: 'hotplug.kind' });
    }
  }
}
