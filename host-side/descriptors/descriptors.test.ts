import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/index.js';
import { parseBosDescriptor, USB_DEVICE_CAPABILITY } from './bos-descriptor.js';
import { parseConfigurationDescriptor } from './configuration-descriptor.js';
import { encodeDeviceDescriptor, parseDeviceDescriptor } from './device-descriptor.js';
import { encodeLangIds, encodeStringDescriptor, parseLangIds, parseStringDescriptor } from './string-descriptor.js';

function hex(s: string): Uint8Array {
  const clean = s.replace(/#[^\n]*/g, '').replace(/\s+/g, '');
  return Uint8Array.from(clean.match(/../g) ?? [], (h) => parseInt(h, 16));
}

const DEVICE = hex(`
  12 01      # bLength 18, DEVICE
  0002       # bcdUSB 2.00
  00 00 00   # class/subclass/protocol (per interface)
  40         # bMaxPacketSize0 64
  0912 0100  # idVendor 0x1209, idProduct 0x0001
  0001       # bcdDevice 1.00
  01 02 03   # iManufacturer, iProduct, iSerialNumber
  01         # bNumConfigurations
`);

const CONFIG = hex(`
  09 02 4000 01 01 00 c0 fa           # configuration: wTotalLength 64, 1 interface, value 1, self-powered, 500 mA
  08 0b 00 01 ff 00 00 00             # IAD: first 0, count 1, vendor
  09 04 00 00 02 ff 00 00 04          # interface 0 alt 0, 2 endpoints, vendor, iInterface 4
  05 24 00 10 01                      # class-specific (CS_INTERFACE) → interface extra
  07 05 01 02 0002 00                 # EP 0x01 bulk OUT 512
  06 30 0f 00 0000                    # SS companion: bMaxBurst 15
  07 05 81 02 0002 00                 # EP 0x81 bulk IN 512
  04 25 01 00                         # class-specific endpoint (CS_ENDPOINT) → endpoint extra
  09 04 00 01 00 ff 00 00 00          # interface 0 alt 1, no endpoints
`);

const BOS = hex(`
  05 0f 2800 02                        # BOS: wTotalLength 40, 2 capabilities
  07 10 02 06000000                    # USB 2.0 extension: LPM
  1c 10 05 00                          # platform capability, bReserved
  df60ddd8 8945 c74c 9cd2 659d9e648a9f # MS OS 2.0 UUID D8DD60DF-4589-4CC7-9CD2-659D9E648A9F
  00000a06 b200 01 00                  # dwWindowsVersion, wMSOSDescriptorSetTotalLength, bMS_VendorCode, bAltEnumCode
`);

describe('device descriptor', () => {
  it('parses the golden 18 bytes', () => {
    expect(parseDeviceDescriptor(DEVICE)).toEqual({
      bLength: 18, bDescriptorType: 1, bcdUSB: 0x0200, bDeviceClass: 0, bDeviceSubClass: 0, bDeviceProtocol: 0,
      bMaxPacketSize0: 64, idVendor: 0x1209, idProduct: 0x0001, bcdDevice: 0x0100, iManufacturer: 1, iProduct: 2,
      iSerialNumber: 3, bNumConfigurations: 1,
    });
  });
  it('encodes back to the same bytes', () => {
    const { bLength: _l, bDescriptorType: _t, ...fields } = parseDeviceDescriptor(DEVICE);
    expect(Array.from(encodeDeviceDescriptor(fields))).toEqual(Array.from(DEVICE));
    expect(() => encodeDeviceDescriptor({ ...fields, idVendor: 0x10000 })).toThrow(/idVendor/);
  });
  it('rejects short, mistyped and over-long input', () => {
    expect(() => parseDeviceDescriptor(DEVICE.subarray(0, 8))).toThrow(/runs past/);
    const t = DEVICE.slice();
    t[1] = 2;
    expect(() => parseDeviceDescriptor(t)).toThrow(/bDescriptorType 0x02, expected 0x01/);
    const l = DEVICE.slice();
    l[0] = 9;
    expect(() => parseDeviceDescriptor(l)).toThrow(UsageError);
    expect(() => parseDeviceDescriptor(new Uint8Array(1))).toThrow(/DECODE/);
  });
});

describe('configuration descriptor', () => {
  it('parses interfaces, endpoints, SS companion, IAD and class-specific extras', () => {
    const c = parseConfigurationDescriptor(CONFIG);
    expect(c).toMatchObject({ wTotalLength: 64, bNumInterfaces: 1, bConfigurationValue: 1, bmAttributes: 0xc0, bMaxPower: 0xfa });
    expect(c.associations).toEqual([{ bFirstInterface: 0, bInterfaceCount: 1, bFunctionClass: 0xff, bFunctionSubClass: 0, bFunctionProtocol: 0, iFunction: 0 }]);
    expect(c.interfaces).toHaveLength(2);
    const [alt0, alt1] = c.interfaces;
    expect(alt0).toMatchObject({ bInterfaceNumber: 0, bAlternateSetting: 0, bInterfaceClass: 0xff, iInterface: 4 });
    expect(Array.from(alt0?.extra ?? [])).toEqual([5, 0x24, 0, 0x10, 1]);
    expect(alt0?.endpoints[0]).toMatchObject({ bEndpointAddress: 0x01, direction: 'out', transferType: 'bulk', wMaxPacketSize: 512, ssCompanion: { bMaxBurst: 15, bmAttributes: 0, wBytesPerInterval: 0 } });
    expect(alt0?.endpoints[1]).toMatchObject({ bEndpointAddress: 0x81, direction: 'in', transferType: 'bulk', ssCompanion: undefined });
    expect(Array.from(alt0?.endpoints[1]?.extra ?? [])).toEqual([4, 0x25, 1, 0]);
    expect(alt1).toMatchObject({ bAlternateSetting: 1, endpoints: [] });
  });
  it('asks for wTotalLength when given only the 9-byte header', () => {
    expect(() => parseConfigurationDescriptor(CONFIG.subarray(0, 9))).toThrow(/wLength = wTotalLength/);
  });
  it('rejects bLength 0, overruns, orphan endpoints and endpoint-count mismatches', () => {
    const zero = CONFIG.slice();
    zero[9] = 0;
    expect(() => parseConfigurationDescriptor(zero)).toThrow(/bLength 0/);
    const over = CONFIG.slice();
    over[55] = 0x20;
    expect(() => parseConfigurationDescriptor(over)).toThrow(/runs past/);
    expect(() => parseConfigurationDescriptor(hex('09 02 1000 01 01 00 80 32   07 05 81 02 4000 00'))).toThrow(/precedes every interface/);
    expect(() => parseConfigurationDescriptor(hex('09 02 1200 01 01 00 80 32   09 04 00 00 01 ff 00 00 00'))).toThrow(/bNumEndpoints 1 but has 0/);
    expect(() => parseConfigurationDescriptor(hex('09 02 1000 01 01 00 80 32   06 30 00 00 0000 00'))).toThrow(/companion/);
  });
});

describe('BOS descriptor', () => {
  it('parses the USB 2.0 extension and the MS OS 2.0 platform capability', () => {
    const b = parseBosDescriptor(BOS);
    expect(b.wTotalLength).toBe(40);
    expect(b.capabilities.map((c) => c.bDevCapabilityType)).toEqual([USB_DEVICE_CAPABILITY.USB_2_0_EXTENSION, USB_DEVICE_CAPABILITY.PLATFORM]);
    expect(b.capabilities[1]?.platformUuid).toBe('D8DD60DF-4589-4CC7-9CD2-659D9E648A9F');
    expect(b.capabilities[1]?.data.length).toBe(25);
  });
  it('rejects truncation and count mismatches', () => {
    expect(() => parseBosDescriptor(BOS.subarray(0, 5))).toThrow(/wTotalLength 40/);
    const n = BOS.slice();
    n[4] = 3;
    expect(() => parseBosDescriptor(n)).toThrow(/bNumDeviceCaps 3 but 2/);
  });
});

describe('string descriptors', () => {
  it('parses the LANGID list and a UTF-16LE string', () => {
    expect(parseLangIds(hex('04 03 0904'))).toEqual([0x0409]);
    expect(parseStringDescriptor(hex('0a 03 5500 5300 4200 a900'))).toBe('USB©');
  });
  it('encodes strings and LANGIDs', () => {
    expect(Array.from(encodeStringDescriptor('Hi'))).toEqual([6, 3, 0x48, 0, 0x69, 0]);
    expect(Array.from(encodeLangIds([0x0409, 0x0407]))).toEqual([6, 3, 0x09, 0x04, 0x07, 0x04]);
    expect(parseStringDescriptor(encodeStringDescriptor('usbfn-hil ✓'))).toBe('usbfn-hil ✓');
    expect(() => encodeStringDescriptor('x'.repeat(127))).toThrow(/at most 126/);
  });
  it('rejects odd lengths and wrong types', () => {
    expect(() => parseStringDescriptor(hex('05 03 4100 42'))).toThrow(/odd/);
    expect(() => parseLangIds(hex('03 03 09'))).toThrow(/odd/);
    expect(() => parseStringDescriptor(hex('04 02 4100'))).toThrow(/bDescriptorType/);
  });
});
