/**
 * `FaultyUsbFnPort`: a {@link UsbFnPort} decorator that injects the faults a real bench cannot cause on
 * purpose: fail the nth matching IOCTL with a chosen Win32 error before it reaches the driver, drop CM
 * notifications of an action before they reach the service, and close the service's handle behind its
 * back. The service code above it is the real one; the error is synthetic, so reports label these faults
 * "injected at the seam" (docs/agent-protocol.md, faults).
 *
 * Everything else passes through unchanged, so with no fault armed the decorator is invisible.
 */
import { WIN32_ERROR, win32Error, win32ErrorName } from '../../abi/index.js';
import type {
  CmNotifyListener,
  CmRegistration,
  GuidString,
  IoctlOptions,
  UsbFnFile,
  UsbFnPort,
} from '../../usbfn-port.js';
import { ForwardingUsbFnFile, ForwardingUsbFnPort } from '../../usbfn-port-decorator.js';
import { resolveCmAction, resolveIoctl } from './fault-names.js';

/** A fault that fired (for the session's event log). */
export type FaultFiring =
  | { readonly kind: 'failIoctl'; readonly faultId: string; readonly ioctl: string; readonly win32: number; readonly win32Name: string; readonly target: string | undefined }
  | { readonly kind: 'dropNotification'; readonly faultId: string; readonly action: string };

/** Arms a failing IOCTL. */
export interface FailIoctlFault {
  readonly faultId: string;
  /** `TRANSFER_OUT` or `IOCTL_GENERICUSBFN_TRANSFER_OUT` (any case). */
  readonly ioctl: string;
  /** The Win32 error the call fails with, e.g. 31 (ERROR_GEN_FAILURE). */
  readonly win32: number;
  /** The first matching call that fails (1 = the next one). Default 1. */
  readonly nth?: number | undefined;
  /** How many matching calls fail from there on. Default 1. */
  readonly count?: number | undefined;
  /** Only calls whose input is this USBFNPIPEID. */
  readonly pipe?: number | undefined;
}

/** Arms dropped notifications. */
export interface DropNotificationFault {
  readonly faultId: string;
  /** `DEVICEQUERYREMOVE` or `CM_NOTIFY_ACTION_DEVICEQUERYREMOVE` (any case). */
  readonly action: string;
  /** How many of the next notifications of that action are dropped. Default 1. */
  readonly count?: number | undefined;
}

interface IoctlRule {
  readonly faultId: string;
  readonly code: number;
  readonly name: string;
  readonly win32: number;
  readonly pipe: number | undefined;
  skip: number;
  remaining: number;
}

interface DropRule {
  readonly faultId: string;
  readonly action: number;
  readonly name: string;
  remaining: number;
}

/** The USBFNPIPEID of a transfer IOCTL's input (4 bytes, little-endian), if it has one. */
function pipeIdOf(input: Uint8Array | null): number | undefined {
  if (input === null || input.length !== 4) return undefined;
  return new DataView(input.buffer, input.byteOffset, 4).getUint32(0, true);
}

/** A handle of the decorated port. */
class FaultyUsbFnFile extends ForwardingUsbFnFile {
  readonly #port: FaultyUsbFnPort;

  constructor(inner: UsbFnFile, port: FaultyUsbFnPort) {
    super(inner);
    this.#port = port;
  }

  override ioctl(code: number, input: Uint8Array | null, output: Uint8Array | null, options?: IoctlOptions): Promise<number> {
    const injected = this.#port.injectedIoctlError(code, input, options?.target);
    if (injected !== undefined) return Promise.reject(injected);
    return this.inner.ioctl(code, input, output, options);
  }
}

export class FaultyUsbFnPort extends ForwardingUsbFnPort {
  readonly #onFire: (firing: FaultFiring) => void;
  #ioctlRules: IoctlRule[] = [];
  #dropRules: DropRule[] = [];
  readonly #files: FaultyUsbFnFile[] = [];

  /** @param onFire called synchronously each time a fault fires (log it: it is what the report shows). */
  constructor(inner: UsbFnPort, onFire: (firing: FaultFiring) => void = () => undefined) {
    super(inner);
    this.#onFire = onFire;
  }

