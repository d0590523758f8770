/**
 * The service's lifecycle states (the interface watcher's, since the watcher owns the handle) and the error
 * a guard throws when a call does not fit the state.
 */
import { HarnessError } from '../../core/index.js';

/** Where the service is in its lifecycle. */
export type ServiceState =
  /** Constructed, not started. */
  | 'idle'
  /** Registered for arrival; no interface open. */
  | 'waitingForInterface'
  /** CreateFileW → handle registration → GET_CLASS_INFO → ACTIVATE_USB_BUS in progress. */
  | 'opening'
  /** Handle open, bus activated, bus-event loop running. */
  | 'active'
  /** Handle closed in answer to QUERYREMOVE; waiting for REMOVECOMPLETE or QUERYREMOVEFAILED. */
  | 'closedForRemoval'
  | 'stopping'
  | 'stopped';

/** A guard failed: the service was asked to do something its state does not allow. */
export class ServiceStateError extends HarnessError {
  override readonly name = 'ServiceStateError';
  constructor(action: string, expected: readonly ServiceState[], actual: ServiceState) {
    super(
      'SERVICE_STATE',
      `[SERVICE_STATE] ${action} needs the service in state ${expected.join(' or ')}, but it is '${actual}'`,
      { action, expected: [...expected], actual },
    );
  }
}
