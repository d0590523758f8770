/**
 * The pipes of one GenericUSBFn function, derived from its USBFN registry configuration (docs/reference/registry.md):
 * which interface the function is, its descriptor set per speed, and the PipeId → endpoint table that
 * GET_CLASS_INFO reports and the transfer IOCTLs address.
 *
 * @see docs/reference/structs.md#usbfn-pipe-information, #usbfn-class-interface, #usbfn-interface-info
 */
import { type UsbDeviceSpeed, UsageError, USB_DT } from '../../core/index.js';
import { interfaceDescriptorSet, resolveConfiguration, type UsbFnRegistryConfig } from '../config/index.js';

/** USB_DESCRIPTOR_TYPE values used here (usbspec.h; USB 2.0 §9.4 Table 9-5). */

/** MAX_NUM_USBFN_ENDPOINTS (usbfnbase.h, docs/reference/structs.md#constants). */
export const MAX_NUM_USBFN_ENDPOINTS = 15;

/** bmAttributes transfer type (USB 2.0 §9.6.6). */
export type EndpointType = 'control' | 'isochronous' | 'bulk' | 'interrupt';
const ENDPOINT_TYPES: readonly EndpointType[] = ['control', 'isochronous', 'bulk', 'interrupt'];

/** Every speed a USBFN_CLASS_INFORMATION_PACKET describes. */
export const PIPE_SPEEDS: readonly UsbDeviceSpeed[] = ['full', 'high', 'super'];

/** One pipe of the function at one speed (a USBFN_PIPE_INFORMATION). */
export interface PipeInfo {
  /** USBFNPIPEID: 0 is EP0; interface endpoints are 1..n in descriptor order. */
  readonly pipeId: number;
  /** bEndpointAddress (0x81, 0x02, ...). */
  readonly endpointAddress: number;
  readonly direction: 'in' | 'out';
  readonly type: EndpointType;
  /** wMaxPacketSize at this speed. */
  readonly maxPacketSize: number;
  /** The 7-byte USB_ENDPOINT_DESCRIPTOR as the host sees it at this speed. */
  readonly descriptor: Uint8Array;
}

/**
 * Produces the interface descriptor set (interface + class-specific + endpoint descriptors) the host
 * sees at `speed` for interface `interfaceNumber`. Default: `interfaceDescriptorSet` of
 * simulator/config/descriptors.ts, the same bytes the bus model puts in the configuration descriptor.
 */
export type DescriptorSetProvider = (
  config: UsbFnRegistryConfig,
  interfaceNumber: number,
  speed: UsbDeviceSpeed,
) => Uint8Array;

/** Which registry interface this GenericUSBFn instance serves, resolved from the configuration. */
export interface FunctionIdentity {
  /** The `InterfaceList` entry (an `Interfaces` or `Alternates` key): GET_CLASS_INFO's InterfaceName. */
  readonly interfaceName: string;
  /** The interface number the host sees (same rule as the bus model: simulator/config/descriptors.ts). */
  readonly interfaceNumber: number;
  /** Braced device-interface class GUID (InterfaceGUID of alternate setting 0). */
  readonly interfaceGuid: string;
}

/**
 * Resolves the function's interface from `CurrentConfiguration`, with the bus model's numbering rule
 * (`resolveConfiguration`: registry `InterfaceNumber`, else the position in `InterfaceList`).
 * @throws UsageError INVALID_CONFIG when the configuration or interface is missing or inconsistent.
 */
export function resolveFunctionIdentity(config: UsbFnRegistryConfig, interfaceName?: string): FunctionIdentity {
  const resolved = resolveConfiguration(config);
  const iface = interfaceName === undefined ? resolved.interfaces[0] : resolved.interfaces.find((i) => i.name === interfaceName);
  if (iface === undefined) {
    throw new UsageError(
      'INVALID_CONFIG',
      `interface '${interfaceName ?? '(first)'}' is not in the InterfaceList of configuration '${config.CurrentConfiguration}' ` +
        `(it lists ${resolved.interfaces.map((i) => i.name).join(', ') || 'nothing'})`,
    );
  }
  return { interfaceName: iface.name, interfaceNumber: iface.interfaceNumber, interfaceGuid: iface.interfaceGuid };
}

