/**
 * The simulated function's configuration, given as data shaped like the USBFN registry keys
 * (docs/reference/registry.md: `HKLM\SYSTEM\CurrentControlSet\Control\USBFN`). A lab device is configured with the
 * same values in its registry, so one description serves both worlds.
 *
 * Value names are kept verbatim from the registry. Descriptor bytes (`InterfaceDescriptor`) are the
 * concatenation the registry holds: a 9-byte interface descriptor, optional class-specific descriptors,
 * then one 7-byte endpoint descriptor per endpoint (ASSUMPTION(reg-endpoint-descriptors)).
 */

/** `USBFN\Interfaces\<name>` */
export interface UsbFnInterfaceKey {
  /** REG_BINARY: interface descriptor + class-specific + endpoint descriptors. bInterfaceNumber/iInterface are overwritten by the stack. */
  readonly InterfaceDescriptor: Uint8Array;
  /** REG_SZ: braced device-interface class GUID the user-mode service listens for. */
  readonly InterfaceGUID: string;
  /** REG_DWORD: fixed interface number (0x00–0x1F legacy, 0x20–0x3F Microsoft, 0x40–0x5F OEM). */
  readonly InterfaceNumber?: number | undefined;
  /** REG_BINARY (optional) */
  readonly MSOSExtendedPropertyDescriptor?: Uint8Array | undefined;
}

/** `USBFN\Alternates\<name>`: InterfaceList index = alternate setting. */
export interface UsbFnAlternatesKey {
  readonly InterfaceList: readonly string[];
  readonly InterfaceNumber?: number | undefined;
}

/** `USBFN\Configurations\<name>` */
export interface UsbFnConfigurationKey {
  /** REG_MULTI_SZ: names of subkeys under Interfaces / Alternates. */
  readonly InterfaceList: readonly string[];
  /** Configuration descriptor bmAttributes. ASSUMPTION(reg-config-attributes): default 0xC0 (self-powered), the *IoT USB page* example. */
  readonly bmAttributes?: number | undefined;
  /** bMaxPower in 2 mA units. ASSUMPTION(reg-config-attributes): default 0xFA, the *IoT USB page* example. */
  readonly bMaxPower?: number | undefined;
}

/** The USBFN root key and its subkeys. */
export interface UsbFnRegistryConfig {
  // ASSUMPTION(reg-root-overrides): the `USBFN\Default` names (BcdDevice, bDeviceClass, SerialNumberString, …)
  // may be set at the root; missing root values fall back to Default (*Registry page*).
  readonly idVendor: number;
  readonly idProduct: number;
  readonly BcdDevice?: number | undefined;
  readonly bDeviceClass?: number | undefined;
  readonly bDeviceSubClass?: number | undefined;
  readonly bDeviceProtocol?: number | undefined;
  readonly ManufacturerString: string;
  readonly ProductString: string;
  /** 0 = no serial number string; non-zero/absent = a serial number (SerialNumberString) is reported. */
  readonly iSerialNumber?: number | undefined;
  readonly SerialNumberString?: string | undefined;
  /** Name of the `Configurations` subkey to enumerate with. */
  readonly CurrentConfiguration: string;
  readonly Configurations: Readonly<Record<string, UsbFnConfigurationKey>>;
  readonly Interfaces: Readonly<Record<string, UsbFnInterfaceKey>>;
  readonly Alternates?: Readonly<Record<string, UsbFnAlternatesKey>> | undefined;
}

/** Where the simulated function sits in Configuration Manager (not part of the registry). */
export interface SimDeviceIdentity {
  /** Device instance ID of the USBFN child device, e.g. `USBFN\LOOPBACK\5&1A2B3C&0&0`. */
  readonly deviceInstanceId: string;
}
