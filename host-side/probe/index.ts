/** The host half of first light: `usbfn-hil probe --vid … --pid …` (docs/first-light.md). */
export { runHostProbe, type HostProbeOptions, type HostProbeResult, type HostProbeStep } from './host-probe.js';
