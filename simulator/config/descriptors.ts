/**
 * Descriptor builders: what UFX (the USB function class extension) reports to the host for a function
 * configured through the USBFN registry keys (docs/reference/registry.md). The device, configuration, string and BOS
 * descriptors are built from a {@link UsbFnRegistryConfig} once per speed; the bus model answers
 * GET_DESCRIPTOR from them and the GenericUSBFn model answers GET_INTERFACE_DESCRIPTOR_SET / GET_CLASS_INFO
 * from {@link interfaceDescriptorSet}.
 *
 * These encoders are written independently of host-side/descriptors (the host's parsers), so a wrong
 * codec on one side shows up as a failing test instead of two agreeing bugs (docs/architecture.md#tests).
 *
 * @see USB 2.0 §9.6 (standard descriptors), USB 3.2 §9.6.2 (BOS), §9.6.7 (SS endpoint companion)
 * @see docs/reference/registry.md#interface-descriptor-format (registry layout; InterfaceDescriptor byte format)
 */
import { type UsbDeviceSpeed, UsageError, USB_DT } from '../../core/index.js';
import type { UsbFnInterfaceKey, UsbFnRegistryConfig } from './usbfn-config.js';

/** LANGID of the single language the simulated function reports (US English). */
export const LANGID_EN_US = 0x0409;

/** Fixed string indexes UFX uses; interface strings follow from {@link FIRST_INTERFACE_STRING_INDEX}. */
export const STRING_INDEX = { MANUFACTURER: 1, PRODUCT: 2, SERIAL_NUMBER: 3 } as const;
export const FIRST_INTERFACE_STRING_INDEX = 4;

/** The header's USBFN_INTERRUPT_ENDPOINT_SIZE_NOT_UPDATEABLE_MASK (usbfnbase.h, docs/reference/structs.md#constants). */
export const USBFN_INTERRUPT_ENDPOINT_SIZE_NOT_UPDATEABLE_MASK = 0x80;

/** Serial number reported when iSerialNumber is non-zero/absent and no SerialNumberString is set. */
export const DEFAULT_SERIAL_NUMBER = 'USBFNSIM0001';

export type EndpointTransferType = 'control' | 'isochronous' | 'bulk' | 'interrupt';
const TRANSFER_TYPES: readonly EndpointTransferType[] = ['control', 'isochronous', 'bulk', 'interrupt'];

/** One endpoint of a resolved interface at one speed. */
export interface ResolvedEndpoint {
  /** bEndpointAddress (0x81, 0x01, ...). */
  readonly address: number;
  readonly direction: 'in' | 'out';
  readonly type: EndpointTransferType;
  /** wMaxPacketSize at this speed (size bits only). */
  readonly maxPacketSize: number;
  readonly bInterval: number;
}

/** One alternate setting of an interface (an `Interfaces` key). */
export interface ResolvedAlternate {
  readonly alternateSetting: number;
  /** The `USBFN\Interfaces` subkey name. */
  readonly keyName: string;
  readonly key: UsbFnInterfaceKey;
  /** The registry bytes split into descriptors (views into the registry value). */
  readonly descriptors: readonly Uint8Array[];
  readonly bInterfaceClass: number;
  readonly bInterfaceSubClass: number;
  readonly bInterfaceProtocol: number;
  /** String index UFX assigns (the key name is the string). */
  readonly iInterface: number;
}

/** One interface of the current configuration (a function: one GenericUSBFn instance). */
export interface ResolvedInterface {
  /** The `InterfaceList` entry (an `Interfaces` or `Alternates` key). */
  readonly name: string;
  readonly interfaceNumber: number;
  readonly interfaceGuid: string;
  readonly alternates: readonly ResolvedAlternate[];
}

/** The current configuration with interface numbers and string indexes assigned. */
export interface ResolvedConfiguration {
  readonly configName: string;
  readonly bConfigurationValue: 1;
  readonly bmAttributes: number;
  readonly bMaxPower: number;
  readonly interfaces: readonly ResolvedInterface[];
  /** String index → text (manufacturer, product, serial, interface names). */
  readonly strings: ReadonlyMap<number, string>;
  readonly serialNumber: string | undefined;
}

function invalid(message: string, data: Record<string, string | number> = {}): UsageError {
  return new UsageError('INVALID_CONFIG', message, data);
}

