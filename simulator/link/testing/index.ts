/** A whole simulated link for tests and the UsbHost contract: `startSimLink`, with a fake loopback class driver. */
export * from './fake-loopback-class-driver.js';
export * from './sim-link.js';
