/**
 * Typed errors of the bench's power control. All are infrastructure faults (the bench, not the product):
 * codes start with `LAB_POWER_`, and the message has the project's shape
 * `[LAB_POWER_… ] what failed: why. fix.`
 */
import { HarnessError, type ErrorData } from '../../../core/index.js';

/** Stable codes of {@link PowerControlError}. */
export const POWER_ERROR = {
  /** The tool (uhubctl, the exec command) is not installed or not on PATH. */
  toolMissing: 'LAB_POWER_TOOL_MISSING',
  /** The tool may not touch the hub (udev rule or root needed) or may not be executed. */
  permission: 'LAB_POWER_PERMISSION',
  /** No hub at the configured location. */
  noHub: 'LAB_POWER_NO_HUB',
  /** The hub has no such port. */
  noPort: 'LAB_POWER_NO_PORT',
  /** The hub cannot switch one port's power (ganged switching or none). */
  notSwitchable: 'LAB_POWER_NOT_SWITCHABLE',
  /** The action ran but the port status afterwards is not what it should be. */
  verifyFailed: 'LAB_POWER_VERIFY_FAILED',
  /** The command exited with a failure status. */
  commandFailed: 'LAB_POWER_COMMAND_FAILED',
  /** The tool printed something this version of the harness cannot read. */
  unreadableOutput: 'LAB_POWER_UNREADABLE_OUTPUT',
  /** This kind of power control cannot do the action (e.g. hold the device off with a port reset). */
  notSupported: 'LAB_POWER_NOT_SUPPORTED',
  /** No power control is configured (`hotplug.kind: none`). */
  notConfigured: 'LAB_POWER_NOT_CONFIGURED',
  /** The device to reset is not there. */
  deviceGone: 'LAB_POWER_DEVICE_GONE',
} as const;

export type PowerErrorCode = (typeof POWER_ERROR)[keyof typeof POWER_ERROR];

/** A power action failed for a reason of the bench. `[LAB_POWER_NO_PORT] uhubctl -l 1-1 -p 7 -a off failed: ...` */
export class PowerControlError extends HarnessError {
  override readonly name = 'PowerControlError';
  constructor(code: PowerErrorCode, message: string, data: ErrorData = {}, options?: { cause?: unknown }) {
    super(code, `[${code}] ${message}`, data, options);
  }
}
