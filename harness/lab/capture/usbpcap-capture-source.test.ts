import { describe, expect, it } from 'vitest';
import { LINKTYPE_USBPCAP, pcapRecords, readPcapHeader } from './pcap-file.js';
import { AnsweringCommandRunner, FakeCaptureFileSystem, FakeProcessSpawner, fakeUsbpcapCmd, type FakeProcessScript } from './testing/index.js';
import { UsbpcapCaptureSource, usbpcapCandidates, type UsbpcapCaptureSourceOptions } from './usbpcap-capture-source.js';

const CMD = 'C:\\Program Files\\USBPcap\\USBPcapCMD.exe';
const ENV = { ProgramFiles: 'C:\\Program Files', 'ProgramFiles(x86)': 'C:\\Program Files (x86)' };
const FILE = 'C:\\Temp\\usbfn-hil-capture-1\\usbpcap1.pcap';

/** A USBPcap capture (LINKTYPE 249): `n` bulk IN completions of 4 bytes, 1 ms apart (USBPCAP_BUFFER_PACKET_HEADER, 27 bytes). */
function usbpcapFile(n: number): Uint8Array {
  const recordBytes = 16 + 27 + 4;
  const out = new Uint8Array(24 + n * recordBytes);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, 65535, true);
  v.setUint32(20, LINKTYPE_USBPCAP, true);
  for (let i = 0; i < n; i++) {
    const o = 24 + i * recordBytes;
    v.setUint32(o, 1_796_558_400, true); // ts_sec
    v.setUint32(o + 4, i * 1000, true); // ts_usec
    v.setUint32(o + 8, 27 + 4, true); // incl_len
    v.setUint32(o + 12, 27 + 4, true); // orig_len
    const p = o + 16;
    v.setUint16(p, 27, true); //            headerLen
    v.setBigUint64(p + 2, 0xffffa001n + BigInt(i), true); // irpId
    v.setUint32(p + 10, 0, true); //        status USBD_STATUS_SUCCESS
    v.setUint16(p + 14, 0x0009, true); //   URB_FUNCTION_BULK_OR_INTERRUPT_TRANSFER
    out[p + 16] = 1; //                     info: PDO → FDO (completion)
    v.setUint16(p + 17, 1, true); //        bus (root hub)
    v.setUint16(p + 19, 7, true); //        device address
    out[p + 21] = 0x81; //                  endpoint
    out[p + 22] = 3; //                     transfer: bulk
    v.setUint32(p + 23, 4, true); //        dataLength
    out.set([0xde, 0xad, 0xbe, 0xef], p + 27);
  }
  return out;
}

const ELEVATED = 'GROUP INFORMATION\n-----------------\nEveryone  Well-known group S-1-1-0  Mandatory group, Enabled by default, Enabled group\nMandatory Label\\High Mandatory Level  Label  S-1-16-12288\n';
const NOT_ELEVATED = 'GROUP INFORMATION\n-----------------\nEveryone  Well-known group S-1-1-0  Mandatory group, Enabled by default, Enabled group\nMandatory Label\\Medium Mandatory Level  Label  S-1-16-8192\n';
const whoami = (stdout: string): Record<string, { stdout: string }> => ({ 'whoami /groups': { stdout } });

function source(fs: FakeCaptureFileSystem, scripts: Record<string, FakeProcessScript>, answers: Record<string, { stdout: string }>, options: Partial<UsbpcapCaptureSourceOptions> = {}) {
  const spawner = new FakeProcessSpawner(scripts);
  const runner = new AnsweringCommandRunner(answers);
  const capture = new UsbpcapCaptureSource({ busNumber: 1, spawner, runner, fileSystem: fs, env: ENV, platform: 'win32', ...options });
  return { capture, spawner, runner };
}

const windowsHost = (): FakeCaptureFileSystem => new FakeCaptureFileSystem([CMD], { tempRoot: 'C:\\Temp' });

