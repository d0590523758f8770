/**
 * Reads what `uhubctl` (2.3.0 or later) prints: hub status blocks and the power requests it sent.
 *
 *   Current status for hub 1-1 [2109:2817 VIA Labs, Inc. USB2.0 Hub, USB 2.10, 4 ports, ppps]
 *     Port 2: 0503 power highspeed enable connect [1209:0001 usbfn-hil Loopback LAB-01]
 *   Sent power off request
 *   New status for hub 1-1 [2109:2817 VIA Labs, Inc. USB2.0 Hub, USB 2.10, 4 ports, ppps]
 *     Port 2: 0000 off
 *
 * The hex word is wPortStatus (USB 2.0 §11.24.2.7.1; USB 3.2 §10.16.2.6.1 for SuperSpeed hubs, where the power
 * bit moves from 0x0100 to 0x0200). The hub description is `VID:PID [manufacturer] [product] [serial]`, then
 * `, USB x.yy, N ports, ppps|ganged|nops` (the hub descriptor's wHubCharacteristics logical power switching
 * mode: per-port, ganged, none) when uhubctl could open the hub.
 * @see https://github.com/mvp/uhubctl (uhubctl.c: print_port_status, get_device_description)
 */
import { POWER_ERROR, PowerControlError } from './power-control-error.js';

/** wPortStatus PORT_POWER of a USB 2.0 hub port (USB 2.0 Table 11-21). */
export const USB_PORT_STAT_POWER = 0x0100;
/** wPortStatus PORT_POWER of a SuperSpeed hub port (USB 3.2 Table 10-13). */
export const USB_SS_PORT_STAT_POWER = 0x0200;
/** wPortStatus PORT_CONNECTION (both tables). */
export const USB_PORT_STAT_CONNECTION = 0x0001;

/** The hub descriptor's logical power switching mode, as uhubctl names it. */
export type PowerSwitching = 'ppps' | 'ganged' | 'nops';

/** A device as uhubctl describes it: `VID:PID` and its strings. */
export interface UhubctlDeviceDescription {
  readonly vendorId: number;
  readonly productId: number;
  /** Manufacturer, product and serial strings as one text (may be empty). */
  readonly strings: string;
  /** The whole description as printed. */
  readonly text: string;
}

export interface UhubctlHubDescription extends UhubctlDeviceDescription {
  /** bcdUSB as printed (`2.10`, `3.00`); undefined when uhubctl could not read the hub descriptor. */
  readonly usbVersion?: string | undefined;
  readonly portCount?: number | undefined;
  readonly powerSwitching?: PowerSwitching | undefined;
  /** bcdUSB ≥ 3.00: a SuperSpeed hub, whose port status uses the SuperSpeed bit layout. */
  readonly superSpeed: boolean;
}

export interface UhubctlPortStatus {
  readonly port: number;
  /** wPortStatus. */
  readonly status: number;
  /** The words uhubctl printed after the status (`power`, `highspeed`, `enable`, `connect`, `off`, `Rx.Detect`, ...). */
  readonly words: readonly string[];
  /** The port power bit for the hub's kind (0x0100, or 0x0200 on a SuperSpeed hub). */
  readonly powered: boolean;
  readonly connected: boolean;
  /** The attached device, when uhubctl printed one. */
  readonly device?: UhubctlDeviceDescription | undefined;
  /** The line as printed, for messages. */
  readonly line: string;
}

export interface UhubctlHubStatus {
  /** `Current status` (before an action, or a listing) or `New status` (after a power request). */
  readonly phase: 'current' | 'new';
  /** uhubctl's hub location: `<bus>` for a root hub, `<bus>-<port>[.<port>...]` otherwise. */
  readonly location: string;
  readonly hub: UhubctlHubDescription;
  readonly ports: readonly UhubctlPortStatus[];
  /** The power request (`Sent power on|off request`) a `new` block follows; undefined for `current` blocks. */
  readonly after?: 'on' | 'off' | undefined;
}

export interface UhubctlOutput {
  /** Status blocks in the order printed. */
  readonly blocks: readonly UhubctlHubStatus[];
  /** `Sent power on|off request` lines, in order. */
  readonly sent: readonly ('on' | 'off')[];
}

