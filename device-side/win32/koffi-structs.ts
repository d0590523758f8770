/**
 * koffi declarations of every struct the Win32 backend exchanges with kernel32, cfgmgr32 and
 * GenericUSBFn.sys, with explicit-width types only (uint8/uint16/uint32/int32/uint64) so that the layout
 * does not depend on the host's C `long`/`int` model.
 *
 * - usbspec.h structs are wrapped in 1-byte packing in the SDK → `koffi.pack` (docs/reference/structs.md#packing);
 * - usbfnbase.h has no pack pragma → natural alignment `koffi.struct` (docs/reference/structs.md#packing);
 * - cfgmgr32.h / minwinbase.h use natural alignment; their pointer-sized members (HANDLE, ULONG_PTR,
 *   PVOID) are declared as uint64 or uint32 according to an explicit {@link PointerSize}, so both the x64
 *   and the x86 layouts can be checked on any host.
 *
 * The struct types carry no names (koffi's type-name registry is global; anonymous types let this run
 * more than once, e.g. for both pointer sizes in one test). The koffi module itself is passed in: only
 * bindings.ts imports koffi.
 *
 * @see docs/reference/structs.md
 */
import type { KoffiModule, KoffiType } from './bindings.js';
import type { ExpectedLayout, PointerSize } from './expected-layouts.js';

/** The declared struct types, keyed by their C names (verbatim). */
export interface Win32Structs {
  readonly pointerSize: PointerSize;
  readonly GUID: KoffiType;
  readonly USB_DEFAULT_PIPE_SETUP_PACKET: KoffiType;
  readonly USB_ENDPOINT_DESCRIPTOR: KoffiType;
  readonly USB_INTERFACE_DESCRIPTOR: KoffiType;
  readonly ALTERNATE_INTERFACE: KoffiType;
  readonly USBFN_NOTIFICATION: KoffiType;
  readonly USBFN_PIPE_INFORMATION: KoffiType;
  readonly USBFN_CLASS_INTERFACE: KoffiType;
  readonly USBFN_CLASS_INFORMATION_PACKET: KoffiType;
  readonly USBFN_CLASS_INTERFACE_EX: KoffiType;
  readonly USBFN_CLASS_INFORMATION_PACKET_EX: KoffiType;
  readonly USBFN_INTERFACE_INFO: KoffiType;
  readonly USBFN_USB_STRING: KoffiType;
  readonly USBFN_BUS_CONFIGURATION_INFO: KoffiType;
  readonly CM_NOTIFY_FILTER: KoffiType;
  readonly CM_NOTIFY_EVENT_DATA: KoffiType;
  readonly OVERLAPPED: KoffiType;
  readonly OVERLAPPED_ENTRY: KoffiType;
}

/** Struct names of {@link Win32Structs} (every key but `pointerSize`). */
export type Win32StructName = Exclude<keyof Win32Structs, 'pointerSize'>;

// usbfnbase.h constants used as array lengths (docs/reference/structs.md#constants).
const MAX_NUM_USBFN_PIPES = 16;
const MAX_INTERFACE_NAME_LENGTH = 40;
const MAX_INTERFACE_GUID_LENGTH = 39;
const MAX_USB_STRING_LENGTH = 255;
const MAX_CONFIGURATION_NAME_LENGTH = 40;
const MAX_DEVICE_ID_LEN = 200; // cfgmgr32.h (docs/reference/configuration-manager.md#constants)

/**
 * Declares every struct of docs/reference/structs.md for koffi.
 *
 * @param koffi the loaded koffi module (from {@link loadKoffi}).
 * @param pointerSize 8 for x64/ARM64 (default: the running process's), 4 for x86.
 * @example
 * const koffi = await loadKoffi();
 * const s = declareStructs(koffi, 8);
 * koffi.sizeof(s.CM_NOTIFY_FILTER); // 416
 */