/** Splits a registry InterfaceDescriptor blob by bLength and checks its shape (docs/reference/registry.md#interface-descriptor-format). */
function splitBlob(keyName: string, blob: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < blob.length) {
    const bLength = blob[o]!;
    if (bLength < 2 || o + bLength > blob.length) {
      throw invalid(
        `Interfaces\\${keyName}\\InterfaceDescriptor: descriptor #${out.length} at byte ${o} has bLength ${bLength}, ` +
          `which ${bLength < 2 ? 'is below 2' : `runs past the ${blob.length}-byte value`}; every descriptor must carry its correct bLength (docs/reference/registry.md#interface-descriptor-format)`,
        { key: keyName, offset: o },
      );
    }
    out.push(blob.subarray(o, o + bLength));
    o += bLength;
  }
  const first = out[0];
  if (first === undefined || first[1] !== USB_DT.INTERFACE || first.length < 9) {
    throw invalid(
      `Interfaces\\${keyName}\\InterfaceDescriptor must start with a 9-byte interface descriptor (09 04 ...), ` +
        `got ${first === undefined ? 'an empty value' : `bLength ${first[0]} type 0x${first[1]!.toString(16)}`}`,
      { key: keyName },
    );
  }
  const endpoints = out.filter((d) => d[1] === USB_DT.ENDPOINT);
  for (const ep of endpoints) {
    if (ep.length < 7) throw invalid(`Interfaces\\${keyName}: an endpoint descriptor has bLength ${ep.length}, expected 7`);
    if ((ep[3]! & 0x03) === 0) {
      throw invalid(`Interfaces\\${keyName}: endpoint 0x${ep[2]!.toString(16)} is a control endpoint; only EP0 may be control`);
    }
    if ((ep[2]! & 0x0f) === 0) throw invalid(`Interfaces\\${keyName}: endpoint address 0x${ep[2]!.toString(16)} uses number 0 (EP0)`);
  }
  if (first[4] !== endpoints.length) {
    throw invalid(
      `Interfaces\\${keyName}: bNumEndpoints is ${first[4]} but the value holds ${endpoints.length} endpoint descriptors; make them agree`,
      { key: keyName },
    );
  }
  return out;
}

/**
 * Resolves the `CurrentConfiguration`: interface numbers, alternates and string indexes.
 *
 * ASSUMPTION(drv-interface-numbers): an interface without a registry `InterfaceNumber` gets its position in
 * `InterfaceList` (the stack assigns numbers; the rule is not published). Same rule as simulator/usbfn/pipes.ts.
 * ASSUMPTION(link-interface-strings): the stack overwrites iInterface; the interface string is the `Interfaces` key name.
 * @throws UsageError INVALID_CONFIG naming the key and the fix when the configuration is inconsistent.
 */