const HUB_LINE = /^(Current|New) status for hub (\S+) \[(.*)\]\s*$/;
const PORT_LINE = /^\s+Port (\d+): ([0-9a-fA-F]{4})((?: [^\s[\]]+)*)(?: \[(.*)\])?\s*$/;
const SENT_LINE = /^Sent power (on|off) request\s*$/;
const DESCRIPTION = /^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})(.*?)(?:, USB ([0-9a-fA-F]+\.[0-9a-fA-F]{2}), (\d+) ports(?:, (ppps|ganged|nops))?)?$/;

/** Parses `VID:PID strings[, USB x.yy, N ports, mode]`; undefined when the text is not such a description. */
export function parseUhubctlDescription(text: string): UhubctlHubDescription | undefined {
  const m = DESCRIPTION.exec(text.trim());
  if (m === null) return undefined;
  const usbVersion = m[4];
  return {
    vendorId: Number.parseInt(m[1]!, 16),
    productId: Number.parseInt(m[2]!, 16),
    strings: (m[3] ?? '').trim(),
    text: text.trim(),
    usbVersion,
    portCount: m[5] === undefined ? undefined : Number(m[5]),
    powerSwitching: m[6] as PowerSwitching | undefined,
    superSpeed: usbVersion !== undefined && Number.parseInt(usbVersion, 16) >= 3,
  };
}

/**
 * Parses uhubctl's standard output. Lines it does not know (warnings, `Resetting hub...`) are skipped.
 * @throws PowerControlError LAB_POWER_UNREADABLE_OUTPUT for a hub or port line in a shape it cannot read
 * (e.g. a uhubctl older than 2.3.0).
 */
export function parseUhubctlOutput(stdout: string): UhubctlOutput {
  const blocks: { phase: 'current' | 'new'; location: string; hub: UhubctlHubDescription; ports: UhubctlPortStatus[]; after?: 'on' | 'off' }[] = [];
  const sent: ('on' | 'off')[] = [];
  const lines = stdout.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const hub = HUB_LINE.exec(line);
    if (hub !== null) {
      const description = parseUhubctlDescription(hub[3]!);
      if (description === undefined) throw unreadable(line, i, 'a hub description that is not "VID:PID ..."');
      const phase = hub[1] === 'Current' ? 'current' : 'new';
      blocks.push({ phase, location: hub[2]!, hub: description, ports: [], after: phase === 'new' ? sent.at(-1) : undefined });
      continue;
    }
    const s = SENT_LINE.exec(line);
    if (s !== null) {
      sent.push(s[1] as 'on' | 'off');
      continue;
    }
    if (/^\s+Port /.test(line)) {
      const p = PORT_LINE.exec(line);
      const block = blocks.at(-1);
      if (p === null || block === undefined) throw unreadable(line, i, p === null ? 'a port line that is not "Port N: XXXX words [device]"' : 'a port line before any hub line');
      const status = Number.parseInt(p[2]!, 16);
      const words = (p[3] ?? '').trim().split(' ').filter((w) => w !== '');
      const device = p[4] === undefined || p[4] === '' ? undefined : parseUhubctlDescription(p[4]);
      const powerBit = block.hub.usbVersion === undefined ? undefined : block.hub.superSpeed ? USB_SS_PORT_STAT_POWER : USB_PORT_STAT_POWER;
      block.ports.push({
        port: Number(p[1]),
        status,
        words,
        // Without the hub's bcdUSB the layout is unknown: trust uhubctl's own word (it prints "off" when the
        // power bit of the right layout is clear).
        powered: powerBit === undefined ? !words.includes('off') : (status & powerBit) !== 0,
        connected: (status & USB_PORT_STAT_CONNECTION) !== 0,
        device: device === undefined ? undefined : { vendorId: device.vendorId, productId: device.productId, strings: device.strings, text: device.text },
        line: line.trim(),
      });
      continue;
    }
    if (/status for hub/.test(line)) throw unreadable(line, i, 'a hub line in the pre-2.3.0 format; install uhubctl 2.3.0 or later');
  }
  return { blocks, sent };
}

function unreadable(line: string, index: number, what: string): PowerControlError {
  return new PowerControlError(
    POWER_ERROR.unreadableOutput,
    `uhubctl output line ${index + 1} cannot be read: ${what}: ${JSON.stringify(line)}. Check \`uhubctl -v\` (2.3.0 or later is supported) and report the output`,
    { line },
  );
}

/** The distinct hubs of an output (the last block printed for each location). */
export function hubsOf(output: UhubctlOutput): UhubctlHubStatus[] {
  const byLocation = new Map<string, UhubctlHubStatus>();
  for (const b of output.blocks) byLocation.set(b.location, b);
  return [...byLocation.values()];
}
