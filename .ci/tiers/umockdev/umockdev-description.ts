/**
 * Writes a umockdev device description (the `umockdev-record` text format: `P:` sysfs path, `N:` device
 * node with its contents, `E:` udev properties, `A:` sysfs attributes, `H:` binary attributes in hex) for
 * a USB device whose descriptors come from the function's USBFN registry configuration, plus the root
 * hub it hangs off. libusb's Linux backend enumerates from sysfs (`descriptors`, `busnum`, `devnum`,
 * `speed`, ...) and talks through the usbfs node, which umockdev's `--pcap` replay answers.
 *
 * @see https://github.com/martinpitt/umockdev/blob/main/README.md (record/replay USB with pcap)
 */
export interface UmockdevUsbDevice {
  readonly busNumber: number;
  readonly deviceAddress: number;
  /** Device descriptor (18 bytes) followed by the configuration descriptor set, as sysfs `descriptors`. */
  readonly descriptors: Uint8Array;
  readonly idVendor: number;
  readonly idProduct: number;
  readonly bcdDevice: number;
  readonly bMaxPacketSize0: number;
  readonly bNumInterfaces: number;
  readonly bConfigurationValue: number;
  /** Mb/s as sysfs writes it: 12, 480, 5000. */
  readonly speedMbps: number;
  readonly manufacturer?: string | undefined;
  readonly product?: string | undefined;
  readonly serial?: string | undefined;
  /** Port on the root hub (sysfs name `<bus>-<port>`). */
  readonly port: number;
}

const HC = '/devices/pci0000:00/0000:00:14.0';

const hexUpper = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
const pad3 = (n: number): string => String(n).padStart(3, '0');
const hex4 = (n: number): string => n.toString(16).padStart(4, '0');

/** The sysfs path umockdev-run's `--pcap <sysfs path>=<file>` must name. */
export function sysfsPath(d: UmockdevUsbDevice): string {
  return `/sys${HC}/usb${d.busNumber}/${d.busNumber}-${d.port}`;
}

/** The usbfs node path. */
export function devNode(d: UmockdevUsbDevice): string {
  return `/dev/bus/usb/${pad3(d.busNumber)}/${pad3(d.deviceAddress)}`;
}

/** A Linux root hub (1d6b:0002) at address 1 of the bus, so the device has a parent. */
function rootHub(bus: number): string {
  const desc = '12010002090001406B1D020000000302010109021900010100E0000904000001090000000705810304000C';
  return [
    `P: ${HC}/usb${bus}`,
    `N: bus/usb/${pad3(bus)}/001=${desc}`,
    `E: DEVNAME=/dev/bus/usb/${pad3(bus)}/001`,
    'E: DEVTYPE=usb_device',
    'E: DRIVER=usb',
    'E: PRODUCT=1d6b/2/0',
    'E: TYPE=9/0/1',
    `E: BUSNUM=${pad3(bus)}`,
    'E: DEVNUM=001',
    'E: MAJOR=189',
    `E: MINOR=${(bus - 1) * 128}`,
    'E: SUBSYSTEM=usb',
    'A: bConfigurationValue=1',
    'A: bDeviceClass=09',
    'A: bMaxPacketSize0=64',
    'A: bNumConfigurations=1',
    'A: bNumInterfaces= 1',
    `A: busnum=${bus}`,
    `H: descriptors=${desc}`,
    `A: dev=189:${(bus - 1) * 128}`,
    'A: devnum=1',
    'A: devpath=0',
    'A: idProduct=0002',
    'A: idVendor=1d6b',
    'A: speed=480',
    'A: maxchild=1',
    '',
  ].join('\n');
}

/** The description text for `d` and its root hub. */
export function umockdevDescription(d: UmockdevUsbDevice): string {
  const desc = hexUpper(d.descriptors);
  const minor = (d.busNumber - 1) * 128 + d.deviceAddress - 1;
  const lines = [
    `P: ${HC}/usb${d.busNumber}/${d.busNumber}-${d.port}`,
    `N: bus/usb/${pad3(d.busNumber)}/${pad3(d.deviceAddress)}=${desc}`,
    `E: DEVNAME=${devNode(d)}`,
    'E: DEVTYPE=usb_device',
    'E: DRIVER=usb',
    `E: PRODUCT=${d.idVendor.toString(16)}/${d.idProduct.toString(16)}/${d.bcdDevice.toString(16)}`,
    'E: TYPE=0/0/0',
    `E: BUSNUM=${pad3(d.busNumber)}`,
    `E: DEVNUM=${pad3(d.deviceAddress)}`,
    'E: MAJOR=189',
    `E: MINOR=${minor}`,
    'E: SUBSYSTEM=usb',
    'A: authorized=1',
    `A: bConfigurationValue=${d.bConfigurationValue}`,
    'A: bDeviceClass=00',
    'A: bDeviceProtocol=00',
    'A: bDeviceSubClass=00',
    `A: bMaxPacketSize0=${d.bMaxPacketSize0}`,
    'A: bNumConfigurations=1',
    `A: bNumInterfaces= ${d.bNumInterfaces}`,
    `A: bcdDevice=${hex4(d.bcdDevice)}`,
    `A: busnum=${d.busNumber}`,
    `H: descriptors=${desc}`,
    `A: dev=189:${minor}`,
    `A: devnum=${d.deviceAddress}`,
    `A: devpath=${d.port}`,
    `A: idProduct=${hex4(d.idProduct)}`,
    `A: idVendor=${hex4(d.idVendor)}`,
    `A: speed=${d.speedMbps}`,
    'A: version= 2.00',
  ];
  if (d.manufacturer !== undefined) lines.push(`A: manufacturer=${d.manufacturer}`);
  if (d.product !== undefined) lines.push(`A: product=${d.product}`);
  if (d.serial !== undefined) lines.push(`A: serial=${d.serial}`);
  lines.push('');
  return `${lines.join('\n')}\n${rootHub(d.busNumber)}`;
}
