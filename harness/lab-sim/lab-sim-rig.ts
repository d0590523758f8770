/**
 * The `lab-sim` rig: the lab rig (AgentClient → the device agent, broken latch, artifacts) with the host
 * side reached over USB/IP, and each session's capture taken from the URBs the USB/IP client exchanged.
 * Everything a real bench runs, except the driver and the cable.
 */
import { UsageError } from '../../core/index.js';
import { UsbIpUsbHost, type UsbHost } from '../../host-side/index.js';
import { loadLabConfig, withRunTrace, FileBenchLatch, LabRig } from '../lab/index.js';
import type { LabRunContext } from '../rig.js';
import { UsbIpCapture } from './usbip-capture.js';

/** @throws UsageError INVALID_CONFIG when the run's global setup did not start the lab-sim agent. */
export async function openLabSimRig(run: LabRunContext | undefined): Promise<LabRig> {
  const sim = run?.labSim;
  if (run === undefined || sim === undefined) {
    throw new UsageError('INVALID_CONFIG', 'mode lab-sim runs through its global setup, which starts the device agent: use usbfn-hil run --mode lab-sim');
  }
  const config = withRunTrace(loadLabConfig({ USBFN_HIL_LAB_CONFIG: sim.configPath }));
  const capture = new UsbIpCapture();
  let usb: Promise<UsbHost> | undefined;
  const host = (): Promise<UsbHost> =>
    (usb ??= Promise.resolve(new UsbIpUsbHost({ host: sim.usbip.host, port: sim.usbip.port, trace: capture.trace, pollIntervalMs: 50 })));
  return new LabRig({
    config,
    token: sim.token,
    host,
    capture: () => capture.source(),
    lease: { leaseId: run.leaseId, holder: run.holder, expiresAtMs: run.expiresAtMs },
    latch: new FileBenchLatch(run.latchPath),
    // The simulated device runs at whatever speed a scenario asks for, as in sim.
    speedPerSession: true,
  });
}
