/**
 * The UsbFnPort contract, section (a) (no driver), against Win32UsbFnPort wired to the scripted
 * FakeWin32Api: it checks that the port maps the Win32/cfgmgr32 calling conventions to the seam the way
 * the contract expects. The same section runs against the real DLLs in the Wine tier (.ci/wine), where
 * vitest cannot run, as plain checks. Section (b) needs GenericUSBFn.sys: a lab rig only.
 */
import { describeUsbFnPortContract } from '../usbfn-port.contract.js';
import { FakeWin32Api } from './testing/index.js';
import { Win32UsbFnPort } from './win32-usbfn-port.js';

describeUsbFnPortContract('Win32UsbFnPort (FakeWin32Api)', () => Win32UsbFnPort.create({ api: new FakeWin32Api() }));
