/**
 * Public API of the harness: what scenarios and users import.
 */
export { test, expect, describe } from './fixtures.js';
export { phase, param, attachCapture, attachJson, PCAP_CONTENT_TYPE } from './allure.js';
export { openRig, type DeviceSide, type DeviceStatus, type Mode, type Rig, type Session, type SessionCapture, type TestFunctionKind, type WorldOptions } from './rig.js';
export { SimControls, type SimEndpointState, type UrbStep } from './sim-controls.js';
export { RealClock, withTimeout, delay, type Clock } from './clock.js';
export * from './errors.js';
export { formatSeed, parseSeed, scenarioSeed, SEED_ENV } from './seed.js';
export { loadLabConfig, validateLabConfig, type LabConfig } from './lab-config.js';
export { assumption } from './assumption.js';
export { eventually } from './eventually.js';
