/**
 * The expected binary layouts (size, alignment, field offsets and sizes) of every struct the Win32
 * backend declares for koffi, restated from docs/reference/structs.md. One table, checked in three places:
 * the Linux unit test (`koffi-structs.test.ts`), the Wine tier under Windows node (`.ci/wine/`), and
 * {@link loadWin32Bindings} at startup (a koffi declaration that disagrees with the header
 * must fail before any I/O).
 *
 * Pure data: no koffi import, so the table loads anywhere.
 *
 * @see docs/reference/structs.md (usbfnbase.h / usbspec.h, cfgmgr32.h, minwinbase.h)
 */

/** Pointer width of the target ABI: 8 on x64/ARM64, 4 on x86 (LLP64 vs ILP32). */
export type PointerSize = 4 | 8;

/** One field, addressed by a dotted path through nested structs/unions (`u.DeviceHandle.hTarget`). */
export interface ExpectedField {
  readonly path: string;
  readonly offset: number;
  readonly size: number;
}

/** One struct: its total size, its alignment and the fields docs/reference/structs.md lists. */
export interface ExpectedLayout {
  /** The C type name, verbatim (`USBFN_CLASS_INFORMATION_PACKET`). */
  readonly name: string;
  readonly size: number;
  readonly align: number;
  readonly fields: readonly ExpectedField[];
}

const f = (path: string, offset: number, size: number): ExpectedField => ({ path, offset, size });

/**
 * The expected layouts for one pointer size. Only CM_NOTIFY_FILTER (HANDLE in its union), OVERLAPPED
 * and OVERLAPPED_ENTRY differ between x86 and x64; every USBFN/USB struct is byte-identical (docs/reference/structs.md#packing).
 */
