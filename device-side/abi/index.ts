/** The binary contract with GenericUSBFn.sys, cfgmgr32 and kernel32 (reference/usbfn-abi.md). */
export * from './decode-error.js';
export * from './win32-errors.js';
export * from './configret.js';
export * from './ioctl-codes.js';
