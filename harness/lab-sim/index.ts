/**
 * The `lab-sim` world: the lab code path (device agent process, AgentClient, LabRig) over a simulated device
 * exported on USB/IP, so CI runs everything a bench runs except the driver and the cable.
 */
export { openLabSimRig } from './lab-sim-rig.js';
export { freePort, startLabSimAgent, type LabSimAgent } from './lab-sim-agent.js';
export { SessionUsbHost } from './session-usb-host.js';
export { UsbIpCapture } from './usbip-capture.js';
