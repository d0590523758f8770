/**
 * The host capture for this host PC's OS: usbmon (Linux), USBPcap (Windows), none elsewhere.
 */
import { UsageError, type Clock } from '../../../core/index.js';
import type { UsbDeviceInfo } from '../../../host-side/index.js';
import type { CommandRunner } from '../power/index.js';
import type { CaptureFileSystem } from './capture-file-system.js';
import type { HostCaptureSource } from './host-capture-source.js';
import type { ProcessSpawner } from './process-spawner.js';
import { UnavailableCaptureSource } from './unavailable-capture-source.js';
import { UsbmonCaptureSource, type UsbmonTool } from './usbmon-capture-source.js';
import { UsbpcapCaptureSource } from './usbpcap-capture-source.js';

export interface HostCaptureConfig {
  /** The device to capture (its bus), or the bus number itself. */
  readonly device: Pick<UsbDeviceInfo, 'busNumber'> | number;
  /** Linux: which tool (default auto: dumpcap, else tshark). */
  readonly tool?: UsbmonTool | 'auto' | undefined;
  /** Windows: the USBPcap control device, when not `\\.\USBPcap<bus>`. */
  readonly usbpcapInterface?: string | undefined;
  /** Windows: path of USBPcapCMD.exe, when not in Program Files. */
  readonly usbpcapCmdPath?: string | undefined;
  readonly trimToWindow?: boolean | undefined;
  readonly startTimeoutMs?: number | undefined;
  readonly stopTimeoutMs?: number | undefined;
}

export interface HostCaptureDeps {
  readonly platform?: string | undefined;
  readonly spawner?: ProcessSpawner | undefined;
  readonly runner?: CommandRunner | undefined;
  readonly fileSystem?: CaptureFileSystem | undefined;
  readonly clock?: Clock | undefined;
  readonly wallClockMs?: (() => number) | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
}

/**
 * @throws UsageError INVALID_ARGUMENT for a bus number that is not 1..255.
 * @example const capture = createHostCaptureSource({ device: info }); await capture.start(); ...; const r = await capture.stop();
 */
export function createHostCaptureSource(config: HostCaptureConfig, deps: HostCaptureDeps = {}): HostCaptureSource {
  const busNumber = typeof config.device === 'number' ? config.device : config.device.busNumber;
  if (!Number.isInteger(busNumber) || busNumber < 1 || busNumber > 255) {
    throw new UsageError('INVALID_ARGUMENT', `bus number ${busNumber} is not a USB bus: give the device's busNumber (1..255)`, { busNumber });
  }
  const platform = deps.platform ?? process.platform;
  const common = { busNumber, trimToWindow: config.trimToWindow, startTimeoutMs: config.startTimeoutMs, stopTimeoutMs: config.stopTimeoutMs, ...deps, platform };
  if (platform === 'linux') return new UsbmonCaptureSource({ ...common, tool: config.tool });
  if (platform === 'win32') return new UsbpcapCaptureSource({ ...common, interfaceName: config.usbpcapInterface, usbpcapCmdPath: config.usbpcapCmdPath });
  return new UnavailableCaptureSource(
    `no host capture on ${platform}: the harness captures with usbmon (Linux) or USBPcap (Windows). Run the host side on one of those to get a capture per scenario`,
  );
}
