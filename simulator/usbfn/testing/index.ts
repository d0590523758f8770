/** Test doubles and helpers for the GenericUSBFn model's unit tests (a fake UFX link, a fixture configuration, a driver rig). */
export * from './fake-ufx-link.js';
export * from './fixture-config.js';
export * from './io-helpers.js';
export * from './sim-driver-rig.js';