export function resolveConfiguration(config: UsbFnRegistryConfig): ResolvedConfiguration {
  const cfg = config.Configurations[config.CurrentConfiguration];
  if (cfg === undefined) {
    throw invalid(
      `CurrentConfiguration '${config.CurrentConfiguration}' is not a key of Configurations (${Object.keys(config.Configurations).join(', ') || 'none'}); add it or fix the name`,
    );
  }
  const strings = new Map<number, string>();
  strings.set(STRING_INDEX.MANUFACTURER, config.ManufacturerString);
  strings.set(STRING_INDEX.PRODUCT, config.ProductString);
  const serialNumber = config.iSerialNumber === 0 ? undefined : (config.SerialNumberString ?? DEFAULT_SERIAL_NUMBER);
  if (serialNumber !== undefined) strings.set(STRING_INDEX.SERIAL_NUMBER, serialNumber);
  let nextString = FIRST_INTERFACE_STRING_INDEX;
  const interfaces: ResolvedInterface[] = [];
  const numbers = new Set<number>();
  const addresses = new Map<number, string>();
  cfg.InterfaceList.forEach((name, position) => {
    const alt = config.Alternates?.[name];
    const keyNames = alt !== undefined ? alt.InterfaceList : [name];
    if (keyNames.length === 0) throw invalid(`Alternates\\${name}\\InterfaceList is empty; list at least one Interfaces key`);
    const alternates: ResolvedAlternate[] = keyNames.map((keyName, alternateSetting) => {
      const key = config.Interfaces[keyName];
      if (key === undefined) {
        throw invalid(`Interfaces has no key '${keyName}' (listed by '${name}' in configuration '${config.CurrentConfiguration}'); add it`, {
          key: keyName,
        });
      }
      const descriptors = splitBlob(keyName, key.InterfaceDescriptor);
      const head = descriptors[0]!;
      const iInterface = nextString++;
      strings.set(iInterface, keyName);
      return {
        alternateSetting,
        keyName,
        key,
        descriptors,
        bInterfaceClass: head[5]!,
        bInterfaceSubClass: head[6]!,
        bInterfaceProtocol: head[7]!,
        iInterface,
      };
    });
    const interfaceNumber = alt?.InterfaceNumber ?? alternates[0]!.key.InterfaceNumber ?? position;
    if (!Number.isInteger(interfaceNumber) || interfaceNumber < 0 || interfaceNumber > 0xff) {
      throw invalid(`InterfaceNumber ${interfaceNumber} of '${name}' is not a byte (0x00–0x5F)`);
    }
    if (numbers.has(interfaceNumber)) {
      throw invalid(`two interfaces of configuration '${config.CurrentConfiguration}' use interface number ${interfaceNumber}; give each a distinct InterfaceNumber`);
    }
    numbers.add(interfaceNumber);
    for (const a of alternates) {
      for (const d of a.descriptors) {
        if (d[1] !== USB_DT.ENDPOINT) continue;
        const owner = addresses.get(d[2]!);
        if (owner !== undefined && owner !== name) {
          throw invalid(`endpoint 0x${d[2]!.toString(16).padStart(2, '0')} is used by both '${owner}' and '${name}'; endpoint addresses must be unique in a configuration`);
        }
        addresses.set(d[2]!, name);
      }
    }
    interfaces.push({ name, interfaceNumber, interfaceGuid: alternates[0]!.key.InterfaceGUID, alternates });
  });
  return {
    configName: config.CurrentConfiguration,
    bConfigurationValue: 1,
    // USB 2.0 §9.6.3: bit 7 is reserved and must be set. ASSUMPTION(reg-config-attributes): defaults 0xC0 / 0xFA.
    bmAttributes: (cfg.bmAttributes ?? 0xc0) | 0x80,
    bMaxPower: cfg.bMaxPower ?? 0xfa,
    interfaces,
    strings,
    serialNumber,
  };
}

/**
 * wMaxPacketSize at `speed` for an endpoint whose registry descriptor says `registryValue`.
 *
 * ASSUMPTION(link-packet-sizes): how per-speed wMaxPacketSize values are derived is not documented; bulk is
 * 64 at full speed, 512 at high speed, 1024 at SuperSpeed (the only legal values, USB 2.0 §5.8.3, USB 3.2
 * §9.6.6); interrupt and isochronous keep the registry size capped at 64 (FS interrupt), 1023 (FS iso) and
 * 1024 (HS/SS), unless the interrupt endpoint sets USBFN_INTERRUPT_ENDPOINT_SIZE_NOT_UPDATEABLE_MASK.
 * ASSUMPTION(link-interrupt-mask): the header comment is ambiguous; that mask is the MSB of the 16-bit field, i.e.
 * 0x80 in its high byte (0x8000); the flag is stripped and the registry size is kept at every speed.
 */
export function maxPacketSizeAt(type: EndpointTransferType, registryValue: number, speed: UsbDeviceSpeed): number {
  const size = registryValue & 0x7ff;
  switch (type) {
    case 'bulk':
      return speed === 'full' ? 64 : speed === 'high' ? 512 : 1024;
    case 'interrupt':
      if ((registryValue >> 8) & USBFN_INTERRUPT_ENDPOINT_SIZE_NOT_UPDATEABLE_MASK) return size;
      return Math.min(size, speed === 'full' ? 64 : 1024);
    case 'isochronous':
      return Math.min(size, speed === 'full' ? 1023 : 1024);
    case 'control':
      return speed === 'super' ? 512 : 64;
  }
}

/** EP0's wMaxPacketSize at `speed` (USB 2.0 §5.5.3: 64 at FS/HS; USB 3.2 §9.6.1: 512 at SS). */
export function ep0MaxPacketSize(speed: UsbDeviceSpeed): number {
  return speed === 'super' ? 512 : 64;
}

/** Endpoints of one alternate setting at `speed`, in descriptor order. */
export function alternateEndpoints(alt: ResolvedAlternate, speed: UsbDeviceSpeed): ResolvedEndpoint[] {
  const out: ResolvedEndpoint[] = [];
  for (const d of alt.descriptors) {
    if (d[1] !== USB_DT.ENDPOINT) continue;
    const type = TRANSFER_TYPES[d[3]! & 0x03]!;
    out.push({
      address: d[2]!,
      direction: d[2]! & 0x80 ? 'in' : 'out',
      type,
      maxPacketSize: maxPacketSizeAt(type, d[4]! | (d[5]! << 8), speed),
      bInterval: d[6]!,
    });
  }
  return out;
}

