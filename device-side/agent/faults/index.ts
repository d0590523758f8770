/** Faults a real bench can do on the device: the fault-injecting port decorator and real PnP through pnputil. */
export * from './fault-names.js';
export * from './faulty-usbfn-port.js';
export * from './pnputil.js';
export * from './pnp-runner.js';
