/**
 * globalSetup of the `lab` project: validates the lab configuration before any scenario starts, so a
 * misconfigured lab fails fast with a fix-it message (STYLE.md §2).
 */
import { loadLabConfig } from './lab-config.js';

export default function setup(): void {
  const config = loadLabConfig();
  console.log(
    `usbfn-hil: lab device VID 0x${config.device.vendorId.toString(16).padStart(4, '0')} PID 0x${config.device.productId
      .toString(16)
      .padStart(4, '0')}, agent ${config.agent.url}, hotplug ${config.hotplug.kind}`,
  );
}