/** Writes one alternate setting's descriptors for `speed` (interface + class-specific + endpoints [+ SS companions]). */
function writeAlternate(iface: ResolvedInterface, alt: ResolvedAlternate, speed: UsbDeviceSpeed, parts: Uint8Array[]): void {
  for (const d of alt.descriptors) {
    if (d[1] === USB_DT.INTERFACE) {
      const copy = d.slice();
      copy[2] = iface.interfaceNumber; //     bInterfaceNumber (the stack overwrites it, docs/reference/registry.md)
      copy[3] = alt.alternateSetting; //      bAlternateSetting (index in the Alternates InterfaceList)
      copy[8] = alt.iInterface; //            iInterface (overwritten too)
      parts.push(copy);
    } else if (d[1] === USB_DT.ENDPOINT) {
      const copy = d.slice(0, 7);
      const type = TRANSFER_TYPES[copy[3]! & 0x03]!;
      const mps = maxPacketSizeAt(type, copy[4]! | (copy[5]! << 8), speed);
      copy[4] = mps & 0xff; //                wMaxPacketSize (LE) for this speed
      copy[5] = mps >> 8;
      if (speed === 'full' && type === 'bulk') copy[6] = 0; // bInterval unused for FS bulk (USB 2.0 Table 9-13)
      parts.push(copy);
      if (speed === 'super') {
        const companion = new Uint8Array(6);
        companion[0] = 6; //                                      bLength
        companion[1] = USB_DT.SS_ENDPOINT_COMPANION; //  bDescriptorType
        companion[2] = 0; //                                      bMaxBurst (ASSUMPTION(link-superspeed-descriptors))
        companion[3] = 0; //                                      bmAttributes (no streams, Mult 0)
        const perInterval = type === 'interrupt' || type === 'isochronous' ? mps : 0;
        companion[4] = perInterval & 0xff; //                     wBytesPerInterval (LE)
        companion[5] = perInterval >> 8;
        parts.push(companion);
      }
    } else {
      parts.push(d); // class-specific descriptors travel unchanged (docs/reference/registry.md#interface-descriptor-format)
    }
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function findInterface(resolved: ResolvedConfiguration, interfaceNumber: number): ResolvedInterface {
  const iface = resolved.interfaces.find((i) => i.interfaceNumber === interfaceNumber);
  if (iface === undefined) {
    throw new UsageError(
      'INVALID_ARGUMENT',
      `configuration '${resolved.configName}' has no interface ${interfaceNumber} (it has ${resolved.interfaces.map((i) => i.interfaceNumber).join(', ') || 'none'})`,
    );
  }
  return iface;
}

/**
 * The interface descriptor set of one function at `speed`: for each alternate setting, the interface
 * descriptor (bInterfaceNumber/bAlternateSetting/iInterface assigned), its class-specific descriptors and
 * its endpoint descriptors with the per-speed wMaxPacketSize (plus SS endpoint companions at SuperSpeed).
 * This is what GET_INTERFACE_DESCRIPTOR_SET returns and what the configuration descriptor contains.
 * @throws UsageError INVALID_CONFIG / INVALID_ARGUMENT for a bad configuration or an unknown interface.
 * @see docs/reference/structs.md#usbfn-interface-info, docs/reference/registry.md
 */
export function interfaceDescriptorSet(config: UsbFnRegistryConfig, interfaceNumber: number, speed: UsbDeviceSpeed): Uint8Array {
  const resolved = resolveConfiguration(config);
  const iface = findInterface(resolved, interfaceNumber);
  const parts: Uint8Array[] = [];
  for (const alt of iface.alternates) writeAlternate(iface, alt, speed, parts);
  return concat(parts);
}

/**
 * Device descriptor (USB 2.0 §9.6.1): bcdUSB 0x0200 at FS/HS, 0x0300 at SS; bMaxPacketSize0 64, or 9
 * (2^9 = 512) at SS (USB 3.2 §9.6.1).
 */
export function deviceDescriptor(config: UsbFnRegistryConfig, speed: UsbDeviceSpeed, resolved = resolveConfiguration(config)): Uint8Array {
  const d = new Uint8Array(18);
  const bcdUSB = speed === 'super' ? 0x0300 : 0x0200;
  const bcdDevice = config.BcdDevice ?? 0x0100;
  d[0] = 18; //                                          bLength
  d[1] = USB_DT.DEVICE; //                      bDescriptorType
  d[2] = bcdUSB & 0xff; //                               bcdUSB (LE)
  d[3] = bcdUSB >> 8;
  d[4] = config.bDeviceClass ?? 0; //                    bDeviceClass (0: per interface)
  d[5] = config.bDeviceSubClass ?? 0; //                 bDeviceSubClass
  d[6] = config.bDeviceProtocol ?? 0; //                 bDeviceProtocol
  d[7] = speed === 'super' ? 9 : 64; //                  bMaxPacketSize0
  d[8] = config.idVendor & 0xff; //                      idVendor (LE)
  d[9] = (config.idVendor >> 8) & 0xff;
  d[10] = config.idProduct & 0xff; //                    idProduct (LE)
  d[11] = (config.idProduct >> 8) & 0xff;
  d[12] = bcdDevice & 0xff; //                           bcdDevice (LE)
  d[13] = (bcdDevice >> 8) & 0xff;
  d[14] = STRING_INDEX.MANUFACTURER; //                  iManufacturer
  d[15] = STRING_INDEX.PRODUCT; //                       iProduct
  d[16] = resolved.serialNumber === undefined ? 0 : STRING_INDEX.SERIAL_NUMBER; // iSerialNumber
  d[17] = 1; //                                          bNumConfigurations
  return d;
}

/**
 * Device qualifier (USB 2.0 §9.6.2): what the device would report at the other USB 2.0 speed. Only a
 * high-speed capable device has one.
 */
export function deviceQualifierDescriptor(config: UsbFnRegistryConfig): Uint8Array {
  const d = new Uint8Array(10);
  d[0] = 10; //                                  bLength
  d[1] = USB_DT.DEVICE_QUALIFIER; //    bDescriptorType
  d[2] = 0x00; //                                bcdUSB 0x0200 (LE)
  d[3] = 0x02;
  d[4] = config.bDeviceClass ?? 0; //            bDeviceClass
  d[5] = config.bDeviceSubClass ?? 0; //         bDeviceSubClass
  d[6] = config.bDeviceProtocol ?? 0; //         bDeviceProtocol
  d[7] = 64; //                                  bMaxPacketSize0
  d[8] = 1; //                                   bNumConfigurations
  d[9] = 0; //                                   bReserved
  return d;
}

/**
 * Configuration descriptor set (USB 2.0 §9.6.3) for the CurrentConfiguration at `speed`: the 9-byte header
 * followed by every interface's descriptor set. `descriptorType` OTHER_SPEED_CONFIGURATION (USB 2.0 §9.6.4)
 * builds the same layout with that type byte (pass the other speed).
 */
export function configurationDescriptor(
  config: UsbFnRegistryConfig,
  speed: UsbDeviceSpeed,
  resolved = resolveConfiguration(config),
  descriptorType: number = USB_DT.CONFIGURATION,
): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array(9)];
  for (const iface of resolved.interfaces) for (const alt of iface.alternates) writeAlternate(iface, alt, speed, parts);
  const out = concat(parts);
  out[0] = 9; //                                  bLength
  out[1] = descriptorType; //                     bDescriptorType
  out[2] = out.length & 0xff; //                  wTotalLength (LE)
  out[3] = out.length >> 8;
  out[4] = resolved.interfaces.length; //         bNumInterfaces
  out[5] = resolved.bConfigurationValue; //       bConfigurationValue
  out[6] = 0; //                                  iConfiguration
  out[7] = resolved.bmAttributes; //              bmAttributes
  out[8] = resolved.bMaxPower; //                 bMaxPower
  return out;
}

