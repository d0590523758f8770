/**
 * `usbfn-hil doctor`: what this host PC can see over USB and what blocks access to the function.
 */
export * from './doctor.js';
