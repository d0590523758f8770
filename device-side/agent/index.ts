/**
 * The device agent (`usbfn-hil agent serve`): the process on the Windows device through which the harness
 * reaches the device side in lab. Its protocol is shared with the harness; the server loads lazily.
 */
export * from './protocol/index.js';