/** String descriptor 0: the LANGID list (USB 2.0 §9.6.7). */
export function langIdDescriptor(): Uint8Array {
  return Uint8Array.of(4, USB_DT.STRING, LANGID_EN_US & 0xff, LANGID_EN_US >> 8);
}

/**
 * A UNICODE string descriptor (USB 2.0 §9.6.7). bLength is one byte, so at most 126 UTF-16 code units
 * fit; longer registry strings (REG_SZ allows 255) are truncated.
 * ASSUMPTION(link-string-truncation): MAX_USB_STRING_LENGTH 255 vs bLength ≤ 255; UFX truncates to 126 units.
 */
export function stringDescriptor(text: string): Uint8Array {
  const units = Math.min(text.length, 126);
  const d = new Uint8Array(2 + 2 * units);
  d[0] = d.length; //                  bLength
  d[1] = USB_DT.STRING; //    bDescriptorType
  for (let i = 0; i < units; i++) {
    const c = text.charCodeAt(i); //   bString: UTF-16LE
    d[2 + 2 * i] = c & 0xff;
    d[3 + 2 * i] = c >> 8;
  }
  return d;
}

/**
 * BOS descriptor (USB 3.2 §9.6.2) of a SuperSpeed device: header, USB 2.0 extension (§9.6.2.1) and the
 * SuperSpeed USB device capability (§9.6.2.2) listing FS, HS and SS.
 * ASSUMPTION(link-superspeed-descriptors): no UFX source; no LPM, U1/U2 exit latencies 10 µs / 2047 µs (the maximum values).
 */
