/**
 * A `UsbFnPort` that delegates to the simulation's `SimUsbFnPort` and records the order of the Win32-surface
 * calls, so a test can assert the service's lifecycle order (docs/architecture.md#service-lifecycle). Test support, not a test file.
 */
import {
  ForwardingUsbFnFile,
  ForwardingUsbFnPort,
  innerFile,
  ioctlName,
  type CmNotifyListener,
  type CmRegistration,
  type InterfaceListQuery,
  type IoctlOptions,
  type UsbFnFile,
  type UsbFnService,
} from '../../../device-side/index.js';
import { SimUsbFnFile, type SimUsbFnPort } from '../../../simulator/index.js';

/** A handle that records each DeviceIoControl by IOCTL name before passing it on. */
class RecordingFile extends ForwardingUsbFnFile {
  constructor(
    inner: UsbFnFile,
    readonly calls: string[],
  ) {
    super(inner);
  }

  override ioctl(code: number, input: Uint8Array | null, output: Uint8Array | null, options?: IoctlOptions): Promise<number> {
    this.calls.push(ioctlName(code).replace('IOCTL_GENERICUSBFN_', ''));
    return this.inner.ioctl(code, input, output, options);
  }

  override close(): Promise<void> {
    this.calls.push('CloseHandle');
    return this.inner.close();
  }
}

/**
 * Records `CM_Register_Notification(DEVICEINTERFACE)`, `CM_Get_Device_Interface_List_SizeW`, `CreateFileW`,
 * IOCTL names without their prefix (`GET_CLASS_INFO`), `CloseHandle`, `CM_Unregister_Notification(<id>)`.
 */
export class RecordingUsbFnPort extends ForwardingUsbFnPort<SimUsbFnPort> {
  readonly calls: string[] = [];
  /** Runs right after the DEVICEINTERFACE registration exists, before `watchInterfaces` returns. */
  afterWatchInterfaces: (() => void) | undefined;

  override getInterfaceListSize(query: InterfaceListQuery): Promise<number> {
    this.calls.push('CM_Get_Device_Interface_List_SizeW');
    return this.inner.getInterfaceListSize(query);
  }

  override getInterfaceList(query: InterfaceListQuery, bufferChars: number): Promise<Uint8Array> {
    this.calls.push('CM_Get_Device_Interface_ListW');
    return this.inner.getInterfaceList(query, bufferChars);
  }

  override async watchInterfaces(guid: string, listener: CmNotifyListener): Promise<CmRegistration> {
    const reg = await this.inner.watchInterfaces(guid, listener);
    this.calls.push('CM_Register_Notification(DEVICEINTERFACE)');
    this.afterWatchInterfaces?.();
    return this.#recordUnregister(reg);
  }

  override async watchHandle(file: UsbFnFile, listener: CmNotifyListener): Promise<CmRegistration> {
    const reg = await super.watchHandle(file, listener);
    this.calls.push('CM_Register_Notification(DEVICEHANDLE)');
    return this.#recordUnregister(reg);
  }

  override async watchInstance(deviceInstanceId: string, listener: CmNotifyListener): Promise<CmRegistration> {
    return this.#recordUnregister(await this.inner.watchInstance(deviceInstanceId, listener));
  }

  override async open(symbolicLink: string): Promise<UsbFnFile> {
    this.calls.push('CreateFileW');
    return new RecordingFile(await this.inner.open(symbolicLink), this.calls);
  }

  #recordUnregister(reg: CmRegistration): CmRegistration {
    return {
      id: reg.id,
      unregister: () => {
        this.calls.push(`CM_Unregister_Notification(${reg.id})`);
        return reg.unregister();
      },
    };
  }
}

/** The simulated handle behind the service's open handle (for CM-level tricks such as a second registration). */
export function simFileOf(service: UsbFnService): SimUsbFnFile {
  const file = service.client?.file;
  const inner = file === undefined ? undefined : innerFile(file);
  if (!(inner instanceof SimUsbFnFile)) throw new Error('the service has no open simulated handle');
  return inner;
}
