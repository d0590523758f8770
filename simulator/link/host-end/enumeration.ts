/**
 * How the virtual host enumerates a device on a port, in the order and with the retries of Linux usbcore
 * (`drivers/usb/core/hub.c`, `hub_port_connect` → `hub_port_init` → `usb_new_device`):
 *
 * 1. up to {@link PORT_INIT_TRIES} attempts of the whole sequence (a failed attempt disables the port and
 *    starts again with a reset; a new attempt of a new device gets a new address);
 * 2. port reset; then, at full and high speed ("new scheme"), up to {@link GET_DESCRIPTOR_TRIES} rounds of
 *    GET_DESCRIPTOR(DEVICE, 64) at address 0 (up to {@link GET_MAXPACKET0_TRIES} reads; a first-round timeout
 *    at high speed ends the reads at once) followed by a **second port reset**, 100 ms apart; at SuperSpeed
 *    ("old scheme") no second reset, and GET_DESCRIPTOR(DEVICE, 8) after SET_ADDRESS;
 * 3. SET_ADDRESS (up to {@link SET_ADDRESS_TRIES}, 200 ms apart), then the device, BOS, configuration and
 *    string descriptors;
 * 4. SET_CONFIGURATION of the first configuration (the generic driver's `choose_configuration`): a failure here
 *    is not retried; the device stays listed, unconfigured (bConfigurationValue 0), as on Linux.
 *
 * Timings are USB 2.0's minimums (100 ms attach debounce, 10 ms reset, 10 ms reset recovery, 2 ms after
 * SET_ADDRESS), not Linux's more generous sleeps; every control transfer has usbcore's 5 s timeout.
 *
 * @see https://github.com/torvalds/linux/blob/master/drivers/usb/core/hub.c (hub_port_init, hub_port_connect)
 * @see USB 2.0 §7.1.7.3, §7.1.7.5, §9.2.6.3 (timings), §9.1.2 (enumeration)
 */
import { bmRequestType, delay, type UsbDeviceSpeed, type UsbSpeed, USB_DT, USB_REQUEST } from '../../../core/index.js';
import {
  parseConfigurationDescriptor,
  parseDeviceDescriptor,
  parseLangIds,
  parseStringDescriptor,
  type UsbDeviceInfo,
} from '../../../host-side/index.js';
import type { UrbOutcome } from '../link-contract.js';
import type { HostUrb } from './host-urb.js';
import { libusbError } from './libusb-codes.js';
import type { EnumeratedDevice, SimPort, SimUsbHost } from './sim-usb-host.js';

/** Timings from USB 2.0 §7.1.7 (ms). */
const T_ATTDB = 100; // attach debounce (§7.1.7.3)
const T_DRST = 10; // reset signalling, minimum (§7.1.7.5)
const T_RSTRCY = 10; // reset recovery (§7.1.7.5)
const T_SETADDR = 2; // SET_ADDRESS recovery (§9.2.6.3)
/** usbcore's USB_CTRL_GET_TIMEOUT. */
export const ENUM_TIMEOUT_MS = 5000;
/** usbcore's retry bounds (hub.c, without CONFIG_USB_FEW_INIT_RETRIES). */
export const PORT_INIT_TRIES = 4;
export const GET_DESCRIPTOR_TRIES = 2;
export const GET_MAXPACKET0_TRIES = 3;
export const SET_ADDRESS_TRIES = 2;
/** hub_port_init's sleeps between descriptor rounds and between SET_ADDRESS tries (ms). */
const DESCRIPTOR_RETRY_MS = 100;
const SET_ADDRESS_RETRY_MS = 200;
const LANGID_EN_US = 0x0409;

/** How an enumeration ended: the device, or undefined when it went away (a stale port generation). */
export type EnumerationResult = EnumeratedDevice | undefined;

/** One enumeration step failed in a way a new attempt may fix. */
class StepFailed extends Error {
  constructor(readonly failure: Error) {
    super(failure.message);
  }
}

