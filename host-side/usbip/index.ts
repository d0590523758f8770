/**
 * USB/IP (docs/usbip.md): the protocol codec, the server that exports a {@link UsbHost}'s devices, and
 * {@link UsbIpUsbHost}, the UsbHost seam over a USB/IP connection.
 */
export { ByteQueue } from './byte-queue.js';
export {
  URB_FLAG,
  USB_SPEED,
  USBIP_BYTES,
  USBIP_COMMAND,
  USBIP_DIR,
  USBIP_MAX_ISO_PACKETS,
  USBIP_NOT_ISO_PACKETS,
  USBIP_OP,
  USBIP_PORT,
  USBIP_ST,
  USBIP_VERSION,
  type UsbIpCommandName,
  type UsbIpOpName,
} from './usbip-protocol.js';
export {
  decodeDeviceRecord,
  decodeImportBusid,
  decodeInterfaceRecord,
  decodeOpCommon,
  encodeDeviceRecord,
  encodeOpCommon,
  encodeOpRepDevlist,
  encodeOpRepImport,
  encodeOpReqDevlist,
  encodeOpReqImport,
  type UsbIpDeviceRecord,
  type UsbIpExportedDevice,
  type UsbIpInterfaceRecord,
  type UsbIpOpCommon,
} from './usbip-op-codec.js';
export {
  decodeUrbHeader,
  encodeCmdSubmit,
  encodeCmdUnlink,
  encodeRetSubmit,
  encodeRetUnlink,
  type UsbIpCmdSubmit,
  type UsbIpCmdUnlink,
  type UsbIpRetSubmit,
  type UsbIpRetUnlink,
  type UsbIpUrbHeader,
} from './usbip-urb-codec.js';
export {
  describeUsbIpStatus,
  LINUX_ERRNO,
  requestErrorOfStatus,
  transferOutcomeOfStatus,
  usbipStatus,
  usbipStatusOfError,
  usbipStatusOfResult,
  type LinuxErrnoName,
  type UsbIpTransferOutcome,
} from './usbip-status.js';
export { UsbIpServer, isLoopbackAddress, type UsbIpServerOptions } from './usbip-server.js';
export { DEFAULT_USBIP_LIMITS, UsbIpSession, type UsbIpLimits, type UsbIpLogEntry, type UsbIpTransport } from './usbip-session.js';
export { UsbIpUsbHost, type UsbIpUsbHostOptions } from './usbip-usb-host.js';
export type { UsbIpTraceEvent } from './usbip-urb-client.js';
export { requestDeviceList, requestImport, type UsbIpAddress } from './usbip-client-socket.js';