describe('UsbpcapCaptureSource', () => {
  it('captures the root hub with USBPcapCMD, terminates it and keeps the whole records', async () => {
    const fs = windowsHost();
    const recorded = usbpcapFile(5);
    // Terminated mid-write: the file ends with half a record.
    const cut = recorded.slice(0, recorded.length - 20);
    const { capture, spawner } = source(fs, { [CMD]: fakeUsbpcapCmd(fs, cut) }, whoami(ELEVATED));
    expect(capture.kind).toBe('usbpcap');
    await capture.start();
    expect(spawner.spawned.map((p) => [p.file, p.args])).toEqual([[CMD, ['-d', '\\\\.\\USBPcap1', '-o', FILE, '-A']]]);
    const result = await capture.stop();
    if (!('pcap' in result)) throw new Error(result.unavailable);
    expect(readPcapHeader(result.pcap).linkType).toBe(LINKTYPE_USBPCAP);
    expect(pcapRecords(result.pcap)).toMatchObject({ truncatedAt: undefined, records: { length: 4 } });
    expect(result.pcap).toEqual(recorded.slice(0, 24 + 4 * 47));
    expect(spawner.spawned[0]!.signals).toEqual(['SIGTERM']);
    expect([...fs.dirs]).toEqual([]);
  });

  it('uses a configured control device and USBPcapCMD path', async () => {
    const fs = new FakeCaptureFileSystem(['D:\\Tools\\USBPcapCMD.exe'], { tempRoot: 'C:\\Temp' });
    const { capture, spawner } = source(fs, { 'D:\\Tools\\USBPcapCMD.exe': fakeUsbpcapCmd(fs, usbpcapFile(1)) }, whoami(ELEVATED), {
      interfaceName: '\\\\.\\USBPcap3',
      usbpcapCmdPath: 'D:\\Tools\\USBPcapCMD.exe',
    });
    await capture.start();
    expect(spawner.spawned[0]!.args.slice(0, 2)).toEqual(['-d', '\\\\.\\USBPcap3']);
    expect(await capture.stop()).toHaveProperty('pcap');
    expect(() => new UsbpcapCaptureSource({ busNumber: 1, interfaceName: 'USBPcap1' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('is unavailable, with the install hint, where USBPcap is not installed', async () => {
    const { capture, runner } = source(new FakeCaptureFileSystem([]), {}, {});
    await capture.start();
    const r = await capture.stop();
    expect(r).toEqual({
      unavailable:
        'no host capture of bus 1: USBPcap is not installed (no C:\\Program Files\\USBPcap\\USBPcapCMD.exe or C:\\Program Files (x86)\\USBPcap\\USBPcapCMD.exe). Fix: install it from https://desowin.org/usbpcap/ (Wireshark\'s installer offers it too) and reboot, or give the path of USBPcapCMD.exe',
    });
    expect(runner.calls).toEqual([]);
  });

  it('does not start USBPcapCMD in a process that is not elevated (it would wait for UAC)', async () => {
    const { capture, spawner } = source(windowsHost(), {}, whoami(NOT_ELEVATED));
    await capture.start();
    expect(await capture.stop()).toEqual({ unavailable: expect.stringContaining('USBPcapCMD needs an elevated process, and this one is not') });
    expect(spawner.spawned).toEqual([]);
    const failing = source(windowsHost(), {}, {});
    await failing.capture.start();
    expect(await failing.capture.stop()).toEqual({ unavailable: expect.stringContaining('cannot tell whether this process is elevated') });
  });

  it('reports a USBPcapCMD that exits at once, with what it printed', async () => {
    const badDevice: FakeProcessScript = (p) => {
      p.print("Couldn't open device - 2\n");
      p.exit(4294967295);
    };
    const { capture } = source(windowsHost(), { [CMD]: badDevice }, whoami(ELEVATED));
    await capture.start();
    expect(await capture.stop()).toEqual({ unavailable: expect.stringContaining("USBPcapCMD exited with code 4294967295 (it printed: Couldn't open device - 2)") });
  });

  it('is unavailable off Windows', async () => {
    const { capture } = source(windowsHost(), {}, {}, { platform: 'linux' });
    await capture.start();
    expect(await capture.stop()).toEqual({ unavailable: 'no host capture of bus 1: USBPcap exists on Windows only (this host is linux)' });
  });

  it('looks in both Program Files folders', () => {
    expect(usbpcapCandidates({ ProgramFiles: 'E:\\Apps', ProgramW6432: 'E:\\Apps' })).toEqual(['E:\\Apps\\USBPcap\\USBPcapCMD.exe', 'C:\\Program Files\\USBPcap\\USBPcapCMD.exe']);
  });
});
