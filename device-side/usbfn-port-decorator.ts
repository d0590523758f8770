/**
 * Bases for decorators of the `UsbFnPort` seam (fault injection, trace recording, test doubles): each passes
 * every call on to the port or handle below it, so a decorator overrides only what it changes.
 *
 * A decorator's `open` hands out its own handles; when one comes back to `watchHandle`, the port below must
 * get the handle it made: {@link innerFile} takes one layer off (each layer of a stack takes off its own).
 */
import type { CmNotifyListener, CmRegistration, GuidString, InterfaceListQuery, IoctlOptions, UsbFnFile, UsbFnPort } from './usbfn-port.js';

/** A handle that passes every call to `inner`. */
export class ForwardingUsbFnFile<F extends UsbFnFile = UsbFnFile> implements UsbFnFile {
  constructor(readonly inner: F) {}

  get symbolicLink(): string {
    return this.inner.symbolicLink;
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  ioctl(code: number, input: Uint8Array | null, output: Uint8Array | null, options?: IoctlOptions): Promise<number> {
    return this.inner.ioctl(code, input, output, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The handle the port below a decorator made: `file` less one decorating layer. */
export function innerFile(file: UsbFnFile): UsbFnFile {
  return file instanceof ForwardingUsbFnFile ? file.inner : file;
}

/** A port that passes every call to `inner` (handles from `open` unchanged; `watchHandle` unwraps one layer). */
export class ForwardingUsbFnPort<P extends UsbFnPort = UsbFnPort> implements UsbFnPort {
  constructor(readonly inner: P) {}

  get clock(): UsbFnPort['clock'] {
    return this.inner.clock;
  }

  getInterfaceListSize(query: InterfaceListQuery): Promise<number> {
    return this.inner.getInterfaceListSize(query);
  }

  getInterfaceList(query: InterfaceListQuery, bufferChars: number): Promise<Uint8Array> {
    return this.inner.getInterfaceList(query, bufferChars);
  }

  watchInterfaces(interfaceClassGuid: GuidString, listener: CmNotifyListener): Promise<CmRegistration> {
    return this.inner.watchInterfaces(interfaceClassGuid, listener);
  }

  watchHandle(file: UsbFnFile, listener: CmNotifyListener): Promise<CmRegistration> {
    return this.inner.watchHandle(innerFile(file), listener);
  }

  watchInstance(deviceInstanceId: string, listener: CmNotifyListener): Promise<CmRegistration> {
    return this.inner.watchInstance(deviceInstanceId, listener);
  }

  open(symbolicLink: string): Promise<UsbFnFile> {
    return this.inner.open(symbolicLink);
  }
}
