/**
 * The bulk endpoints of a test function as the device reports them: the bulk OUT / bulk IN pair of one
 * interface (alternate setting) in the configuration descriptor the device returns at its current speed,
 * so the host agent never guesses wMaxPacketSize from a table by speed.
 *
 * @see USB 2.0 §9.4.3 (GET_DESCRIPTOR), §9.6.3–§9.6.6 (configuration, interface, endpoint descriptors),
 * §5.8.3 (bulk wMaxPacketSize: 8–64 at full speed, 512 at high speed); USB 3.2 §9.6.6 (1024 at SuperSpeed)
 */
import { UsageError, USB_DT } from '../../core/index.js';
import { parseConfigurationDescriptor, type ConfigurationDescriptor, type EndpointDescriptor } from '../descriptors/index.js';
import { getDescriptorSetup } from '../setup-packet.js';
import type { UsbDeviceHandle, UsbTransferOptions } from '../usb-host.js';
import { TestProtocolError } from './test-protocol-error.js';

/** The bulk pair a test function moves data on. */
export interface FunctionEndpoints {
  /** bEndpointAddress of the bulk OUT endpoint (direction bit clear). */
  readonly bulkOutEndpoint: number;
  /** bEndpointAddress of the bulk IN endpoint (0x80 set). */
  readonly bulkInEndpoint: number;
  /** wMaxPacketSize bits 10..0 of the bulk OUT endpoint. */
  readonly bulkOutMaxPacketSize: number;
  /** wMaxPacketSize bits 10..0 of the bulk IN endpoint: where a transfer that is a multiple of it needs a ZLP. */
  readonly bulkInMaxPacketSize: number;
}

/** Bytes of the configuration descriptor header, which carries wTotalLength (USB 2.0 Table 9-10). */
const CONFIGURATION_HEADER_BYTES = 9;

/**
 * Reads GET_DESCRIPTOR(CONFIGURATION) the way hosts do (the 9-byte header, then wTotalLength bytes) and
 * returns the bulk pair of `interfaceNumber` / `alternateSetting`.
 * @throws TestProtocolError when the device stalls the request or the interface has no bulk OUT / IN pair;
 * UsageError INVALID_ARGUMENT when the configuration has no such interface, DECODE for malformed descriptors;
 * LibusbError on timeouts, cancellation or device loss.
 */
export async function readFunctionEndpoints(
  handle: UsbDeviceHandle,
  interfaceNumber: number,
  options: UsbTransferOptions & { alternateSetting?: number | undefined } = {},
): Promise<FunctionEndpoints> {
  const transfer = { timeoutMs: options.timeoutMs, signal: options.signal };
  const head = await readConfiguration(handle, CONFIGURATION_HEADER_BYTES, transfer);
  // wTotalLength; a header too short to carry it is left to the parser's DECODE error.
  const wTotalLength = head.length >= 4 ? (head[2] ?? 0) | ((head[3] ?? 0) << 8) : head.length;
  const whole = wTotalLength > head.length ? await readConfiguration(handle, wTotalLength, transfer) : head;
  return functionEndpointsOf(parseConfigurationDescriptor(whole), interfaceNumber, options.alternateSetting ?? 0);
}

/**
 * The first bulk OUT and the first bulk IN endpoint of one interface's alternate setting.
 * @throws UsageError INVALID_ARGUMENT when the interface is absent; TestProtocolError when it lacks either.
 */
export function functionEndpointsOf(config: ConfigurationDescriptor, interfaceNumber: number, alternateSetting = 0): FunctionEndpoints {
  const iface = config.interfaces.find((i) => i.bInterfaceNumber === interfaceNumber && i.bAlternateSetting === alternateSetting);
  if (iface === undefined) {
    const present = config.interfaces.map((i) => `${i.bInterfaceNumber}/${i.bAlternateSetting}`).join(', ') || 'none';
    throw new UsageError(
      'INVALID_ARGUMENT',
      `interface ${interfaceNumber} alternate setting ${alternateSetting} is not in configuration ${config.bConfigurationValue} (interface/alternate: ${present}): open the agent on the test function's interface`,
      { interfaceNumber, alternateSetting },
    );
  }
  const bulk = (direction: 'in' | 'out'): EndpointDescriptor => {
    const ep = iface.endpoints.find((e) => e.transferType === 'bulk' && e.direction === direction);
    if (ep === undefined) {
      throw new TestProtocolError(
        `GET_DESCRIPTOR(CONFIGURATION) interface ${interfaceNumber}/${alternateSetting}`,
        `has no bulk ${direction.toUpperCase()} endpoint (it has ${iface.endpoints.map((e) => `0x${e.bEndpointAddress.toString(16)} ${e.transferType}`).join(', ') || 'none'}): is the test function running on it?`,
        { interfaceNumber, alternateSetting },
      );
    }
    return ep;
  };
  const out = bulk('out');
  const inn = bulk('in');
  return {
    bulkOutEndpoint: out.bEndpointAddress,
    bulkInEndpoint: inn.bEndpointAddress,
    // Bits 12..11 are extra transactions per microframe, meaningful for periodic endpoints only (USB 2.0 §9.6.6).
    bulkOutMaxPacketSize: out.wMaxPacketSize & 0x7ff,
    bulkInMaxPacketSize: inn.wMaxPacketSize & 0x7ff,
  };
}

async function readConfiguration(handle: UsbDeviceHandle, length: number, options: UsbTransferOptions): Promise<Uint8Array> {
  // Index 0: a USB function controller exposes one configuration (its USBFN registry configuration).
  const r = await handle.controlIn(getDescriptorSetup(USB_DT.CONFIGURATION, 0), length, options);
  if (r.status !== 'ok') {
    throw new TestProtocolError('GET_DESCRIPTOR(CONFIGURATION)', `ended with status ${r.status}: the device reports no configuration descriptor`);
  }
  return r.data.slice();
}
