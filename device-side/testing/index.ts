/** Test doubles of the device-side seams (for unit tests only; never imported by production code). */
export * from './fake-usbfn-port.js';
export { ManualClock, settleEventLoop as settle } from '../../core/index.js';
export * from './generic-usbfn-script.js';
