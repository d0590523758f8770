/**
 * `hotplug.kind: 'none'`: the bench cannot unplug the device. Every action rejects with
 * LAB_POWER_NOT_CONFIGURED, so a scenario that needs hotplug on such a bench fails loudly instead of
 * passing without ever unplugging (a lab rig should skip scenarios tagged `hotplug` on such a bench first).
 */
import type { PowerActionOptions, PowerControl } from './power-control.js';
import { POWER_ERROR, PowerControlError } from './power-control-error.js';

export class NonePowerControl implements PowerControl {
  readonly kind = 'none';

  off(_options?: PowerActionOptions): Promise<void> {
    return this.#refuse('off');
  }

  on(_options?: PowerActionOptions): Promise<void> {
    return this.#refuse('on');
  }

  cycle(_options?: PowerActionOptions): Promise<void> {
    return this.#refuse('cycle');
  }

  #refuse(action: string): Promise<never> {
    return Promise.reject(
      new PowerControlError(
        POWER_ERROR.notConfigured,
        `power ${action} is not possible: the lab configuration has hotplug.kind "none". Configure "uhubctl" (a hub with per-port power switching), "exec" (a relay or PDU) or "port-reset" in usbfn-hil.lab.json (docs/bench-hardware.md)`,
        { action },
      ),
    );
  }
}
