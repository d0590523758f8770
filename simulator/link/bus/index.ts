/**
 * The bus of the simulated link: the {@link VirtualBus} façade and the types its two ends use. The device
 * end drives two of its parts through the façade (`bus.ep0`, `bus.endpoints`); the others (completion
 * time line, faults, capture tap) stay inside.
 */
export { VirtualBus, type BusHostListener, type VirtualBusOptions } from './virtual-bus.js';
export type { ControlPipe } from './control-pipe.js';
export type { PacketEngine } from './packet-engine.js';
export type { BusFunctionController } from './bus-state.js';
export type { EndpointState, PipeConfig } from './packet-engine.js';
export type { UrbMatch, UrbSubmitInfo } from './bus-faults.js';
export { bulkThroughputLimit } from './bus-timing.js';
