/**
 * The simulated device exported over USB/IP (docs/usbip.md). The protocol, the server and the client live in
 * host-side/usbip; this folder binds them to a simulation.
 */
export { exportSimulation, type SimulationExportOptions } from './export-simulation.js';
