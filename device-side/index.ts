/**
 * The public API of device-side (STYLE.md §3: other folders import only this file).
 * A plain list of re-exports; each area adds its own lines.
 */
export * from './abi/index.js';
export * from './usbfn-port.js';
export * from './usbfn-client.js';
export * from './list-interfaces.js';
