/**
 * The simulated USB link (docs/simulator-link.md): the bus, its host end and its device end, and the
 * contract between them.
 *
 * Inside, imports run one way: link-contract.ts ← bus/ ← {host-end/, device-end/} ← testing/ ← this file.
 */
export {
  UfxAbort,
  type UfxAbortReason,
  type UfxRequest,
  type LinkDeviceTransfer,
  type LinkUrb,
  type UrbOutcome,
  type UrbTransferKind,
} from './link-contract.js';
export {
  VirtualBus,
  bulkThroughputLimit,
  type BusFunctionController,
  type BusHostListener,
  type EndpointState,
  type PipeConfig,
  type UrbMatch,
  type UrbSubmitInfo,
  type VirtualBusOptions,
} from './bus/index.js';
export * from './host-end/index.js';
export * from './device-end/index.js';
export * from './testing/index.js';
