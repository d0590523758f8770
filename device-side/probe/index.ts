/** The device half of first light: `usbfn-hil device probe` (docs/first-light.md). */
export { runDeviceProbe, type DeviceProbeOptions, type DeviceProbeResult } from './device-probe.js';
export {
  newObservations,
  probeFindings,
  recommendedSettings,
  type DeviceObservations,
  type HandshakeAttempt,
  type ObservedBusEvent,
  type ZeroLengthAttempt,
} from './probe-findings.js';
