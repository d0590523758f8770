/**
 * The host PC's half of a bench: finding the function on the host's USB, checking that the host port
 * negotiated the bench's configured speed, and opening it as a `HostAgent` (shared by the lab rig and
 * `usbfn-hil bench check`).
 */
import { BULK_MAX_PACKET_SIZE, type Clock } from '../../core/index.js';
import { HostAgent, type UsbDeviceFilter, type UsbDeviceHandle, type UsbDeviceInfo, type UsbHost } from '../../host-side/index.js';
import type { LabConfig } from './lab-config.js';
import type { Deadline } from './deadline.js';
import { LabBenchError } from './lab-agent-error.js';

const hex4 = (v: number): string => `0x${v.toString(16).padStart(4, '0')}`;

/** `VID 0x1209 PID 0x0001 serial LAB-01`, for messages. */
export function describeDevice(config: LabConfig): string {
  const { vendorId, productId, serialNumber } = config.device;
  return `VID ${hex4(vendorId)} PID ${hex4(productId)}${serialNumber === undefined ? '' : ` serial ${serialNumber}`}`;
}

/** The host-side filter of the bench's device. */
export function deviceFilter(config: LabConfig): UsbDeviceFilter {
  return { vendorId: config.device.vendorId, productId: config.device.productId, serialNumber: config.device.serialNumber };
}

/**
 * Checks that the host enumerated the device at the bench's speed.
 * @throws LabBenchError LAB_BENCH_SPEED_MISMATCH (an infrastructure fault: cable, hub or port, not the product)
 */
export function checkBenchSpeed(config: LabConfig, info: UsbDeviceInfo): void {
  if (info.speed === config.bench.speed) return;
  throw new LabBenchError('LAB_BENCH_SPEED_MISMATCH', {
    what: `${describeDevice(config)} on host port ${info.id}`,
    why: `the host negotiated ${info.speed} speed, but bench ${config.bench.id} is configured for ${config.bench.speed} speed (bench.speed)`,
    fix:
      info.speed === 'full' || info.speed === 'low'
        ? 'Check the cable and any hub between host and device (a USB 1.1 hub or a bad cable falls back to full speed), or set bench.speed to what this port really gives'
        : 'Check that the device is on the intended port (a USB 2 hub or cable in a SuperSpeed path gives high speed), or set bench.speed to what this port really gives',
    data: { negotiated: info.speed, configured: config.bench.speed, port: info.id },
  });
}

export interface OpenedFunction {
  readonly info: UsbDeviceInfo;
  readonly handle: UsbDeviceHandle;
  readonly agent: HostAgent;
}

/**
 * Waits for the device on the host, checks its speed, opens it and claims the function's interface, all
 * within one deadline. The caller waits for "configured" on the device side before transfers.
 * @throws TimeoutError (not enumerated), LabBenchError LAB_BENCH_SPEED_MISMATCH, LibusbError (open/claim)
 */
export async function openBenchFunction(args: { host: UsbHost; config: LabConfig; clock: Clock; deadline: Deadline; signal?: AbortSignal | undefined }): Promise<OpenedFunction> {
  const { host, config, deadline } = args;
  // One deadline for the whole opening: each step gets what is left of it.
  const info = await host.waitForDevice(deviceFilter(config), { timeoutMs: Math.round(deadline.remainingMs()), signal: args.signal });
  checkBenchSpeed(config, info);
  const handle = await host.open(info, { timeoutMs: Math.max(1, Math.round(deadline.remainingMs())), signal: args.signal });
  try {
    await handle.claimInterface(config.function.interfaceNumber);
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
  const speed = info.speed === 'low' ? 'full' : info.speed;
  const agent = new HostAgent({
    handle,
    interfaceNumber: config.function.interfaceNumber,
    bulkOutEndpoint: config.function.bulkOut,
    bulkInEndpoint: config.function.bulkIn,
    maxPacketSize: BULK_MAX_PACKET_SIZE[speed],
    clock: args.clock,
  });
  return { info, handle, agent };
}