/**
 * Enumerates the device on `port`. `isReset` (libusb_reset_device) skips the debounce and the strings, keeps
 * `address`, and returns the new descriptors without publishing them; otherwise each attempt after the first
 * takes a new address from `nextAddress`. `alreadyReset`: the port reset has just been done (the first
 * attempt only waits for the reset recovery).
 * @throws LibusbError from the last attempt (stall, timeout), naming the step and the attempts made;
 * LIBUSB_ERROR_NO_DEVICE when the device went away.
 */
export async function enumerateDevice(
  host: SimUsbHost,
  port: SimPort,
  gen: number,
  address: number,
  isReset: boolean,
  nextAddress: () => number = () => address,
  alreadyReset = false,
): Promise<EnumerationResult> {
  const clock = host.clock;
  const stale = (): boolean => gen !== port.generation;
  if (!isReset) {
    await delay(clock, T_ATTDB);
    if (stale()) return undefined;
  }
  let last: Error | undefined;
  for (let attempt = 0; attempt < PORT_INIT_TRIES; attempt++) {
    const addr = attempt === 0 || isReset ? address : nextAddress();
    try {
      return await enumerateOnce(host, port, gen, addr, isReset, alreadyReset && attempt === 0);
    } catch (err) {
      if (!(err instanceof StepFailed) || stale()) throw err instanceof StepFailed ? err.failure : err;
      last = err.failure;
    }
  }
  throw libusbError('enumerate', libusbNameOf(last), `${PORT_INIT_TRIES} attempts failed (Linux usbcore's PORT_INIT_TRIES); the last one at: ${stepOf(last)}`, undefined, undefined, last);
}

