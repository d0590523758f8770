/**
 * What the simulated Configuration Manager records: every notification delivery (or its loss) and
 * every PnP operation, stamped with virtual time, so a test or a report can show exactly what the
 * service was told and when. Deterministic: same inputs, same log.
 */
import type { SimulatorError } from '../../core/index.js';

/** The CM_NOTIFY_FILTER_TYPE of a registration, without its prefix (docs/reference/configuration-manager.md#actions). */
export type CmFilterType = 'deviceInterface' | 'deviceHandle' | 'deviceInstance';

/**
 * One notification that was due to a registration.
 * - `delivered`: the callback ran and returned `result`;
 * - `dropped`: lost to an injected {@link ConfigManagerModel.dropNotifications} fault;
 * - `discarded`: the registration was unregistered before the queued notification's turn came.
 * A delivery made while CM_Unregister_Notification was running (it was already queued) has `duringUnregister`.
 */
export interface CmDeliveryLogEntry {
  readonly kind: 'delivery';
  /** Position in the log (0-based), for stable references in reports. */
  readonly seq: number;
  /** Virtual time of the delivery (or of the loss). */
  readonly timeMs: number;
  readonly registrationId: string;
  readonly filterType: CmFilterType;
  readonly action: number;
  readonly actionName: string;
  /** The symbolic link (interface events) or device instance ID (handle and instance events). */
  readonly target: string;
  readonly outcome: 'delivered' | 'dropped' | 'discarded';
  /** What the callback returned (before validation); `undefined` unless delivered without throwing. */
  readonly result: number | undefined;
  /** What the model acted on: ERROR_SUCCESS (0) or ERROR_CANCELLED (1223, only for QUERYREMOVE). */
  readonly effectiveResult: number;
  /** SIM_BAD_CALLBACK_RESULT or SIM_CALLBACK_THREW when the callback misbehaved. */
  readonly error: SimulatorError | undefined;
  /** Delivered after the service called CM_Unregister_Notification, before that call returned. */
  readonly duringUnregister?: true | undefined;
}

/** A PnP operation of the model and how it ended. */
export interface CmPnpLogEntry {
  readonly kind: 'pnp';
  readonly seq: number;
  readonly timeMs: number;
  readonly op: 'add' | 'queryRemove' | 'surpriseRemove' | 'failQueryRemove' | 'customEvent';
  readonly instanceId: string;
  /** `added`, `removed`, `vetoed`, `sent`. */
  readonly outcome: string;
  /** Why, for a veto: which registration returned ERROR_CANCELLED or which handles were still open. */
  readonly detail: string | undefined;
}

/** Every entry of {@link ConfigManagerModel.log}. */
export type CmLogEntry = CmDeliveryLogEntry | CmPnpLogEntry;

/** Which deliveries an injected drop fault matches. */
export interface CmDropMatch {
  /** Only this CM_NOTIFY_ACTION value; any action when absent. */
  readonly action?: number | undefined;
  /** How many matching deliveries are lost (default 1). */
  readonly count?: number | undefined;
}

/**
 * Pending "dropped notification" faults, consumed in the order they were added: a delivery that
 * matches the oldest rule with its action consumes one of that rule's count.
 */
export class DropRules {
  readonly #rules: { action: number | undefined; left: number }[] = [];

  add(match: CmDropMatch): void {
    this.#rules.push({ action: match.action, left: match.count ?? 1 });
  }

  /** True (and one count consumed) when a delivery of `action` is to be lost. */
  consume(action: number): boolean {
    for (let i = 0; i < this.#rules.length; i++) {
      const rule = this.#rules[i]!;
      if (rule.action !== undefined && rule.action !== action) continue;
      rule.left--;
      if (rule.left <= 0) this.#rules.splice(i, 1);
      return true;
    }
    return false;
  }

  /** Faults not yet consumed (for reports: a fault that never fired is usually a scenario bug). */
  get pending(): number {
    let n = 0;
    for (const r of this.#rules) n += r.left;
    return n;
  }

  clear(): void {
    this.#rules.length = 0;
  }
}
