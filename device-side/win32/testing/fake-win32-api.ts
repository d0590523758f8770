/**
 * A scripted {@link Win32Api} for unit tests of {@link Win32UsbFnPort} on any OS: the overlapped-I/O part
 * from {@link FakeOverlappedIoApi}, plus CreateFileW over a set of "present" paths and a tiny
 * Configuration Manager (registrations with koffi-like callback slots, interface lists).
 *
 * It reproduces the calling conventions the real bindings expose (CONFIGRET numbers, out-arrays, BigInt
 * handles, callbacks invoked with a native event-data pointer), not Configuration Manager's behaviour:
 * tests fire notifications explicitly with {@link fire}. Test-only.
 */
import { CONFIGRET, WIN32_ERROR, decodeGuid, encodeMultiSz, multiSzChars } from '../../abi/index.js';
import type { CmNotifyCallback, Win32Api, Win32Handle } from '../bindings.js';
import { FakeOverlappedIoApi } from './fake-overlapped-io-api.js';

/** One CreateFileW call. */
export interface FakeCreateFile {
  readonly name: string;
  readonly access: number;
  readonly share: number;
  readonly disposition: number;
  readonly flags: number;
}

/** One live CM registration. */
export interface FakeCmRegistration {
  readonly handle: bigint;
  readonly filter: Uint8Array;
  readonly callback: bigint;
}

export class FakeWin32Api extends FakeOverlappedIoApi implements Win32Api {
  readonly INVALID_HANDLE_VALUE = 0xffff_ffff_ffff_ffffn;
  readonly missingExports: string[] = [];
  /** Paths CreateFileW opens; any other fails with ERROR_FILE_NOT_FOUND. */
  readonly present = new Set<string>();
  readonly createFileCalls: FakeCreateFile[] = [];
  /** Interface lists by canonical braced GUID. */
  readonly interfaces = new Map<string, string[]>();
  /** Runs between a size query and the list call (to make the list grow). */
  afterSizeQuery: (() => void) | undefined;
  /** CONFIGRET CM_Register_Notification returns. */
  registerResult: number = CONFIGRET.CR_SUCCESS;
  /** While true, CM_Register_NotificationAsync calls stay in flight until {@link releaseRegistrations}. */
  holdRegistrations = false;
  /** CM_Register_NotificationAsync calls not returned yet. */
  registerCallsInFlight = 0;
  private readonly heldRegistrations: (() => void)[] = [];
  /** CONFIGRET CM_Unregister_Notification returns. */
  unregisterResult: number = CONFIGRET.CR_SUCCESS;
  readonly registrations = new Map<bigint, FakeCmRegistration>();
  readonly unregisterCalls: bigint[] = [];
  readonly callbacks = new Map<bigint, CmNotifyCallback>();

  private nextCallback = 0x7000n;
  private nextHcm = 0x5000n;

  CreateFileW(name: string, access: number, share: number, _sa: null, disposition: number, flags: number): Win32Handle | null {
    this.createFileCalls.push({ name, access, share, disposition, flags });
    if (!this.present.has(name)) {
      this.setLastError(WIN32_ERROR.ERROR_FILE_NOT_FOUND);
      return this.INVALID_HANDLE_VALUE as Win32Handle;
    }
    return this.openFile();
  }

  CreateNamedPipeW(): Win32Handle | null {
    throw new Error('fake: CreateNamedPipeW is exercised by the Wine tier only');
  }

  /**
   * Like a koffi `.async` call: returns at once, and the result comes on a later turn of the event loop
   * (while {@link holdRegistrations} is set, only when the test calls {@link releaseRegistrations}).
   */
  CM_Register_NotificationAsync(filter: Uint8Array, _context: null, callback: bigint, notifyContext: [bigint | null]): Promise<number> {
    if (!this.callbacks.has(callback)) return Promise.reject(new Error('fake: callback pointer was not registered'));
    this.registerCallsInFlight++;
    const finish = (): number => {
      this.registerCallsInFlight--;
      if (this.registerResult !== CONFIGRET.CR_SUCCESS) {
        notifyContext[0] = null;
        return this.registerResult;
      }
      const handle = this.nextHcm;
      this.nextHcm += 8n;
      this.registrations.set(handle, { handle, filter: filter.slice(), callback });
      notifyContext[0] = handle;
      return CONFIGRET.CR_SUCCESS;
    };
    return new Promise((resolve) => {
      if (this.holdRegistrations) this.heldRegistrations.push(() => resolve(finish()));
      else setImmediate(() => resolve(finish()));
    });
  }

  /** Completes the registrations held by {@link holdRegistrations}. */
  releaseRegistrations(): void {
    const held = this.heldRegistrations.splice(0);
    for (const finish of held) finish();
  }

  CM_Unregister_NotificationAsync(notifyContext: bigint): Promise<number> {
    this.unregisterCalls.push(notifyContext);
    return new Promise((resolve) =>
      setImmediate(() => {
        if (this.unregisterResult === CONFIGRET.CR_SUCCESS) this.registrations.delete(notifyContext);
        resolve(this.unregisterResult);
      }),
    );
  }

  CM_Get_Device_Interface_List_SizeWAsync(length: [number], guid: Uint8Array, deviceId: string | null): Promise<number> {
    return new Promise((resolve) =>
      setImmediate(() => {
        length[0] = multiSzChars(this.list(guid, deviceId));
        this.afterSizeQuery?.();
        resolve(CONFIGRET.CR_SUCCESS);
      }),
    );
  }

  CM_Get_Device_Interface_ListWAsync(
    guid: Uint8Array,
    deviceId: string | null,
    buffer: Uint8Array,
    bufferChars: number,
  ): Promise<number> {
    return new Promise((resolve) =>
      setImmediate(() => {
        const bytes = encodeMultiSz(this.list(guid, deviceId));
        if (bytes.length > bufferChars * 2 || bytes.length > buffer.length) {
          resolve(CONFIGRET.CR_BUFFER_SMALL);
          return;
        }
        buffer.set(bytes);
        resolve(CONFIGRET.CR_SUCCESS);
      }),
    );
  }

  registerCmNotifyCallback(callback: CmNotifyCallback): bigint {
    const ptr = this.nextCallback;
    this.nextCallback += 16n;
    this.callbacks.set(ptr, callback);
    return ptr;
  }

  unregisterCallback(pointer: bigint): void {
    if (!this.callbacks.delete(pointer)) throw new Error('fake: koffi.unregister of an unknown callback');
  }

  readBytes(address: bigint, length: number): Uint8Array {
    return this.view(address, length).slice();
  }

  /**
   * Delivers a notification to one registration as CM does: the callback gets a pointer to native event
   * data that is freed right after it returns. Returns the callback's DWORD.
   */
  fire(handle: bigint, action: number, eventData: Uint8Array): number {
    const reg = this.registrations.get(handle);
    if (reg === undefined) throw new Error('fake: no such registration');
    const cb = this.callbacks.get(reg.callback);
    if (cb === undefined) throw new Error('fake: the callback slot of a live registration was released');
    const block = this.memory.alloc(eventData.length);
    block.bytes.set(eventData);
    try {
      return cb(handle, null, action, block.address, eventData.length);
    } finally {
      block.bytes.fill(0xdd); // the caller's copy must not alias CM's buffer
      this.memory.free(block);
    }
  }

  private list(guid: Uint8Array, deviceId: string | null): string[] {
    const all = this.interfaces.get(decodeGuid(guid)) ?? [];
    return deviceId === null ? all : all.filter((l) => l.toUpperCase().includes(deviceId.toUpperCase()));
  }
}