/** One `hub_port_init` + `usb_new_device`. Throws StepFailed for what another attempt may fix. */
async function enumerateOnce(host: SimUsbHost, port: SimPort, gen: number, address: number, isReset: boolean, alreadyReset: boolean): Promise<EnumerationResult> {
  const clock = host.clock;
  const stale = (): boolean => gen !== port.generation;
  const speed = alreadyReset ? await recovered(host, port, stale) : await reset(host, port, stale);
  if (speed === undefined) return undefined;
  const control = async (bm: number, req: number, value: number, index: number, len: Uint8Array | number): Promise<HostUrb> => {
    if (stale()) throw libusbError('enumerate', 'LIBUSB_ERROR_NO_DEVICE', 'the device went away during enumeration');
    return host.control(port, bm, req, value, index, len, ENUM_TIMEOUT_MS);
  };
  const step = async (what: string, bm: number, req: number, value: number, index: number, len: Uint8Array | number): Promise<Uint8Array> => {
    const urb = await control(bm, req, value, index, len);
    if (urb.outcome !== 'ok') throw new StepFailed(enumerationError(what, urb.outcome));
    return urb.buffer.subarray(0, urb.actual);
  };
  const IN_DEVICE = bmRequestType('in', 'standard', 'device');
  const OUT_DEVICE = bmRequestType('out', 'standard', 'device');
  const { GET_DESCRIPTOR } = USB_REQUEST;
  // usbcore's "new scheme" below SuperSpeed: read 64 bytes at address 0, then reset again (hub.c use_new_scheme).
  const newScheme = speed !== 'super';
  let failure: Error | undefined;
  for (let round = 0; round < GET_DESCRIPTOR_TRIES; round++) {
    if (round > 0) await delay(clock, DESCRIPTOR_RETRY_MS);
    if (stale()) return undefined;
    failure = undefined;
    if (newScheme) {
      for (let read = 0; read < GET_MAXPACKET0_TRIES; read++) {
        const urb = await control(IN_DEVICE, GET_DESCRIPTOR, USB_DT.DEVICE << 8, 0, 64);
        failure = urb.outcome === 'ok' && urb.actual >= 8 ? undefined : enumerationError('GET_DESCRIPTOR(DEVICE, 64) at address 0', urb.outcome === 'ok' ? 'short' : urb.outcome);
        if (failure === undefined || (urb.outcome === 'timeout' && round === 0 && speed !== 'full')) break;
      }
      if ((await reset(host, port, stale)) === undefined) return undefined;
      if (failure !== undefined) continue;
    }
    for (let n = 0; n < SET_ADDRESS_TRIES; n++) {
      if (n > 0) await delay(clock, SET_ADDRESS_RETRY_MS);
      const urb = await control(OUT_DEVICE, USB_REQUEST.SET_ADDRESS, address, 0, 0);
      failure = urb.outcome === 'ok' ? undefined : enumerationError(`SET_ADDRESS(${address})`, urb.outcome);
      if (failure === undefined) break;
    }
    if (failure !== undefined) throw new StepFailed(failure);
    await delay(clock, T_SETADDR);
    if (newScheme) break;
    const urb = await control(IN_DEVICE, GET_DESCRIPTOR, USB_DT.DEVICE << 8, 0, 8);
    failure = urb.outcome === 'ok' && urb.actual === 8 ? undefined : enumerationError('GET_DESCRIPTOR(DEVICE, 8)', urb.outcome === 'ok' ? 'short' : urb.outcome);
    if (failure === undefined) break;
  }
  if (failure !== undefined) throw new StepFailed(failure);

  const devBytes = (await step('GET_DESCRIPTOR(DEVICE)', IN_DEVICE, GET_DESCRIPTOR, USB_DT.DEVICE << 8, 0, 18)).slice();
  const dd = parseDeviceDescriptor(devBytes);
  if (dd.bcdUSB >= 0x0201) {
    const head = await step('GET_DESCRIPTOR(BOS, 5)', IN_DEVICE, GET_DESCRIPTOR, USB_DT.BOS << 8, 0, 5);
    await step('GET_DESCRIPTOR(BOS)', IN_DEVICE, GET_DESCRIPTOR, USB_DT.BOS << 8, 0, head[2]! | (head[3]! << 8));
  }
  const cfgHead = await step('GET_DESCRIPTOR(CONFIGURATION, 9)', IN_DEVICE, GET_DESCRIPTOR, USB_DT.CONFIGURATION << 8, 0, 9);
  const total = cfgHead[2]! | (cfgHead[3]! << 8);
  const cfgBytes = (await step('GET_DESCRIPTOR(CONFIGURATION)', IN_DEVICE, GET_DESCRIPTOR, USB_DT.CONFIGURATION << 8, 0, total)).slice();
  const configuration = parseConfigurationDescriptor(cfgBytes);
  const strings = new Map<number, string>();
  if (!isReset && (dd.iManufacturer | dd.iProduct | dd.iSerialNumber) !== 0) {
    const langs = parseLangIds(await step('GET_DESCRIPTOR(STRING 0)', IN_DEVICE, GET_DESCRIPTOR, USB_DT.STRING << 8, 0, 255));
    const lang = langs.includes(LANGID_EN_US) ? LANGID_EN_US : (langs[0] ?? LANGID_EN_US);
    for (const i of [dd.iProduct, dd.iManufacturer, dd.iSerialNumber]) {
      if (i === 0 || strings.has(i)) continue;
      strings.set(i, parseStringDescriptor(await step(`GET_DESCRIPTOR(STRING ${i})`, IN_DEVICE, GET_DESCRIPTOR, (USB_DT.STRING << 8) | i, lang, 255)));
    }
  }
  // usbcore's generic driver selects the first configuration (choose_configuration); when that fails the
  // device stays registered, unconfigured ("can't set config"), and is not enumerated again.
  const value = configuration.bConfigurationValue;
  const setConfig = await control(OUT_DEVICE, USB_REQUEST.SET_CONFIGURATION, value, 0, 0);
  if (setConfig.outcome === 'noDevice' || stale()) throw libusbError('enumerate', 'LIBUSB_ERROR_NO_DEVICE', `SET_CONFIGURATION(${value}): the device went away`);
  const activeConfiguration = setConfig.outcome === 'ok' ? value : 0;
  if (activeConfiguration === 0) port.lastEnumerationError = enumerationError(`SET_CONFIGURATION(${value})`, setConfig.outcome);
  const info: UsbDeviceInfo = {
    id: `sim-${port.bus.busNumber}-${address}`,
    busNumber: port.bus.busNumber,
    deviceAddress: address,
    vendorId: dd.idVendor,
    productId: dd.idProduct,
    deviceVersion: dd.bcdDevice,
    speed: speed as UsbSpeed,
    manufacturer: strings.get(dd.iManufacturer),
    product: strings.get(dd.iProduct),
    serialNumber: strings.get(dd.iSerialNumber),
    interfaces: configuration.interfaces
      .filter((i) => i.bAlternateSetting === 0)
      .map((i) => ({ interfaceNumber: i.bInterfaceNumber, interfaceClass: i.bInterfaceClass })),
  };
  return {
    info,
    address,
    deviceDescriptor: dd,
    deviceDescriptorBytes: devBytes,
    configurationBytes: cfgBytes,
    configuration,
    activeConfiguration,
    alternates: new Map<number, number>(),
  };
}