export function expectedLayouts(pointerSize: PointerSize): readonly ExpectedLayout[] {
  const p = pointerSize;
  return [
    // docs/reference/structs.md#guid
    {
      name: 'GUID',
      size: 16,
      align: 4,
      fields: [f('Data1', 0, 4), f('Data2', 4, 2), f('Data3', 6, 2), f('Data4', 8, 8)],
    },
    // docs/reference/structs.md#usb-default-pipe-setup-packet (usbspec.h, pshpack1)
    {
      name: 'USB_DEFAULT_PIPE_SETUP_PACKET',
      size: 8,
      align: 1,
      fields: [f('bmRequestType', 0, 1), f('bRequest', 1, 1), f('wValue', 2, 2), f('wIndex', 4, 2), f('wLength', 6, 2)],
    },
    // docs/reference/structs.md#usb-endpoint-descriptor (usbspec.h, pshpack1)
    {
      name: 'USB_ENDPOINT_DESCRIPTOR',
      size: 7,
      align: 1,
      fields: [
        f('bLength', 0, 1),
        f('bDescriptorType', 1, 1),
        f('bEndpointAddress', 2, 1),
        f('bmAttributes', 3, 1),
        f('wMaxPacketSize', 4, 2),
        f('bInterval', 6, 1),
      ],
    },
    // docs/reference/structs.md#usb-interface-descriptor (usbspec.h, pshpack1)
    {
      name: 'USB_INTERFACE_DESCRIPTOR',
      size: 9,
      align: 1,
      fields: [
        f('bLength', 0, 1),
        f('bDescriptorType', 1, 1),
        f('bInterfaceNumber', 2, 1),
        f('bAlternateSetting', 3, 1),
        f('bNumEndpoints', 4, 1),
        f('bInterfaceClass', 5, 1),
        f('bInterfaceSubClass', 6, 1),
        f('bInterfaceProtocol', 7, 1),
        f('iInterface', 8, 1),
      ],
    },
    // docs/reference/structs.md#alternate-interface
    {
      name: 'ALTERNATE_INTERFACE',
      size: 4,
      align: 2,
      fields: [f('InterfaceNumber', 0, 2), f('AlternateInterfaceNumber', 2, 2)],
    },
    // docs/reference/structs.md#usbfn-notification
    {
      name: 'USBFN_NOTIFICATION',
      size: 12,
      align: 4,
      fields: [
        f('Event', 0, 4),
        f('u', 4, 8),
        f('u.BusSpeed', 4, 4),
        f('u.SetupPacket', 4, 8),
        f('u.ConfigurationValue', 4, 2),
        f('u.PortType', 4, 4),
        f('u.AlternateInterface', 4, 4),
      ],
    },
    // docs/reference/structs.md#usbfn-pipe-information
    {
      name: 'USBFN_PIPE_INFORMATION',
      size: 12,
      align: 4,
      fields: [f('EpDesc', 0, 7), f('PipeId', 8, 4)],
    },
    // docs/reference/structs.md#usbfn-class-interface
    {
      name: 'USBFN_CLASS_INTERFACE',
      size: 196,
      align: 4,
      fields: [f('InterfaceNumber', 0, 1), f('PipeCount', 1, 1), f('PipeArr', 4, 192)],
    },
    // docs/reference/structs.md#usbfn-class-information-packet
    {
      name: 'USBFN_CLASS_INFORMATION_PACKET',
      size: 748,
      align: 4,
      fields: [
        f('FullSpeedClassInterface', 0, 196),
        f('HighSpeedClassInterface', 196, 196),
        f('InterfaceName', 392, 80),
        f('InterfaceGuid', 472, 78),
        f('HasInterfaceGuid', 550, 1),
        f('SuperSpeedClassInterface', 552, 196),
      ],
    },
    // docs/reference/structs.md#usbfn-class-interface-ex
    {
      name: 'USBFN_CLASS_INTERFACE_EX',
      size: 196,
      align: 4,
      fields: [f('BaseInterfaceNumber', 0, 1), f('InterfaceCount', 1, 1), f('PipeCount', 2, 1), f('PipeArr', 4, 192)],
    },
    // docs/reference/structs.md#usbfn-class-information-packet-ex
    {
      name: 'USBFN_CLASS_INFORMATION_PACKET_EX',
      size: 748,
      align: 4,
      fields: [
        f('FullSpeedClassInterfaceEx', 0, 196),
        f('HighSpeedClassInterfaceEx', 196, 196),
        f('SuperSpeedClassInterfaceEx', 392, 196),
        f('InterfaceName', 588, 80),
        f('InterfaceGuid', 668, 78),
        f('HasInterfaceGuid', 746, 1),
      ],
    },
    // docs/reference/structs.md#usbfn-interface-info (variable tail: sizeof reserves 1 byte + 1 pad)
    {
      name: 'USBFN_INTERFACE_INFO',
      size: 12,
      align: 4,
      fields: [f('InterfaceNumber', 0, 1), f('Speed', 4, 4), f('Size', 8, 2), f('InterfaceDescriptorSet', 10, 1)],
    },
    // docs/reference/structs.md#usbfn-usb-string
    {
      name: 'USBFN_USB_STRING',
      size: 512,
      align: 2,
      fields: [f('StringIndex', 0, 1), f('UsbString', 2, 510)],
    },
    // docs/reference/structs.md#usbfn-bus-configuration-info
    {
      name: 'USBFN_BUS_CONFIGURATION_INFO',
      size: 82,
      align: 2,
      fields: [f('ConfigurationName', 0, 80), f('IsCurrent', 80, 1), f('IsActive', 81, 1)],
    },
    // docs/reference/structs.md#cm-notify-filter: 416 bytes on both; align 8 on x64 (HANDLE in the union), 4 on x86
    {
      name: 'CM_NOTIFY_FILTER',
      size: 416,
      align: p,
      fields: [
        f('cbSize', 0, 4),
        f('Flags', 4, 4),
        f('FilterType', 8, 4),
        f('Reserved', 12, 4),
        f('u', 16, 400),
        f('u.DeviceInterface.ClassGuid', 16, 16),
        f('u.DeviceHandle.hTarget', 16, p),
        f('u.DeviceInstance.InstanceId', 16, 400),
      ],
    },
    // docs/reference/structs.md#cm-notify-event-data: fixed part; the WCHAR/BYTE arrays run past sizeof
    {
      name: 'CM_NOTIFY_EVENT_DATA',
      size: 36,
      align: 4,
      fields: [
        f('FilterType', 0, 4),
        f('Reserved', 4, 4),
        f('u', 8, 28),
        f('u.DeviceInterface.ClassGuid', 8, 16),
        f('u.DeviceInterface.SymbolicLink', 24, 2),
        f('u.DeviceHandle.EventGuid', 8, 16),
        f('u.DeviceHandle.NameOffset', 24, 4),
        f('u.DeviceHandle.DataSize', 28, 4),
        f('u.DeviceHandle.Data', 32, 1),
        f('u.DeviceInstance.InstanceId', 8, 2),
      ],
    },
    // docs/reference/structs.md#overlapped (x64 32/8, x86 20/4)
    {
      name: 'OVERLAPPED',
      size: p === 8 ? 32 : 20,
      align: p,
      fields: [
        f('Internal', 0, p),
        f('InternalHigh', p, p),
        f('u', 2 * p, 8),
        f('u.s.Offset', 2 * p, 4),
        f('u.s.OffsetHigh', 2 * p + 4, 4),
        f('u.Pointer', 2 * p, p),
        f('hEvent', 2 * p + 8, p),
      ],
    },
    // ASSUMPTION (docs/reference/documented-vs-inferred.md#win32-overlapped-entry): minwinbase.h OVERLAPPED_ENTRY (GetQueuedCompletionStatusEx output):
    // { ULONG_PTR lpCompletionKey; LPOVERLAPPED lpOverlapped; ULONG_PTR Internal; DWORD dwNumberOfBytesTransferred; }
    // Natural alignment gives x64 32/8 and x86 16/4. Exercised for real by the Wine tier.
    {
      name: 'OVERLAPPED_ENTRY',
      size: p === 8 ? 32 : 16,
      align: p,
      fields: [
        f('lpCompletionKey', 0, p),
        f('lpOverlapped', p, p),
        f('Internal', 2 * p, p),
        f('dwNumberOfBytesTransferred', 3 * p, 4),
      ],
    },
  ];
}
