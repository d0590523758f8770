/**
 * Simulated worlds (harness/world): the builder every simulated world is made with, and its started handle.
 */
export { simWorld, SimWorldBuilder, DEFAULT_SIM_WAIT_MS, type SimServiceOptions } from './sim-world.js';
export { StartedSimWorld, type SimWorldParts } from './started-sim-world.js';
export { LocalDeviceSide } from './local-device-side.js';
export * from './sim-controls.js';
