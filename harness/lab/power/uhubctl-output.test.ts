import { describe, expect, it } from 'vitest';
import { POWER_ERROR } from './power-control-error.js';
import { uhubctlFixture } from './testing/index.js';
import { hubsOf, parseUhubctlDescription, parseUhubctlOutput } from './uhubctl-output.js';

const stdout = (name: string, exit = 0): string => uhubctlFixture(name, exit).stdout;

describe('parseUhubctlOutput', () => {
  it('reads a listing: hub location, VID:PID, USB version, port count, power switching, port lines', () => {
    const out = parseUhubctlOutput(stdout('ppps-list'));
    expect(out.sent).toEqual([]);
    expect(out.blocks.map((b) => [b.phase, b.location, b.hub.powerSwitching, b.hub.portCount, b.ports.length])).toEqual([
      ['current', '1-1', 'ppps', 4, 4],
      ['current', '1', 'ppps', 12, 12],
    ]);
    const hub = out.blocks[0]!;
    expect(hub.hub).toMatchObject({ vendorId: 0x04b4, productId: 0x6570, strings: 'USB2.0 Hub', usbVersion: '2.00', superSpeed: false });
    expect(hub.ports[1]).toMatchObject({
      port: 2,
      status: 0x0503,
      words: ['power', 'highspeed', 'enable', 'connect'],
      powered: true,
      connected: true,
      device: { vendorId: 0x1209, productId: 0x0001, strings: 'usbfn-hil Loopback LAB-01' },
    });
    expect(hub.ports[0]).toMatchObject({ port: 1, status: 0x0100, words: ['power'], powered: true, connected: false, device: undefined });
    // Root hub: location is the bus alone; two-digit ports; a device without strings.
    const root = out.blocks[1]!;
    expect(root.hub.strings).toBe('Linux 6.1.0-18-amd64 xhci-hcd xHCI Host Controller 0000:00:14.0');
    expect(root.ports[9]).toMatchObject({ port: 10, status: 0x0107, device: { vendorId: 0x8087, productId: 0x0026, strings: '' } });
  });

  it('pairs each New status with the power request before it (a cycle is off, then on)', () => {
    const out = parseUhubctlOutput(stdout('ppps-cycle'));
    expect(out.sent).toEqual(['off', 'on']);
    expect(out.blocks.map((b) => [b.phase, b.after, b.ports[0]?.powered])).toEqual([
      ['current', undefined, true],
      ['new', 'off', false],
      ['current', undefined, false],
      ['new', 'on', true],
    ]);
    // Right after power-on the device is connected but not yet enabled.
    expect(out.blocks[3]!.ports[0]).toMatchObject({ status: 0x0101, words: ['power', 'connect'], connected: true });
  });

  it('uses the SuperSpeed power bit (0x0200) on a USB 3 hub and the USB 2 one (0x0100) on its companion', () => {
    const out = parseUhubctlOutput(stdout('usb3-off'));
    const [ssBefore, ssAfter, hsBefore, hsAfter] = out.blocks;
    expect(ssBefore!.hub).toMatchObject({ usbVersion: '3.00', superSpeed: true });
    expect(ssBefore!.location).toBe('2-1');
    expect(ssBefore!.ports[0]).toMatchObject({ status: 0x02a0, powered: true, words: ['power', '5gbps', 'Rx.Detect'] });
    // 0x00a0: link state Rx.Detect, SuperSpeed power bit clear. (Read with the USB 2 layout it has no power bit either.)
    expect(ssAfter!.ports[0]).toMatchObject({ status: 0x00a0, powered: false, words: ['off'] });
    expect(hsBefore!.location).toBe('1-1');
    expect(hsAfter!.ports[0]).toMatchObject({ status: 0x0000, powered: false });
    // The SuperSpeed layout matters: 0x0263 (U3, connected) has bit 0x0100 clear but is powered.
    const list = parseUhubctlOutput(stdout('usb3-list'));
    expect(list.blocks[0]!.ports[3]).toMatchObject({ status: 0x0263, powered: true, connected: true, device: { vendorId: 0x0bda, productId: 0x8153 } });
  });

  it('reads ganged and no-switching hubs (listed by uhubctl -f)', () => {
    const ganged = hubsOf(parseUhubctlOutput(stdout('ganged-force-list')));
    expect(ganged.map((h) => [h.location, h.hub.powerSwitching])).toEqual([
      ['3-4', 'ganged'],
      ['3-1', 'ppps'],
      ['3', 'ppps'],
    ]);
    const nops = hubsOf(parseUhubctlOutput(stdout('no-hubs-force-list')));
    expect(nops[0]!.hub).toMatchObject({ powerSwitching: 'nops', vendorId: 0x05e3, productId: 0x0610 });
  });

  it('keeps the hub block when uhubctl printed no port line (a port the hub does not have)', () => {
    const out = parseUhubctlOutput(stdout('ppps-wrong-port'));
    expect(out.blocks.map((b) => b.ports.length)).toEqual([0, 0]);
    expect(out.sent).toEqual(['off']);
  });

  it('reads a port whose device gave no description ("[]") and a hub uhubctl could not open', () => {
    const out = parseUhubctlOutput('Current status for hub 3-4 [1a40:0101 USB 2.0 Hub]\n  Port 1: 0101 power connect []\n  Port 2: 0000 off\n');
    expect(out.blocks[0]!.hub).toMatchObject({ usbVersion: undefined, portCount: undefined, powerSwitching: undefined, superSpeed: false });
    // Without bcdUSB the layout is unknown: uhubctl's "off" word decides.
    expect(out.blocks[0]!.ports.map((p) => [p.powered, p.device])).toEqual([
      [true, undefined],
      [false, undefined],
    ]);
  });

  it('skips lines it does not need and rejects hub or port lines it cannot read', () => {
    expect(parseUhubctlOutput('Resetting hub...\nReset successful!\n').blocks).toEqual([]);
    expect(() => parseUhubctlOutput('Current status for hub 20-1, vendor 2109:2811, 4 ports\n   Port 1: 0100 power\n')).toThrow(
      expect.objectContaining({ code: POWER_ERROR.unreadableOutput, message: expect.stringContaining('pre-2.3.0 format') }),
    );
    expect(() => parseUhubctlOutput('Current status for hub 1-1 [04b4:6570 USB2.0 Hub, USB 2.00, 4 ports, ppps]\n  Port 2: power\n')).toThrow(
      expect.objectContaining({ code: POWER_ERROR.unreadableOutput, message: expect.stringContaining('line 2') }),
    );
    expect(() => parseUhubctlOutput('  Port 2: 0100 power\n')).toThrow(expect.objectContaining({ message: expect.stringContaining('before any hub line') }));
    expect(() => parseUhubctlOutput('Current status for hub 1-1 [not a description]\n')).toThrow(expect.objectContaining({ code: POWER_ERROR.unreadableOutput }));
  });
});

describe('parseUhubctlDescription', () => {
  it('splits VID:PID, strings and the hub part', () => {
    expect(parseUhubctlDescription('2109:2817 VIA Labs, Inc. USB2.0 Hub, USB 2.10, 4 ports, ppps')).toMatchObject({
      vendorId: 0x2109,
      productId: 0x2817,
      strings: 'VIA Labs, Inc. USB2.0 Hub',
      usbVersion: '2.10',
      portCount: 4,
      powerSwitching: 'ppps',
    });
    expect(parseUhubctlDescription('1209:0001 usbfn-hil Loopback LAB-01')).toMatchObject({ strings: 'usbfn-hil Loopback LAB-01', usbVersion: undefined });
    expect(parseUhubctlDescription('Generic hub')).toBeUndefined();
  });
});
