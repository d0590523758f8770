/**
 * Real PnP on the function's devnode through `pnputil` (Windows 10 version 2004 and later have
 * `/disable-device`, `/enable-device` and `/restart-device`): the command builder, the parser of its help
 * text (which verbs this Windows build offers) and of its results, and the devnode's instance id derived
 * from the symbolic link the service opened.
 *
 * @see https://learn.microsoft.com/windows-hardware/drivers/devtest/pnputil-command-syntax
 */
import { win32ErrorName } from '../../abi/index.js';
import { AgentError } from '../agent-error.js';

/** The PnP faults of the protocol (`FaultRequest` kind `pnp`). */
export type PnpVerb = 'disable' | 'enable' | 'restart';

/** The pnputil switch of each verb. */
export const PNPUTIL_SWITCH: Readonly<Record<PnpVerb, string>> = {
  disable: '/disable-device',
  enable: '/enable-device',
  restart: '/restart-device',
};

/** The executable (in %windir%\System32, on the PATH of every Windows). */
export const PNPUTIL = 'pnputil.exe';

/** winerror.h ERROR_SUCCESS_REBOOT_REQUIRED: pnputil's exit code when the change needs a reboot. */
export const ERROR_SUCCESS_REBOOT_REQUIRED = 3010;

/** What one pnputil run printed and returned. */
export interface PnputilOutput {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A pnputil run that succeeded. */
export interface PnpOutcome {
  readonly verb: PnpVerb;
  readonly instanceId: string;
  /** Exit code 3010: Windows applies the change only after a reboot (the fault did not happen now). */
  readonly rebootRequired: boolean;
  /** The last line pnputil printed (e.g. `Device restarted successfully.`). */
  readonly summary: string;
}

/** The argument vector of `pnputil <switch> <instance id>` (run without a shell, so no quoting is needed). */
export function pnputilCommand(verb: PnpVerb, instanceId: string): { readonly file: string; readonly args: readonly string[] } {
  return { file: PNPUTIL, args: [PNPUTIL_SWITCH[verb], instanceId] };
}

/** The verbs whose switch appears in `pnputil /?` (older builds lack the device verbs). */
export function parsePnputilVerbs(helpText: string): PnpVerb[] {
  const text = helpText.toLowerCase();
  return (Object.keys(PNPUTIL_SWITCH) as PnpVerb[]).filter((v) => new RegExp(`(^|[\\s\\[|])${PNPUTIL_SWITCH[v]}(?![\\w-])`).test(text));
}

const lines = (s: string): string[] =>
  s
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^microsoft pnp utility$/i.test(l));

/**
 * The outcome of `pnputil <verb> <instance id>`: exit code 0 is success, 3010 success after a reboot (the
 * fault did not happen now, so it is an error here), anything else a failure whose text pnputil printed.
 * ASSUMPTION: success and failure are told by the exit code alone; the printed lines are only shown.
 * @throws AgentError LAB_AGENT_PNP_FAILED with pnputil's own words.
 */
export function parsePnputilResult(verb: PnpVerb, instanceId: string, out: PnputilOutput): PnpOutcome {
  const printed = [...lines(out.stdout), ...lines(out.stderr)];
  const summary = printed.at(-1) ?? '(no output)';
  if (out.exitCode === 0) return { verb, instanceId, rebootRequired: false, summary };
  const name = win32ErrorName(out.exitCode);
  const why = out.exitCode === ERROR_SUCCESS_REBOOT_REQUIRED ? 'Windows applies it only after a reboot, so the devnode did not change now' : printed.join(' / ') || 'no output';
  const fix =
    out.exitCode === 5 || /access is denied/i.test(why)
      ? 'Run the agent elevated (an administrator account, as its scheduled task does in docs/lab-setup.md).'
      : out.exitCode === ERROR_SUCCESS_REBOOT_REQUIRED
        ? 'This devnode cannot be changed without a reboot on this bench: tag the bench without PnP faults.'
        : "Check the devnode with `pnputil /enum-devices /instanceid \"<id>\"`; the function's USBFN registry configuration may be missing.";
  throw new AgentError(
    'LAB_AGENT_PNP_FAILED',
    `pnputil ${PNPUTIL_SWITCH[verb]} "${instanceId}" exited with ${out.exitCode}${name === 'UNKNOWN_WIN32_ERROR' ? '' : ` (${name})`}: ${why}`,
    fix,
    { verb, instanceId, exitCode: out.exitCode },
  );
}

/**
 * The device instance id of the devnode behind a device-interface symbolic link:
 * `\\?\USBFN#UsbfnHilLoopback#5&1a2b3c&0&0#{guid}` → `USBFN\UsbfnHilLoopback\5&1a2b3c&0&0`.
 * ASSUMPTION: the link is `\\?\` + the instance id with `\` written as `#` + `#{interface class GUID}` (+ an
 * optional `\reference string`), the form Windows gives device interfaces; instance ids hold no `#`.
 * @throws AgentError LAB_AGENT_BAD_REQUEST for a link of another form.
 */
export function instanceIdFromSymbolicLink(symbolicLink: string): string {
  const m = /^\\\\[?.]\\(.+)#\{[0-9a-f-]{36}\}(\\.*)?$/i.exec(symbolicLink);
  const id = m?.[1];
  if (id === undefined || !id.includes('#')) {
    throw new AgentError(
      'LAB_AGENT_BAD_REQUEST',
      `cannot derive the devnode's instance id from the symbolic link '${symbolicLink}': it is not of the form \\\\?\\<enumerator>#<device id>#<instance>#{GUID}`,
      'Report the link with the agent log: PnP faults need the instance id of the function devnode.',
      { symbolicLink },
    );
  }
  return id.replaceAll('#', '\\');
}
