/** The simulated Configuration Manager (issue 3 item 2). See docs/simulator-cm.md. */
export {
  ConfigManagerModel,
  type CmInterfaceSpec,
  type CmRemovalKind,
  type ConfigManagerModelOptions,
} from './config-manager-model.js';
export type { CmHandle } from './cm-handle.js';
export { SimCmRegistration, type CmFilter } from './cm-registration.js';
export {
  type CmDeliveryLogEntry,
  type CmDropMatch,
  type CmFilterType,
  type CmLogEntry,
  type CmPnpLogEntry,
} from './cm-log.js';
export { symbolicLinkFor, instanceIdProblem } from './symbolic-link.js';