export function bosDescriptor(): Uint8Array {
  const d = new Uint8Array(5 + 7 + 10);
  d[0] = 5; //                                 bLength
  d[1] = USB_DT.BOS; //               bDescriptorType
  d[2] = d.length; //                          wTotalLength (LE)
  d[3] = 0;
  d[4] = 2; //                                 bNumDeviceCaps
  // USB 2.0 extension
  d[5] = 7; //                                 bLength
  d[6] = USB_DT.DEVICE_CAPABILITY; // bDescriptorType
  d[7] = 0x02; //                              bDevCapabilityType USB_2_0_EXTENSION
  d[8] = 0; //                                 bmAttributes (u32 LE): no LPM
  d[9] = 0;
  d[10] = 0;
  d[11] = 0;
  // SuperSpeed USB device capability
  d[12] = 10; //                               bLength
  d[13] = USB_DT.DEVICE_CAPABILITY; //bDescriptorType
  d[14] = 0x03; //                             bDevCapabilityType SUPERSPEED_USB
  d[15] = 0; //                                bmAttributes (no LTM)
  d[16] = 0x0e; //                             wSpeedsSupported (LE): FS | HS | SS
  d[17] = 0;
  d[18] = 1; //                                bFunctionalitySupport: full speed
  d[19] = 0x0a; //                             bU1DevExitLat (µs)
  d[20] = 0xff; //                             wU2DevExitLat (LE, µs)
  d[21] = 0x07;
  return d;
}

/** Every descriptor the host can read at one speed, built once (the bus answers GET_DESCRIPTOR from it). */
export interface DescriptorTable {
  readonly speed: UsbDeviceSpeed;
  readonly device: Uint8Array;
  readonly configuration: Uint8Array;
  /** Undefined when the device cannot run at high speed (device-qualifier then stalls, USB 2.0 §9.6.2). */
  readonly deviceQualifier: Uint8Array | undefined;
  readonly otherSpeedConfiguration: Uint8Array | undefined;
  /** Undefined below SuperSpeed (bcdUSB 0x0200 has no BOS). */
  readonly bos: Uint8Array | undefined;
  /** Index → string descriptor; index 0 is the LANGID list. */
  readonly strings: Map<number, Uint8Array>;
}

/**
 * Builds the {@link DescriptorTable} for `speed`. `highSpeedCapable` decides whether the device
 * qualifier / other-speed configuration exist (USB 2.0 §9.6.2: a full-speed-only device stalls them).
 * ASSUMPTION(link-superspeed-descriptors): USB 3.2 §9.6.2 leaves it to USB 2.0 operation; at SuperSpeed there is no device qualifier.
 */
export function buildDescriptorTable(config: UsbFnRegistryConfig, speed: UsbDeviceSpeed, highSpeedCapable: boolean): DescriptorTable {
  const resolved = resolveConfiguration(config);
  const strings = new Map<number, Uint8Array>();
  strings.set(0, langIdDescriptor());
  for (const [index, text] of resolved.strings) strings.set(index, stringDescriptor(text));
  const usb2Other = highSpeedCapable && speed !== 'super';
  return {
    speed,
    device: deviceDescriptor(config, speed, resolved),
    configuration: configurationDescriptor(config, speed, resolved),
    deviceQualifier: usb2Other ? deviceQualifierDescriptor(config) : undefined,
    otherSpeedConfiguration: usb2Other
      ? configurationDescriptor(config, speed === 'high' ? 'full' : 'high', resolved, USB_DT.OTHER_SPEED_CONFIGURATION)
      : undefined,
    bos: speed === 'super' ? bosDescriptor() : undefined,
    strings,
  };
}
