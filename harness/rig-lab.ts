/**
 * The `lab` rig from the lab configuration: the device agent at `agent.url` (token from the environment
 * variable `agent.tokenEnv` names), the host PC's libusb through `NodeUsbHost`, and, in a lab run, the
 * run's lease and broken latch from the global setup (harness/lab-global-setup.ts). See harness/lab/lab-rig.ts
 * and docs/lab-setup.md.
 */
import { loadLabConfig, readAgentToken, withRunTrace, benchCapture, benchPower, FileBenchLatch, LabRig, type LabRigOptions } from './lab/index.js';
import { NodeUsbHost, type UsbHost } from '../host-side/index.js';
import type { LabRunContext } from './rig.js';

/**
 * Opens the lab rig. Validates the lab config and the token first (a clear UsageError, never a timeout).
 * @throws UsageError INVALID_CONFIG
 */
export async function openLabRig(options: { run?: LabRunContext | undefined; overrides?: Partial<LabRigOptions> } = {}): Promise<LabRig> {
  const config = withRunTrace(loadLabConfig());
  const token = readAgentToken(config);
  const { run } = options;
  // One host side for the rig, its power control and its captures (the rig closes it).
  let usb: Promise<UsbHost> | undefined;
  const host = (): Promise<UsbHost> => (usb ??= NodeUsbHost.create());
  return new LabRig({
    config,
    token,
    host,
    power: benchPower(config, host),
    capture: benchCapture(config, host),
    ...(run === undefined
      ? {}
      : {
          lease: { leaseId: run.leaseId, holder: run.holder, expiresAtMs: run.expiresAtMs },
          latch: new FileBenchLatch(run.latchPath),
        }),
    ...options.overrides,
  });
}
