/**
 * The agent's service worker: the supervised process (or in-process host) that runs the device-side service
 * over the backend's port, and the IPC messages between it and the control process.
 */
export * from './worker-protocol.js';
export * from './worker-supervisor.js';
export { jsonSafe } from './json-safe.js';
