import { describe, expect, it } from 'vitest';
import { checkHubPort, uhubctlActionArgs, uhubctlStatusArgs } from './uhubctl-command.js';

describe('uhubctlActionArgs', () => {
  it('builds -l <hub> -p <port> -a <action> argument arrays', () => {
    expect(uhubctlActionArgs({ hub: '1-1', port: 2, action: 'off' })).toEqual(['-l', '1-1', '-p', '2', '-a', 'off']);
    expect(uhubctlActionArgs({ hub: '3-1.4.2', port: 14, action: 'on' })).toEqual(['-l', '3-1.4.2', '-p', '14', '-a', 'on']);
    expect(uhubctlActionArgs({ hub: '1', port: 3, action: 'off', repeat: 20, exact: true })).toEqual(['-l', '1', '-p', '3', '-a', 'off', '-r', '20', '-e']);
  });

  it('gives a cycle its off time in seconds (-d) and leaves -r off an on action', () => {
    expect(uhubctlActionArgs({ hub: '1-1', port: 2, action: 'cycle', cycleDelayMs: 1500, repeat: 3 })).toEqual(['-l', '1-1', '-p', '2', '-a', 'cycle', '-d', '1.5', '-r', '3']);
    expect(uhubctlActionArgs({ hub: '1-1', port: 2, action: 'on', cycleDelayMs: 1500, repeat: 3 })).toEqual(['-l', '1-1', '-p', '2', '-a', 'on']);
  });

  it('rejects locations, ports, delays and repeats that uhubctl would misread', () => {
    for (const hub of ['', '1-1; reboot', '1-', 'a-1', '1-1.', '$(id)', '1-1 -a on']) {
      expect(() => uhubctlActionArgs({ hub, port: 2, action: 'off' }), hub).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringContaining('uhubctl hub location') }));
    }
    for (const port of [0, 15, 1.5, Number.NaN]) {
      expect(() => checkHubPort('1-1', port)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringContaining('1..14') }));
    }
    expect(() => uhubctlActionArgs({ hub: '1-1', port: 2, action: 'cycle', cycleDelayMs: -1 })).toThrow(/cycleDelayMs/);
    expect(() => uhubctlActionArgs({ hub: '1-1', port: 2, action: 'off', repeat: 0 })).toThrow(/repeat/);
  });

  it('builds a status query without an action', () => {
    expect(uhubctlStatusArgs('1-1', 2)).toEqual(['-l', '1-1', '-p', '2']);
    expect(uhubctlStatusArgs('1-1', 2, true)).toEqual(['-l', '1-1', '-p', '2', '-e']);
  });
});
