/**
 * The `lab` rig: a real Windows USB function device reached through its device agent, and the host PC's
 * libusb through `NodeUsbHost`.
 *
 * The device agent (the RPC endpoint on the device that runs the device-side service over
 * `Win32UsbFnPort`) is the next wave's work; until it exists a lab run stops here, after validating the lab
 * configuration, with an infrastructure error that says so — never a silent pass.
 */
import { ModeNotSupportedError } from '../core/index.js';
import { loadLabConfig } from './lab-config.js';
import type { Rig } from './rig.js';

export async function openLabRig(): Promise<Rig> {
  const config = loadLabConfig();
  throw new ModeNotSupportedError(
    `the lab rig (device agent at ${config.agent.url})`,
    'lab',
    'the device agent that runs the device-side service on the Windows device is not part of this release; ' +
      'run the suite in mode sim, or drive the device side directly with Win32UsbFnPort (docs/win32-backend.md)',
  );
}