/** One port reset with its signalling and recovery time; undefined when the device went away. */
async function reset(host: SimUsbHost, port: SimPort, stale: () => boolean): Promise<UsbDeviceSpeed | undefined> {
  await delay(host.clock, T_DRST);
  if (stale()) return undefined;
  const speed = port.bus.resetPort();
  if (speed === undefined) return undefined;
  await delay(host.clock, T_RSTRCY);
  return stale() ? undefined : speed;
}

/** The reset recovery after a reset someone else started; undefined when the device went away. */
async function recovered(host: SimUsbHost, port: SimPort, stale: () => boolean): Promise<UsbDeviceSpeed | undefined> {
  await delay(host.clock, T_RSTRCY);
  return stale() ? undefined : port.bus.speed;
}

function enumerationError(what: string, outcome: UrbOutcome | 'short'): Error {
  switch (outcome) {
    case 'stall':
      return libusbError('enumerate', 'LIBUSB_ERROR_PIPE', `${what} stalled: the device rejected a chapter-9 request`);
    case 'timeout':
      return libusbError('enumerate', 'LIBUSB_ERROR_TIMEOUT', `${what} got no answer within ${ENUM_TIMEOUT_MS} ms`);
    case 'noDevice':
      return libusbError('enumerate', 'LIBUSB_ERROR_NO_DEVICE', `${what}: the device went away`);
    case 'short':
      return libusbError('enumerate', 'LIBUSB_ERROR_IO', `${what} returned too few bytes for a device descriptor`);
    default:
      return libusbError('enumerate', 'LIBUSB_ERROR_IO', `${what} ended with ${outcome}`);
  }
}

/** The failed step named in an enumeration error's detail. */
function stepOf(err: Error | undefined): string {
  const detail = (err as { data?: { detail?: unknown } } | undefined)?.data?.detail;
  return typeof detail === 'string' ? detail : String(err?.message ?? 'an unknown step');
}

function libusbNameOf(err: Error | undefined): 'LIBUSB_ERROR_PIPE' | 'LIBUSB_ERROR_TIMEOUT' | 'LIBUSB_ERROR_NO_DEVICE' | 'LIBUSB_ERROR_IO' {
  const name = (err as { libusbName?: unknown } | undefined)?.libusbName;
  return name === 'LIBUSB_ERROR_PIPE' || name === 'LIBUSB_ERROR_TIMEOUT' || name === 'LIBUSB_ERROR_NO_DEVICE' ? name : 'LIBUSB_ERROR_IO';
}
