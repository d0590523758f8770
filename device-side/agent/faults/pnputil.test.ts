/**
 * pnputil: the command builder, the verbs parsed from `pnputil /?`, the result parser and the instance id of
 * a symbolic link, with recorded outputs run through the real runner (exec seam).
 *
 * ASSUMPTION: the outputs below follow the syntax and wording of Microsoft's "PnPUtil Command Syntax" page
 * (Windows 10 1809 lacks the device verbs; 2004 and later have them); the exact wording on a bench is to be
 * recorded there. The parser relies on the exit code and only shows the words.
 */
import { describe, expect, it } from 'vitest';
import { AgentError } from '../agent-error.js';
import { PnputilRunner, type PnputilExec } from './pnp-runner.js';
import { instanceIdFromSymbolicLink, parsePnputilResult, parsePnputilVerbs, pnputilCommand } from './pnputil.js';

const HELP_2004 = `Microsoft PnP Utility

PNPUTIL [/add-driver <...> | /delete-driver <...> |
         /export-driver <...> | /enum-drivers |
         /enum-devices [<...>] | /enum-interfaces [<...>] |
         /disable-device <...> | /enable-device <...> |
         /restart-device <...> | /remove-device <...> |
         /scan-devices [<...>] | /enum-classes [<...>] |
         /?]

Commands:

  /disable-device <instance ID> [/reboot]

     Disable devices on the system.
`;

const HELP_1809 = `Microsoft PnP Utility

PNPUTIL [/add-driver <...> | /delete-driver <...> |
         /export-driver <...> | /enum-drivers | /?]
`;

const ID = 'USBFN\\UsbfnHilLoopback\\5&1a2b3c&0&0';
const LINK = '\\\\?\\USBFN#UsbfnHilLoopback#5&1a2b3c&0&0#{7a1c9e52-3b4d-4f86-a0e1-5d2c8b6f9a13}';

describe('pnputil', () => {
  it('builds the argument vector without a shell (the & of an instance id needs no quoting)', () => {
    expect(pnputilCommand('disable', ID)).toEqual({ file: 'pnputil.exe', args: ['/disable-device', ID] });
    expect(pnputilCommand('enable', ID).args[0]).toBe('/enable-device');
    expect(pnputilCommand('restart', ID).args[0]).toBe('/restart-device');
  });

  it('reads the verbs a Windows build offers from its help text', () => {
    expect(parsePnputilVerbs(HELP_2004)).toEqual(['disable', 'enable', 'restart']);
    expect(parsePnputilVerbs(HELP_1809)).toEqual([]);
    expect(parsePnputilVerbs('/restart-devices-later only')).toEqual([]);
  });

  it('turns exit code 0 into an outcome with the last printed line', () => {
    const out = { exitCode: 0, stdout: `Microsoft PnP Utility\r\n\r\nRestarting device:          ${ID}\r\nDevice restarted successfully.\r\n`, stderr: '' };
    expect(parsePnputilResult('restart', ID, out)).toEqual({ verb: 'restart', instanceId: ID, rebootRequired: false, summary: 'Device restarted successfully.' });
  });

  it('refuses a change that needs a reboot (3010) and a failure, with pnputil words and a fix', () => {
    const reboot = { exitCode: 3010, stdout: 'Microsoft PnP Utility\n\nDisabling device: X\nSystem reboot is needed to complete the operation.\n', stderr: '' };
    expect(() => parsePnputilResult('disable', ID, reboot)).toThrow(/ERROR_SUCCESS_REBOOT_REQUIRED|3010/);
    const denied = { exitCode: 5, stdout: `Microsoft PnP Utility\n\nDisabling device:           ${ID}\nFailed to disable device: Access is denied.\n`, stderr: '' };
    let err: unknown;
    try {
      parsePnputilResult('disable', ID, denied);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AgentError);
    expect(err).toMatchObject({ code: 'LAB_AGENT_PNP_FAILED', data: { verb: 'disable', exitCode: 5 } });
    expect((err as AgentError).message).toContain('Access is denied');
    expect((err as AgentError).fix).toMatch(/elevated/);
  });

  it('derives the devnode instance id from the symbolic link, and refuses other forms', () => {
    expect(instanceIdFromSymbolicLink(LINK)).toBe(ID);
    expect(instanceIdFromSymbolicLink(`${LINK}\\ref`)).toBe(ID);
    expect(() => instanceIdFromSymbolicLink('COM3')).toThrow(AgentError);
    expect(() => instanceIdFromSymbolicLink('\\\\?\\nohash{7a1c9e52-3b4d-4f86-a0e1-5d2c8b6f9a13}')).toThrow(/instance id/);
  });

  it('runs through the exec seam: verbs from /?, a run, and an exec that cannot start', async () => {
    const calls: string[][] = [];
    const exec: PnputilExec = async (file, args) => {
      calls.push([file, ...args]);
      if (args[0] === '/?') return { exitCode: 0, stdout: HELP_2004, stderr: '' };
      return { exitCode: 0, stdout: 'Device enabled successfully.\n', stderr: '' };
    };
    const runner = new PnputilRunner({ exec });
    expect(await runner.verbs()).toEqual(['disable', 'enable', 'restart']);
    expect(await runner.run('enable', ID)).toMatchObject({ summary: 'Device enabled successfully.' });
    expect(calls).toEqual([['pnputil.exe', '/?'], ['pnputil.exe', '/enable-device', ID]]);

    const missing = new PnputilRunner({ exec: async () => Promise.reject(Object.assign(new Error('spawn pnputil.exe ENOENT'), { code: 'ENOENT' })) });
    expect(await missing.verbs()).toEqual([]);
    await expect(missing.run('restart', ID)).rejects.toMatchObject({ code: 'LAB_AGENT_PNP_FAILED' });
  });
});