  /**
   * Fails calls `nth .. nth + count - 1` of the IOCTL (counted from now, on every handle) with `win32`.
   * @throws UsageError FAULT_UNKNOWN_IOCTL for a name genericusbfnioctl.h does not define.
   */
  failIoctl(fault: FailIoctlFault): void {
    const info = resolveIoctl(fault.ioctl);
    this.#ioctlRules.push({
      faultId: fault.faultId,
      code: info.code,
      name: info.name,
      win32: fault.win32,
      pipe: fault.pipe,
      skip: (fault.nth ?? 1) - 1,
      remaining: fault.count ?? 1,
    });
  }

  /**
   * Drops the next `count` notifications of the action (on every registration) before the listener sees
   * them; CM gets ERROR_SUCCESS as if the listener had answered.
   * @throws UsageError FAULT_UNKNOWN_ACTION for a name cfgmgr32.h does not define.
   */
  dropNotification(fault: DropNotificationFault): void {
    const { name, value } = resolveCmAction(fault.action);
    this.#dropRules.push({ faultId: fault.faultId, action: value, name, remaining: fault.count ?? 1 });
  }

  /** Faults armed and not yet used up. */
  get armed(): number {
    return this.#ioctlRules.length + this.#dropRules.length;
  }

  /**
   * CloseHandle on the most recently opened handle that is still open, behind the service's back.
   * Resolves with its symbolic link, or undefined when no handle is open.
   */
  async closeHandle(): Promise<string | undefined> {
    const file = [...this.#files].reverse().find((f) => f.isOpen);
    if (file === undefined) return undefined;
    await file.inner.close();
    return file.symbolicLink;
  }

  /** @internal the error an IOCTL call fails with, when a rule matches it. */
  injectedIoctlError(code: number, input: Uint8Array | null, target: string | undefined): Error | undefined {
    const rule = this.#ioctlRules.find((r) => r.code === code && (r.pipe === undefined || r.pipe === pipeIdOf(input)));
    if (rule === undefined) return undefined;
    if (rule.skip > 0) {
      rule.skip--;
      return undefined;
    }
    rule.remaining--;
    if (rule.remaining <= 0) this.#ioctlRules = this.#ioctlRules.filter((r) => r !== rule);
    this.#onFire({ kind: 'failIoctl', faultId: rule.faultId, ioctl: rule.name, win32: rule.win32, win32Name: win32ErrorName(rule.win32), target });
    return win32Error('DeviceIoControl', rule.win32, { ioctl: code, target, detail: `injected at the seam (fault ${rule.faultId})` });
  }

  #wrapListener(listener: CmNotifyListener): CmNotifyListener {
    return (action, eventData) => {
      const rule = this.#dropRules.find((r) => r.action === action);
      if (rule === undefined) return listener(action, eventData);
      rule.remaining--;
      if (rule.remaining <= 0) this.#dropRules = this.#dropRules.filter((r) => r !== rule);
      this.#onFire({ kind: 'dropNotification', faultId: rule.faultId, action: rule.name });
      return WIN32_ERROR.ERROR_SUCCESS;
    };
  }

  override watchInterfaces(interfaceClassGuid: GuidString, listener: CmNotifyListener): Promise<CmRegistration> {
    return super.watchInterfaces(interfaceClassGuid, this.#wrapListener(listener));
  }

  override watchHandle(file: UsbFnFile, listener: CmNotifyListener): Promise<CmRegistration> {
    return super.watchHandle(file, this.#wrapListener(listener));
  }

  override watchInstance(deviceInstanceId: string, listener: CmNotifyListener): Promise<CmRegistration> {
    return super.watchInstance(deviceInstanceId, this.#wrapListener(listener));
  }

  override async open(symbolicLink: string): Promise<UsbFnFile> {
    const file = new FaultyUsbFnFile(await this.inner.open(symbolicLink), this);
    // Keep only handles that may still be closed behind the service's back.
    for (let i = this.#files.length - 1; i >= 0; i--) if (!this.#files[i]!.isOpen) this.#files.splice(i, 1);
    this.#files.push(file);
    return file;
  }
}
