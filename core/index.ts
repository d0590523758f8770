/**
 * The shared kernel: the ground floor every other folder builds on (docs/architecture.md). It imports
 * nothing from the project: the error family, the `Clock` seam, the USB chapter-9 vocabulary and the
 * test function's wire protocol, which the device side and the host side both speak.
 */
export * from './errors.js';
export * from './error-predicates.js';
export * from './error-json.js';
export * from './clock.js';
export * from './manual-clock.js';
export * from './test-protocol.js';
export * from './probe-protocol.js';
export * from './chapter9.js';