export function declareStructs(koffi: KoffiModule, pointerSize: PointerSize = hostPointerSize(koffi)): Win32Structs {
  const ptr = pointerSize === 8 ? 'uint64' : 'uint32'; // HANDLE / PVOID / ULONG_PTR
  const WCHAR = 'uint16';

  const GUID = koffi.struct({
    Data1: 'uint32',
    Data2: 'uint16',
    Data3: 'uint16',
    Data4: koffi.array('uint8', 8, 'Typed'),
  });

  // usbspec.h: whole file in pshpack1 (docs/reference/structs.md#packing).
  const USB_DEFAULT_PIPE_SETUP_PACKET = koffi.pack({
    bmRequestType: 'uint8', // union BM_REQUEST_TYPE { bitfield struct; UCHAR B } (docs/reference/structs.md#usb-default-pipe-setup-packet)
    bRequest: 'uint8',
    wValue: 'uint16', // union { LowByte@2, HiByte@3 ; USHORT W }
    wIndex: 'uint16', // union { LowByte@4, HiByte@5 ; USHORT W }
    wLength: 'uint16',
  });
  const USB_ENDPOINT_DESCRIPTOR = koffi.pack({
    bLength: 'uint8',
    bDescriptorType: 'uint8',
    bEndpointAddress: 'uint8',
    bmAttributes: 'uint8',
    wMaxPacketSize: 'uint16', // unaligned (offset 4 in a 7-byte struct)
    bInterval: 'uint8',
  });
  const USB_INTERFACE_DESCRIPTOR = koffi.pack({
    bLength: 'uint8',
    bDescriptorType: 'uint8',
    bInterfaceNumber: 'uint8',
    bAlternateSetting: 'uint8',
    bNumEndpoints: 'uint8',
    bInterfaceClass: 'uint8',
    bInterfaceSubClass: 'uint8',
    bInterfaceProtocol: 'uint8',
    iInterface: 'uint8',
  });

  // usbfnbase.h: natural alignment (docs/reference/structs.md#packing).
  const ALTERNATE_INTERFACE = koffi.struct({
    InterfaceNumber: 'uint16',
    AlternateInterfaceNumber: 'uint16',
  });
  const USBFN_NOTIFICATION = koffi.struct({
    Event: 'int32', // USBFN_EVENT (C enum = 4-byte int)
    u: koffi.union({
      BusSpeed: 'int32', // USBFN_BUS_SPEED
      SetupPacket: USB_DEFAULT_PIPE_SETUP_PACKET,
      ConfigurationValue: 'uint16',
      PortType: 'int32', // USBFN_PORT_TYPE
      AlternateInterface: ALTERNATE_INTERFACE,
    }),
  });
  const USBFN_PIPE_INFORMATION = koffi.struct({
    EpDesc: USB_ENDPOINT_DESCRIPTOR,
    PipeId: 'uint32', // USBFNPIPEID = ULONG; lands at 8 after 1 byte of padding
  });
  const PipeArr = koffi.array(USBFN_PIPE_INFORMATION, MAX_NUM_USBFN_PIPES, 'Array');
  const USBFN_CLASS_INTERFACE = koffi.struct({
    InterfaceNumber: 'uint8',
    PipeCount: 'uint8',
    PipeArr,
  });
  const USBFN_CLASS_INTERFACE_EX = koffi.struct({
    BaseInterfaceNumber: 'uint8',
    InterfaceCount: 'uint8',
    PipeCount: 'uint8',
    PipeArr,
  });
  const InterfaceName = koffi.array(WCHAR, MAX_INTERFACE_NAME_LENGTH, 'Typed');
  const InterfaceGuid = koffi.array(WCHAR, MAX_INTERFACE_GUID_LENGTH, 'Typed');
  const USBFN_CLASS_INFORMATION_PACKET = koffi.struct({
    FullSpeedClassInterface: USBFN_CLASS_INTERFACE,
    HighSpeedClassInterface: USBFN_CLASS_INTERFACE,
    InterfaceName,
    InterfaceGuid,
    HasInterfaceGuid: 'uint8', // BOOLEAN
    SuperSpeedClassInterface: USBFN_CLASS_INTERFACE,
  });
  const USBFN_CLASS_INFORMATION_PACKET_EX = koffi.struct({
    FullSpeedClassInterfaceEx: USBFN_CLASS_INTERFACE_EX,
    HighSpeedClassInterfaceEx: USBFN_CLASS_INTERFACE_EX,
    SuperSpeedClassInterfaceEx: USBFN_CLASS_INTERFACE_EX,
    InterfaceName,
    InterfaceGuid,
    HasInterfaceGuid: 'uint8',
  });
  const USBFN_INTERFACE_INFO = koffi.struct({
    InterfaceNumber: 'uint8',
    Speed: 'int32', // USBFN_BUS_SPEED
    Size: 'uint16',
    InterfaceDescriptorSet: koffi.array('uint8', 1, 'Typed'), // variable tail (ANYSIZE_ARRAY)
  });
  const USBFN_USB_STRING = koffi.struct({
    StringIndex: 'uint8',
    UsbString: koffi.array(WCHAR, MAX_USB_STRING_LENGTH, 'Typed'),
  });
  const USBFN_BUS_CONFIGURATION_INFO = koffi.struct({
    ConfigurationName: koffi.array(WCHAR, MAX_CONFIGURATION_NAME_LENGTH, 'Typed'),
    IsCurrent: 'uint8',
    IsActive: 'uint8',
  });

  // cfgmgr32.h (docs/reference/structs.md#cm-notify-filter, #cm-notify-event-data).
  const CM_NOTIFY_FILTER = koffi.struct({
    cbSize: 'uint32',
    Flags: 'uint32',
    FilterType: 'int32', // CM_NOTIFY_FILTER_TYPE
    Reserved: 'uint32',
    u: koffi.union({
      DeviceInterface: koffi.struct({ ClassGuid: GUID }),
      DeviceHandle: koffi.struct({ hTarget: ptr }), // HANDLE: 8 bytes on x64, 4 on x86
      DeviceInstance: koffi.struct({ InstanceId: koffi.array(WCHAR, MAX_DEVICE_ID_LEN, 'Typed') }),
    }),
  });
  const CM_NOTIFY_EVENT_DATA = koffi.struct({
    FilterType: 'int32',
    Reserved: 'uint32',
    u: koffi.union({
      DeviceInterface: koffi.struct({ ClassGuid: GUID, SymbolicLink: koffi.array(WCHAR, 1, 'Typed') }),
      DeviceHandle: koffi.struct({
        EventGuid: GUID,
        NameOffset: 'int32', // LONG
        DataSize: 'uint32',
        Data: koffi.array('uint8', 1, 'Typed'),
      }),
      DeviceInstance: koffi.struct({ InstanceId: koffi.array(WCHAR, 1, 'Typed') }),
    }),
  });

  // minwinbase.h (docs/reference/structs.md#overlapped).
  const OVERLAPPED = koffi.struct({
    Internal: ptr, // ULONG_PTR: the NTSTATUS (STATUS_PENDING 0x103 while pending)
    InternalHigh: ptr, // ULONG_PTR: bytes transferred
    u: koffi.union({
      s: koffi.struct({ Offset: 'uint32', OffsetHigh: 'uint32' }),
      Pointer: ptr,
    }),
    hEvent: ptr,
  });
  const OVERLAPPED_ENTRY = koffi.struct({
    lpCompletionKey: ptr,
    lpOverlapped: ptr,
    Internal: ptr,
    dwNumberOfBytesTransferred: 'uint32',
  });

  return {
    pointerSize,
    GUID,
    USB_DEFAULT_PIPE_SETUP_PACKET,
    USB_ENDPOINT_DESCRIPTOR,
    USB_INTERFACE_DESCRIPTOR,
    ALTERNATE_INTERFACE,
    USBFN_NOTIFICATION,
    USBFN_PIPE_INFORMATION,
    USBFN_CLASS_INTERFACE,
    USBFN_CLASS_INFORMATION_PACKET,
    USBFN_CLASS_INTERFACE_EX,
    USBFN_CLASS_INFORMATION_PACKET_EX,
    USBFN_INTERFACE_INFO,
    USBFN_USB_STRING,
    USBFN_BUS_CONFIGURATION_INFO,
    CM_NOTIFY_FILTER,
    CM_NOTIFY_EVENT_DATA,
    OVERLAPPED,
    OVERLAPPED_ENTRY,
  };
}

