/** Test doubles of the device-side seams (for unit tests only; never imported by production code). */
export * from './fake-usbfn-port.js';
export * from './manual-clock.js';
export * from './generic-usbfn-script.js';
