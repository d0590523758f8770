/**
 * Writes a USBFN registry configuration as a `.reg` file (Windows Registry Editor 5.00), for
 * `reg import` on a lab device: `HKLM\SYSTEM\CurrentControlSet\Control\USBFN`, its `Configurations\<name>`
 * and `Interfaces\<name>` subkeys, value names verbatim. The committed
 * device-side/agent/usbfn-hil-test-function.reg is this function applied to the simulator's test function
 * configuration (a test keeps the two equal).
 *
 * Types: numbers are REG_DWORD, strings REG_SZ, byte arrays REG_BINARY, string lists REG_MULTI_SZ.
 * ASSUMPTION: `BcdDevice` and `SerialNumberString` are read from the USBFN root as well as from the
 * Microsoft-owned `USBFN\Default` key, and `bmAttributes`/`bMaxPower` are REG_DWORD (Microsoft's IoT example
 * gives their values, not their types).
 */

type RegValue = number | string | Uint8Array | readonly string[] | undefined;

/** The shape of the simulator's `UsbFnRegistryConfig` (the registry's value names). */
export interface UsbFnRegConfig {
  readonly [value: string]: RegValue | Readonly<Record<string, Readonly<Record<string, RegValue>>>> | undefined;
  readonly Configurations: Readonly<Record<string, Readonly<Record<string, RegValue>>>>;
  readonly Interfaces: Readonly<Record<string, Readonly<Record<string, RegValue>>>>;
  readonly Alternates?: Readonly<Record<string, Readonly<Record<string, RegValue>>>> | undefined;
}

/** The USBFN root key (usbfnbase.h UREGUSBFNENUMPATH). */
export const USBFN_REGISTRY_ROOT = 'HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\USBFN';

const SUBKEYS = ['Configurations', 'Interfaces', 'Alternates'] as const;

const hexBytes = (bytes: Uint8Array): string => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(',');

function utf16le(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'utf16le'));
}

function regValue(name: string, value: RegValue): string | undefined {
  if (value === undefined) return undefined;
  const key = `"${name}"`;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`${name}: ${value} is not a REG_DWORD`);
    return `${key}=dword:${value.toString(16).padStart(8, '0')}`;
  }
  if (typeof value === 'string') return `${key}="${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  if (value instanceof Uint8Array) return `${key}=hex:${hexBytes(value)}`;
  // REG_MULTI_SZ: each string NUL-terminated, then a final NUL (UTF-16LE).
  const joined = value.map((s) => `${s}\0`).join('') + '\0';
  return `${key}=hex(7):${hexBytes(utf16le(joined))}`;
}

function section(path: string, values: Readonly<Record<string, RegValue>>): string[] {
  const lines = [`[${path}]`];
  for (const [name, value] of Object.entries(values)) {
    const line = regValue(name, value);
    if (line !== undefined) lines.push(line);
  }
  return lines;
}

/**
 * The `.reg` text (CRLF line ends, ASCII) of a USBFN configuration.
 * @param comment lines written as `;` comments after the header.
 */
export function renderUsbFnRegFile(config: UsbFnRegConfig, comment: readonly string[] = []): string {
  const root: Record<string, RegValue> = {};
  for (const [name, value] of Object.entries(config)) {
    if (!(SUBKEYS as readonly string[]).includes(name)) root[name] = value as RegValue;
  }
  const blocks: string[][] = [['Windows Registry Editor Version 5.00']];
  if (comment.length > 0) blocks.push(comment.map((c) => `; ${c}`.trimEnd()));
  blocks.push(section(USBFN_REGISTRY_ROOT, root));
  for (const sub of SUBKEYS) {
    const keys = config[sub];
    if (keys === undefined) continue;
    for (const [name, values] of Object.entries(keys)) blocks.push(section(`${USBFN_REGISTRY_ROOT}\\${sub}\\${name}`, values));
  }
  return blocks.map((b) => b.join('\r\n')).join('\r\n\r\n') + '\r\n';
}

/** The comment of the committed device-side/agent/usbfn-hil-test-function.reg. */
export const USBFN_HIL_TEST_REG_COMMENT: readonly string[] = [
  'usbfn-hil test function: one vendor-specific interface (class 0xFF), bulk OUT 0x01 and bulk IN 0x81,',
  'for the loopback and source/sink functions of `usbfn-hil agent serve` (docs/lab-setup.md).',
  'Back up the device\'s own configuration first:  reg export HKLM\\SYSTEM\\CurrentControlSet\\Control\\USBFN usbfn-backup.reg',
  'Import as an administrator:                    reg import usbfn-hil-test-function.reg   then reboot the device.',
  'VID 0x1209 / PID 0x0001 are pid.codes test ids: for testing only, never ship them.',
  'Generated from the simulator\'s test function configuration (a test keeps the two equal): do not edit by hand.',
];
