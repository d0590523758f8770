/**
 * The USB function's configuration as the simulator sees it: the USBFN registry configuration
 * (usbfn-config.ts), the test function's configuration, and the descriptor builders (kept independent of
 * host-side's parsers on purpose, so two agreeing bugs cannot hide each other).
 */
export * from './usbfn-config.js';
export * from './test-function-config.js';
export * from './descriptors.js';
