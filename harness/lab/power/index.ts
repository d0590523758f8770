/**
 * Power control of the lab bench (host PC side): VBUS of a hub port with uhubctl, a relay or PDU through a
 * user command, a libusb port reset, or none. docs/bench-hardware.md tells how to set a bench up.
 */
export type { PowerActionOptions, PowerControl } from './power-control.js';
export { POWER_ERROR, PowerControlError, type PowerErrorCode } from './power-control-error.js';
export {
  COMMAND_ERROR,
  CommandError,
  ExecFileCommandRunner,
  formatCommand,
  tail,
  type CommandErrorCode,
  type CommandResult,
  type CommandRunner,
  type CommandRunOptions,
  type ExecFileCommandRunnerOptions,
} from './command-runner.js';
export { checkCommand } from './check-command.js';
export { Deadline } from './deadline.js';
export { checkHubPort, UHUBCTL_MAX_PORT, uhubctlActionArgs, uhubctlStatusArgs, type UhubctlAction, type UhubctlActionArgs } from './uhubctl-command.js';
export {
  hubsOf,
  parseUhubctlDescription,
  parseUhubctlOutput,
  USB_PORT_STAT_CONNECTION,
  USB_PORT_STAT_POWER,
  USB_SS_PORT_STAT_POWER,
  type PowerSwitching,
  type UhubctlDeviceDescription,
  type UhubctlHubDescription,
  type UhubctlHubStatus,
  type UhubctlOutput,
  type UhubctlPortStatus,
} from './uhubctl-output.js';
export {
  UHUBCTL_DEFAULT_CYCLE_DELAY_MS,
  UHUBCTL_DEFAULT_TIMEOUT_MS,
  UHUBCTL_PERMISSION_FIX,
  UHUBCTL_UDEV_RULES,
  UhubctlPowerControl,
  uhubctlInstallFix,
  type UhubctlPortReport,
  type UhubctlPowerControlOptions,
} from './uhubctl-power-control.js';
export { listUhubctlHubs, type ListUhubctlHubsOptions, type UhubctlListing } from './uhubctl-hubs.js';
export { uhubctlDoctorCheck, type UhubctlDoctorCheckOptions } from './uhubctl-doctor-check.js';
export { ExecPowerControl, type ExecPowerControlOptions } from './exec-power-control.js';
export { PortResetPowerControl, type PortResetPowerControlOptions } from './port-reset-power-control.js';
export { NonePowerControl } from './none-power-control.js';
export { createPowerControl, type PowerControlConfig, type PowerControlDeps } from './create-power-control.js';
