/**
 * `hotplug.kind: 'port-reset'`: the fallback when the bench has no switchable power. `cycle()` resets the
 * device's port through libusb (`UsbDeviceHandle.reset()`, libusb_reset_device), which makes the device
 * re-enumerate without losing VBUS. It is a reset, not a power cut: the device never sees a detach, so
 * `off()` cannot be honoured and scenarios that need the device held off must be skipped on such a bench.
 * `on()` has nothing to do (a reset never removes power) and resolves.
 * @see docs/bench-hardware.md
 */
import { AbortedError, LibusbError, RealClock, withTimeout, type Clock } from '../../../core/index.js';
import type { UsbDeviceHandle } from '../../../host-side/index.js';
import type { PowerActionOptions, PowerControl } from './power-control.js';
import { POWER_ERROR, PowerControlError } from './power-control-error.js';

export interface PortResetPowerControlOptions {
  /**
   * The open handle of the device under test (the rig's current one). Called on every `cycle()`; the
   * handle is not closed here.
   */
  readonly getHandle: (options: { signal?: AbortSignal | undefined; timeoutMs: number }) => Promise<UsbDeviceHandle>;
  /** Deadline of one reset when the caller gives none. Default 10000. */
  readonly timeoutMs?: number | undefined;
  readonly clock?: Clock | undefined;
}

/** Port reset through libusb in place of a power cycle. */
export class PortResetPowerControl implements PowerControl {
  readonly kind = 'port-reset';
  readonly #getHandle: PortResetPowerControlOptions['getHandle'];
  readonly #timeoutMs: number;
  readonly #clock: Clock;

  constructor(options: PortResetPowerControlOptions) {
    this.#getHandle = options.getHandle;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#clock = options.clock ?? new RealClock();
  }

  /** @throws PowerControlError LAB_POWER_NOT_SUPPORTED: a port reset cannot hold the device off. */
  off(_options?: PowerActionOptions): Promise<void> {
    return Promise.reject(
      new PowerControlError(
        POWER_ERROR.notSupported,
        'power off is not possible with hotplug.kind "port-reset": a libusb port reset re-enumerates the device but cannot keep it off the bus. Use a hub with per-port power switching (kind "uhubctl") or a relay/PDU (kind "exec"), or skip scenarios that need the device unplugged',
        { kind: this.kind },
      ),
    );
  }

  /** Nothing to do: a port reset never removes power. */
  on(options: PowerActionOptions = {}): Promise<void> {
    if (options.signal?.aborted) return Promise.reject(new AbortedError('power on (port-reset)', options.signal.reason));
    return Promise.resolve();
  }

  /**
   * Resets the port (libusb_reset_device). Resolves once the reset is done; when the device came back as a
   * new device (LIBUSB_ERROR_NOT_FOUND: the handle is no longer valid) it resolves too, and the caller
   * reopens the device as after any re-enumeration.
   * @throws PowerControlError LAB_POWER_DEVICE_GONE when there is no device to reset; LibusbError for
   * other reset failures; TimeoutError; AbortedError.
   */
  async cycle(options: PowerActionOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const start = this.#clock.now();
    const left = (): number => Math.max(1, timeoutMs - (this.#clock.now() - start));
    const reset = async (): Promise<void> => {
      const handle = await this.#getHandle({ signal: options.signal, timeoutMs: left() });
      try {
        await handle.reset({ timeoutMs: left(), signal: options.signal });
      } catch (err) {
        if (err instanceof LibusbError && err.libusbName === 'LIBUSB_ERROR_NOT_FOUND') return;
        if (err instanceof LibusbError && err.libusbName === 'LIBUSB_ERROR_NO_DEVICE') {
          throw new PowerControlError(POWER_ERROR.deviceGone, 'port reset failed: the device is not on the bus (LIBUSB_ERROR_NO_DEVICE). Check the cable and that the device-side service is running', { kind: this.kind }, { cause: err });
        }
        throw err;
      }
    };
    await withTimeout(this.#clock, reset(), 'port reset (libusb_reset_device)', timeoutMs, { signal: options.signal });
  }
}
