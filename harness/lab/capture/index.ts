/**
 * Host capture of the lab bench: usbmon through dumpcap/tshark on a Linux host PC, USBPcap on a Windows one,
 * with the time alignment of the device's event log onto the capture. docs/bench-hardware.md tells how to set
 * a host up.
 */
export type { CaptureOptions, HostCaptureResult, HostCaptureSource } from './host-capture-source.js';
export { createHostCaptureSource, type HostCaptureConfig, type HostCaptureDeps } from './create-host-capture-source.js';
export { UsbmonCaptureSource, type UsbmonCaptureSourceOptions, type UsbmonTool } from './usbmon-capture-source.js';
export { UsbpcapCaptureSource, usbpcapCandidates, type UsbpcapCaptureSourceOptions } from './usbpcap-capture-source.js';
export { UnavailableCaptureSource } from './unavailable-capture-source.js';
export { checkUsbmon, USBMON_LOAD_FIX, USBMON_PERMISSION_FIX, USBMON_UDEV_RULE, type UsbmonCheck } from './usbmon-check.js';
export { hostCaptureDoctorCheck, type CaptureDoctorCheckOptions } from './capture-doctor-check.js';
export { NodeProcessSpawner, type ProcessExit, type ProcessSpawner, type SpawnedProcess } from './process-spawner.js';
export { nodeCaptureFileSystem, type AccessResult, type CaptureFileSystem } from './capture-file-system.js';
export { readCaptureFile, type CaptureWindow, type ReadCaptureOptions } from './read-capture-file.js';
export {
  completePcap,
  LINKTYPE_USB_LINUX,
  LINKTYPE_USB_LINUX_MMAPPED,
  LINKTYPE_USBPCAP,
  pcapRecords,
  readPcapHeader,
  trimPcapToWindow,
  type PcapHeader,
  type PcapRecord,
} from './pcap-file.js';
export {
  agentToHostMs,
  alignDeviceLog,
  estimateClockOffset,
  type AlignedEntry,
  type AlignOptions,
  type ClockOffset,
  type ClockOffsetSample,
  type TimedEntry,
} from './clock-offset.js';
