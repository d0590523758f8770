/** Small helpers shared by the GenericUSBFn model tests. */
import type { UsbDeviceSpeed } from '../../../core/index.js';
import {
  IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS,
} from '../../../device-side/index.js';
import type { SimUsbFnFile } from '../sim-usbfn-port.js';
import type { SimDriverRig } from './sim-driver-rig.js';

/** A USBFNPIPEID input buffer (ULONG, little-endian). */
export function pipeIdBuffer(pipeId: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, pipeId, true);
  return b;
}

/**
 * Lets every pending microtask and one macrotask turn run; the virtual clock fires up to TIMERS_PER_TURN
 * timers meanwhile (simulator/clock/virtual-clock.ts), so a flush is no step of simulated time.
 */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Observes a promise without awaiting it (and without leaving a rejection unhandled). */
export interface Tracked<T> {
  readonly done: boolean;
  readonly value: T | undefined;
  readonly error: unknown;
}

export function track<T>(promise: Promise<T>): Tracked<T> {
  const state: { done: boolean; value: T | undefined; error: unknown } = { done: false, value: undefined, error: undefined };
  promise.then(
    (v) => {
      state.done = true;
      state.value = v;
    },
    (e: unknown) => {
      state.done = true;
      state.error = e;
    },
  );
  return state;
}

/** Opens the rig's function. */
export function openFile(rig: SimDriverRig): Promise<SimUsbFnFile> {
  return rig.port.open(rig.symbolicLink);
}

/** Opens and sends ACTIVATE_USB_BUS. */
export async function openActivated(rig: SimDriverRig): Promise<SimUsbFnFile> {
  const file = await openFile(rig);
  await file.ioctl(IOCTL_GENERICUSBFN_ACTIVATE_USB_BUS, null, null);
  return file;
}

/** Opens, activates, and lets the fake host enumerate (attach, reset at `speed`, configured). */
export async function openConfigured(rig: SimDriverRig, speed: UsbDeviceSpeed = 'high'): Promise<SimUsbFnFile> {
  const file = await openActivated(rig);
  rig.link.enumerate(speed);
  await flush();
  return file;
}
