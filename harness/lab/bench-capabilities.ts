/**
 * What a lab bench may offer besides the device agent and the host's USB stack, as small interfaces the
 * `LabRig` takes: power control of the device's connection (uhubctl, a relay, a PDU) and a capture of the
 * host's USB traffic (usbmon on Linux, USBPcap on Windows). Implementations live next to this file
 * (power/, capture/); a bench without one simply does not pass it, and scenarios that need it are skipped
 * with the reason.
 */

/** Options every bench action takes. */
export interface BenchActionOptions {
  readonly signal?: AbortSignal | undefined;
}

/**
 * Cuts and restores the device's connection without a human (the lab config's `hotplug`).
 * @throws HarnessError when the action could not be carried out (the rig reports it as an infrastructure fault).
 */
export interface PowerControl {
  /** Which mechanism this is, for reports: `uhubctl`, `exec`, `port-reset`. */
  readonly kind: string;
  /** Disconnects the device (VBUS off, relay open, ...), resolving once the action is done. */
  off(options?: BenchActionOptions): Promise<void>;
  /** Reconnects the device, resolving once the action is done (enumeration is awaited by the caller). */
  on(options?: BenchActionOptions): Promise<void>;
  /** Off, then on. */
  cycle(options?: BenchActionOptions): Promise<void>;
}

/** The outcome of a host capture: the pcap bytes, or why there are none. */
export type HostCaptureResult = { readonly pcap: Uint8Array } | { readonly unavailable: string };

/** A capture of the host's USB traffic for one session (attached to the report as a pcap). */
export interface HostCaptureSource {
  /** Starts capturing the device's bus. @throws HarnessError when capture cannot start */
  start(options?: BenchActionOptions): Promise<void>;
  /** Stops and hands back the capture (usbmon pcap, LINKTYPE 220), or the reason there is none. Never throws. */
  stop(): Promise<HostCaptureResult>;
}