/** Calls `visit(offset, bDescriptorType)` for every descriptor in a concatenation (bLength-chained). */
function walkDescriptors(bytes: Uint8Array, visit: (offset: number, type: number) => void): void {
  let offset = 0;
  while (offset + 2 <= bytes.length) {
    const bLength = bytes[offset]!;
    if (bLength < 2 || offset + bLength > bytes.length) {
      throw new UsageError(
        'INVALID_CONFIG',
        `descriptor set: descriptor at offset ${offset} has bLength ${bLength}, which runs past the ${bytes.length}-byte set; ` +
          'every descriptor must carry its correct bLength (docs/reference/registry.md#interface-descriptor-format)',
      );
    }
    visit(offset, bytes[offset + 1]!);
    offset += bLength;
  }
}

/**
 * The function's pipes at every speed, and its descriptor set per speed. Built once per model: lookups on
 * the transfer path are array indexing.
 */
export class FunctionPipes {
  readonly identity: FunctionIdentity;
  /** Interface endpoints (EP0 excluded), indexed by pipeId - 1, per speed. */
  readonly #bySpeed: ReadonlyMap<UsbDeviceSpeed, readonly PipeInfo[]>;
  readonly #descriptorSets: ReadonlyMap<UsbDeviceSpeed, Uint8Array>;

  constructor(config: UsbFnRegistryConfig, options: { interfaceName?: string; descriptorSet?: DescriptorSetProvider } = {}) {
    this.identity = resolveFunctionIdentity(config, options.interfaceName);
    const provider = options.descriptorSet ?? interfaceDescriptorSet;
    const bySpeed = new Map<UsbDeviceSpeed, PipeInfo[]>();
    const sets = new Map<UsbDeviceSpeed, Uint8Array>();
    for (const speed of PIPE_SPEEDS) {
      const set = provider(config, this.identity.interfaceNumber, speed);
      sets.set(speed, set);
      const pipes: PipeInfo[] = [];
      walkDescriptors(set, (offset, type) => {
        if (type !== USB_DT.ENDPOINT) return;
        const descriptor = set.slice(offset, offset + 7);
        const address = descriptor[2]!;
        // ASSUMPTION(drv-pipe-ids): alternates are not described for GET_CLASS_INFO; one pipe per
        // endpoint address, in first-appearance order (alternate setting 0 first).
        if (pipes.some((p) => p.endpointAddress === address)) return;
        pipes.push({
          pipeId: pipes.length + 1,
          endpointAddress: address,
          direction: address & 0x80 ? 'in' : 'out',
          type: ENDPOINT_TYPES[descriptor[3]! & 0x03]!,
          maxPacketSize: (descriptor[4]! | (descriptor[5]! << 8)) & 0x7ff,
          descriptor,
        });
      });
      if (pipes.length > MAX_NUM_USBFN_ENDPOINTS) {
        throw new UsageError(
          'INVALID_CONFIG',
          `interface '${this.identity.interfaceName}' has ${pipes.length} endpoints; a function has at most ` +
            `MAX_NUM_USBFN_ENDPOINTS (15) plus EP0 (docs/reference/structs.md#constants)`,
        );
      }
      bySpeed.set(speed, pipes);
    }
    this.#bySpeed = bySpeed;
    this.#descriptorSets = sets;
  }

  /** Interface endpoints at `speed` (EP0 not included), in PipeId order 1..n. */
  pipes(speed: UsbDeviceSpeed): readonly PipeInfo[] {
    return this.#bySpeed.get(speed)!;
  }

  /** The pipe with `pipeId` (≥ 1) at `speed`, or undefined. PipeIds are the same at every speed. */
  pipe(pipeId: number, speed: UsbDeviceSpeed): PipeInfo | undefined {
    return this.#bySpeed.get(speed)![pipeId - 1];
  }

  /** The interface descriptor set at `speed` (GET_INTERFACE_DESCRIPTOR_SET payload). */
  descriptorSet(speed: UsbDeviceSpeed): Uint8Array {
    return this.#descriptorSets.get(speed)!;
  }
}
