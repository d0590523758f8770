import { describe, expect, it } from 'vitest';
import { RealClock } from '../core/index.js';
import { ForwardingUsbFnFile, ForwardingUsbFnPort, innerFile } from './usbfn-port-decorator.js';
import type { CmNotifyListener, CmRegistration, InterfaceListQuery, UsbFnFile, UsbFnPort } from './usbfn-port.js';

/** A port that records what reaches it. */
class Bottom implements UsbFnPort {
  readonly clock = new RealClock();
  readonly calls: unknown[][] = [];
  readonly file: UsbFnFile = {
    symbolicLink: '\\\\?\\USB#x',
    isOpen: true,
    ioctl: (code) => (this.calls.push(['ioctl', code]), Promise.resolve(4)),
    close: () => (this.calls.push(['close']), Promise.resolve()),
  };
  getInterfaceListSize(q: InterfaceListQuery): Promise<number> {
    this.calls.push(['size', q.interfaceClassGuid]);
    return Promise.resolve(3);
  }
  getInterfaceList(q: InterfaceListQuery, chars: number): Promise<Uint8Array> {
    this.calls.push(['list', q.interfaceClassGuid, chars]);
    return Promise.resolve(new Uint8Array(2));
  }
  watchInterfaces(guid: string, _l: CmNotifyListener): Promise<CmRegistration> {
    this.calls.push(['watchInterfaces', guid]);
    return Promise.resolve({ id: 'r1', unregister: () => Promise.resolve() });
  }
  watchHandle(file: UsbFnFile, _l: CmNotifyListener): Promise<CmRegistration> {
    this.calls.push(['watchHandle', file === this.file]);
    return Promise.resolve({ id: 'r2', unregister: () => Promise.resolve() });
  }
  watchInstance(id: string, _l: CmNotifyListener): Promise<CmRegistration> {
    this.calls.push(['watchInstance', id]);
    return Promise.resolve({ id: 'r3', unregister: () => Promise.resolve() });
  }
  open(link: string): Promise<UsbFnFile> {
    this.calls.push(['open', link]);
    return Promise.resolve(this.file);
  }
}

/** A decorator that wraps its handles, as the real ones do. */
class Wrapping extends ForwardingUsbFnPort {
  override async open(link: string): Promise<UsbFnFile> {
    return new ForwardingUsbFnFile(await this.inner.open(link));
  }
}

describe('UsbFnPort decorator bases', () => {
  it('pass every call through unchanged', async () => {
    const bottom = new Bottom();
    const port = new ForwardingUsbFnPort(bottom);
    const listener: CmNotifyListener = () => 0;
    const q = { interfaceClassGuid: '{g}' };
    expect(port.clock).toBe(bottom.clock);
    expect(await port.getInterfaceListSize(q)).toBe(3);
    expect(await port.getInterfaceList(q, 3)).toHaveLength(2);
    expect((await port.watchInterfaces('{g}', listener)).id).toBe('r1');
    expect((await port.watchInstance('USBFN\\1', listener)).id).toBe('r3');
    const file = await port.open('link');
    expect(file).toBe(bottom.file);
    expect(bottom.calls).toEqual([['size', '{g}'], ['list', '{g}', 3], ['watchInterfaces', '{g}'], ['watchInstance', 'USBFN\\1'], ['open', 'link']]);
  });

  it("hand each layer's handles down a stack of decorators as the layer below made them", async () => {
    const bottom = new Bottom();
    const top = new Wrapping(new Wrapping(bottom));
    const file = await top.open('link');
    expect(file).toBeInstanceOf(ForwardingUsbFnFile);
    expect(innerFile(innerFile(file))).toBe(bottom.file);
    expect(file.symbolicLink).toBe(bottom.file.symbolicLink);
    expect(file.isOpen).toBe(true);
    expect(await file.ioctl(7, null, null)).toBe(4);
    await file.close();
    await top.watchHandle(file, () => 0);
    expect(bottom.calls.slice(1)).toEqual([['ioctl', 7], ['close'], ['watchHandle', true]]);
    expect(innerFile(bottom.file)).toBe(bottom.file);
  });
});
