/**
 * Opens the device's function from the host, the same way in every world (sim today, lab next): find the
 * device, open it, claim the function's interface, wait until the device side reports the host configured
 * it, and (for an agent) read the function's bulk endpoints from the device. All steps share one deadline.
 */
import type { Clock } from '../../core/index.js';
import { HostAgent, type UsbDeviceFilter, type UsbDeviceHandle, type UsbHost } from '../../host-side/index.js';
import { type Deadline, withDeadline } from './deadline.js';
import type { DeviceSide } from '../rig.js';

export interface OpenFunctionOptions {
  readonly host: UsbHost;
  /** The device side: its `whenConfigured` says the host's SET_CONFIGURATION reached the function. */
  readonly device: Pick<DeviceSide, 'whenConfigured'>;
  /** Which device (VID/PID of the function's configuration). */
  readonly filter: UsbDeviceFilter;
  /** bInterfaceNumber of the function. */
  readonly interfaceNumber: number;
  /** The harness clock (virtual in sim): the deadline and the agent's measurements run on it. */
  readonly clock: Clock;
  /** One deadline for all steps together. */
  readonly timeoutMs: number;
  /** Per-transfer timeout of the agent's operations (default: the agent's, 5000 ms). */
  readonly transferTimeoutMs?: number | undefined;
}

const WHAT = 'opening the function from the host';

/**
 * The function opened, its interface claimed and the device configured, within `timeoutMs` in total.
 * @throws TimeoutError when the steps together take longer (the message names the step that was running);
 * LibusbError when the host cannot open or claim it.
 */
export function openFunctionHandle(options: OpenFunctionOptions): Promise<UsbDeviceHandle> {
  return withDeadline(options.clock, options.timeoutMs, WHAT, (d) => claimConfigured(options, d));
}

/**
 * {@link openFunctionHandle}, then a {@link HostAgent} whose bulk endpoints and wMaxPacketSize are read from
 * the device (GET_DESCRIPTOR(CONFIGURATION)), all within `timeoutMs`.
 * @throws TimeoutError, LibusbError as {@link openFunctionHandle}; TestProtocolError when the interface has no
 * bulk pair.
 */
export function openHostAgent(options: OpenFunctionOptions): Promise<HostAgent> {
  return withDeadline(options.clock, options.timeoutMs, WHAT, async (d) => {
    const handle = await claimConfigured(options, d);
    try {
      d.step('read the bulk endpoints (GET_DESCRIPTOR(CONFIGURATION))');
      const agent = await HostAgent.open({
        handle,
        interfaceNumber: options.interfaceNumber,
        clock: options.clock,
        timeoutMs: options.transferTimeoutMs,
        readTimeoutMs: d.remainingMs(),
        signal: d.signal,
      });
      d.check();
      return agent;
    } catch (err) {
      await closeQuietly(handle);
      throw err;
    }
  });
}

async function claimConfigured(o: OpenFunctionOptions, d: Deadline): Promise<UsbDeviceHandle> {
  d.step('find the device');
  const info = await o.host.waitForDevice(o.filter, { timeoutMs: d.remainingMs(), signal: d.signal });
  d.check();
  d.step('open the device');
  const handle = await o.host.open(info, { timeoutMs: d.remainingMs(), signal: d.signal });
  try {
    d.check();
    d.step(`claim interface ${o.interfaceNumber}`);
    await handle.claimInterface(o.interfaceNumber);
    d.check();
    d.step('wait until the device side is configured');
    await o.device.whenConfigured({ timeoutMs: d.remainingMs(), signal: d.signal });
    d.check();
    return handle;
  } catch (err) {
    await closeQuietly(handle);
    throw err;
  }
}

/** Closes a handle the caller will not get; the device may already be gone, which is no news here. */
async function closeQuietly(handle: UsbDeviceHandle): Promise<void> {
  await handle.close().catch(() => undefined);
}
