/**
 * The `PowerControl` seam of the lab world: how the harness takes the device off the host PC's bus and
 * puts it back without a human (docs/bench-hardware.md). One implementation per `hotplug.kind` of the lab
 * configuration: `uhubctl` (VBUS of one hub port), `exec` (a relay or PDU through a user command),
 * `port-reset` (libusb_reset_device: a reset, not a power cut) and `none`.
 *
 * Every action is bounded: `timeoutMs` is one deadline for the whole action (retries and diagnosis
 * included), and `signal` abandons it. A failed action rejects with a typed error (`LAB_POWER_*`,
 * `TIMEOUT`, `ABORTED`) whose message says what is wrong with the bench and how to fix it.
 */

/** Options every power action takes. */
export interface PowerActionOptions {
  readonly signal?: AbortSignal | undefined;
  /** One deadline for the whole action. Default: the implementation's (e.g. 10 s, plus the off time of a cycle). */
  readonly timeoutMs?: number | undefined;
}

/** Switches the power (or the port) of the device under test. */
export interface PowerControl {
  /** `uhubctl`, `exec`, `port-reset` or `none`: the lab configuration's `hotplug.kind`. */
  readonly kind: string;
  /**
   * Removes power: the device detaches from the host.
   * @throws PowerControlError LAB_POWER_* (bench problem, with the fix); TimeoutError; AbortedError.
   */
  off(options?: PowerActionOptions): Promise<void>;
  /**
   * Restores power: the device attaches again and enumerates (waiting for it is the caller's job).
   * @throws PowerControlError LAB_POWER_*; TimeoutError; AbortedError.
   */
  on(options?: PowerActionOptions): Promise<void>;
  /**
   * Off, a pause, on: one re-enumeration of the device.
   * @throws PowerControlError LAB_POWER_*; TimeoutError; AbortedError.
   */
  cycle(options?: PowerActionOptions): Promise<void>;
}
