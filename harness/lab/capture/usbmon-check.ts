/**
 * Can this host capture bus N with usbmon? usbmon exposes one character device per bus, `/dev/usbmonN`
 * (`/dev/usbmon0`: all buses), once the module is loaded; libpcap (dumpcap, tshark) reads it and needs read
 * permission on it, which only root has by default.
 * @see https://www.kernel.org/doc/html/latest/usb/usbmon.html
 */
import { UsageError } from '../../../core/index.js';
import type { CaptureFileSystem } from './capture-file-system.js';

export type UsbmonCheck =
  | { readonly ok: true; readonly device: string; readonly interfaceName: string }
  | { readonly ok: false; readonly problem: 'not-linux' | 'no-usb' | 'not-loaded' | 'no-bus' | 'permission'; readonly reason: string };

/** The udev rule that lets the `wireshark` group read usbmon devices. */
export const USBMON_UDEV_RULE = 'SUBSYSTEM=="usbmon", GROUP="wireshark", MODE="0640"';

/** How to load usbmon now and at every boot. */
export const USBMON_LOAD_FIX = 'sudo modprobe usbmon   # and at every boot: echo usbmon | sudo tee /etc/modules-load.d/usbmon.conf';

/** How to give the harness user read access to usbmon. */
export const USBMON_PERMISSION_FIX = [
  `echo '${USBMON_UDEV_RULE}' | sudo tee /etc/udev/rules.d/60-usbmon.rules`,
  'sudo udevadm control --reload-rules && sudo udevadm trigger --subsystem-match=usbmon',
  'sudo usermod -aG wireshark "$USER"   # then log out and back in (or, until the next reboot: sudo setfacl -m u:$USER:r /dev/usbmon*)',
].join('\n');

/**
 * Checks that `/dev/usbmon<busNumber>` exists and is readable, and says why not.
 * @throws UsageError INVALID_ARGUMENT for a bus number that is not a positive integer.
 */
export async function checkUsbmon(fs: CaptureFileSystem, busNumber: number, platform: string): Promise<UsbmonCheck> {
  if (!Number.isInteger(busNumber) || busNumber < 1 || busNumber > 255) {
    throw new UsageError('INVALID_ARGUMENT', `bus number ${busNumber} is not a USB bus: give the device's busNumber (1..255) from the host's device list`, { busNumber });
  }
  if (platform !== 'linux') {
    return { ok: false, problem: 'not-linux', reason: `usbmon exists on Linux only (this host is ${platform})` };
  }
  const interfaceName = `usbmon${busNumber}`;
  const device = `/dev/${interfaceName}`;
  const access = await fs.access(device, 'read');
  if (access === 'ok') return { ok: true, device, interfaceName };
  if (access === 'denied') {
    return { ok: false, problem: 'permission', reason: `this user may not read ${device} (usbmon devices belong to root unless a udev rule says otherwise). Fix:\n${USBMON_PERMISSION_FIX}` };
  }
  const present = (await fs.list('/dev')).filter((n) => /^usbmon\d+$/.test(n)).sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
  if (present.length > 0) {
    return {
      ok: false,
      problem: 'no-bus',
      reason: `there is no ${device}, although usbmon is loaded (${present.map((n) => `/dev/${n}`).join(', ')}): the device is not on bus ${busNumber}? Check with lsusb -t and capture the bus it is on`,
    };
  }
  if ((await fs.access('/sys/bus/usb', 'exists')) === 'missing') {
    return {
      ok: false,
      problem: 'no-usb',
      reason: 'this host has no USB subsystem (/sys/bus/usb is absent: a kernel without USB support, or a container without the host\'s USB), so there is nothing to capture',
    };
  }
  return { ok: false, problem: 'not-loaded', reason: `usbmon is not loaded (no /dev/usbmon* devices). Fix: ${USBMON_LOAD_FIX}` };
}