/** The running process's pointer size (8 on x64/ARM64, 4 on x86). */
export function hostPointerSize(koffi: KoffiModule): PointerSize {
  return koffi.sizeof('void *') === 4 ? 4 : 8;
}

/** Offset and size of a field addressed by a dotted path (`u.DeviceHandle.hTarget`) inside `type`. */
export function fieldLayout(koffi: KoffiModule, type: KoffiType, path: string): { offset: number; size: number } {
  let offset = 0;
  let current = koffi.type(type);
  for (const name of path.split('.')) {
    const member = current.members?.[name];
    if (member === undefined) {
      throw new Error(`koffi type has no member '${name}' (path '${path}')`);
    }
    offset += member.offset;
    current = member.type;
  }
  return { offset, size: current.size };
}

/** One difference between a declared koffi struct and the expected layout (expected-layouts.ts). */
export interface LayoutMismatch {
  readonly struct: string;
  readonly what: string;
  readonly expected: number;
  readonly actual: number;
}

/**
 * Compares the declared structs with the expected table; returns every difference (empty = all equal).
 * Used by the unit test, the Wine tier and {@link loadWin32Bindings} at startup.
 */
export function compareLayouts(
  koffi: KoffiModule,
  structs: Win32Structs,
  expected: readonly ExpectedLayout[],
): LayoutMismatch[] {
  const out: LayoutMismatch[] = [];
  const check = (struct: string, what: string, exp: number, actual: number): void => {
    if (exp !== actual) out.push({ struct, what, expected: exp, actual });
  };
  for (const layout of expected) {
    const type = structs[layout.name as Win32StructName] as KoffiType | undefined;
    if (type === undefined) {
      out.push({ struct: layout.name, what: 'declared', expected: 1, actual: 0 });
      continue;
    }
    check(layout.name, 'sizeof', layout.size, koffi.sizeof(type));
    check(layout.name, 'alignof', layout.align, koffi.alignof(type));
    for (const field of layout.fields) {
      let actual: { offset: number; size: number };
      try {
        actual = fieldLayout(koffi, type, field.path);
      } catch {
        out.push({ struct: layout.name, what: `${field.path} declared`, expected: 1, actual: 0 });
        continue;
      }
      check(layout.name, `offsetof(${field.path})`, field.offset, actual.offset);
      check(layout.name, `sizeof(${field.path})`, field.size, actual.size);
    }
  }
  return out;
}
