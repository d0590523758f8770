/**
 * The binary contract with GenericUSBFn.sys, cfgmgr32 and kernel32 (docs/reference/README.md): IOCTL codes,
 * struct codecs with golden-vector tests, constants, and the Win32/CONFIGRET name tables.
 */
export * from './decode-error.js';
export * from './win32-errors.js';
export * from './configret.js';
export * from './ioctl-codes.js';
export * from './usbfn-types.js';
export * from './setup-packet.js';
export * from './descriptors.js';
export * from './notification.js';
export * from './class-info.js';
export * from './interface-info.js';
export * from './usb-string.js';
export * from './guid.js';
export * from './wide-string.js';
export * from './cm-notify.js';
