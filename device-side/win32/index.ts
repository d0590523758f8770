/**
 * The public API of the Win32 backend (lab mode). Importing it never loads koffi: the native part loads
 * lazily inside {@link loadWin32Bindings} / {@link Win32UsbFnPort.create}.
 */
export { Win32UsbFnPort, Win32UsbFnFile, type Win32UsbFnPortOptions, type Win32PortDiagnostic } from './win32-usbfn-port.js';
export {
  loadWin32Bindings,
  loadKoffi,
  declareCmNotifyCallback,
  isInvalidHandle,
  type Win32Api,
  type Win32Bindings,
  type Win32Handle,
  type OverlappedIoApi,
  type NativeBlock,
  type NativeMemory,
} from './bindings.js';
export { CompletionPort, type CompletionPortDiagnostic, type CompletionPortOptions, type OverlappedHandle, type OverlappedRequestOptions } from './completion-port.js';
export { declareStructs, compareLayouts, fieldLayout, type Win32Structs, type LayoutMismatch } from './koffi-structs.js';
export { expectedLayouts, type ExpectedLayout, type ExpectedField, type PointerSize } from './expected-layouts.js';
export * from './kernel32-constants.js';
