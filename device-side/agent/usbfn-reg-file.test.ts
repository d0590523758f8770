/** The .reg writer: value types and escaping as regedit reads them. */
import { describe, expect, it } from 'vitest';
import { renderUsbFnRegFile, USBFN_REGISTRY_ROOT } from './usbfn-reg-file.js';

describe('renderUsbFnRegFile', () => {
  it('writes REG_DWORD, REG_SZ (escaped), REG_BINARY and REG_MULTI_SZ under the USBFN keys, CRLF', () => {
    const text = renderUsbFnRegFile(
      {
        idVendor: 0x1209,
        ManufacturerString: 'a "quoted" \\ name',
        Configurations: { Cfg: { InterfaceList: ['AB', 'C'], bMaxPower: 0xfa } },
        Interfaces: { AB: { InterfaceDescriptor: Uint8Array.from([9, 4, 0xff]), InterfaceGUID: '{G}' } },
      },
      ['hello'],
    );
    const lines = text.split('\r\n');
    expect(lines.slice(0, 5)).toEqual(['Windows Registry Editor Version 5.00', '', '; hello', '', `[${USBFN_REGISTRY_ROOT}]`]);
    expect(lines).toContain('"idVendor"=dword:00001209');
    expect(lines).toContain('"ManufacturerString"="a \\"quoted\\" \\\\ name"');
    expect(lines).toContain(`[${USBFN_REGISTRY_ROOT}\\Configurations\\Cfg]`);
    // "AB\0C\0\0" in UTF-16LE.
    expect(lines).toContain('"InterfaceList"=hex(7):41,00,42,00,00,00,43,00,00,00,00,00');
    expect(lines).toContain('"InterfaceDescriptor"=hex:09,04,ff');
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text).not.toMatch(/[^\r]\n/);
    expect(() => renderUsbFnRegFile({ idVendor: -1, Configurations: {}, Interfaces: {} })).toThrow(RangeError);
  });
});
