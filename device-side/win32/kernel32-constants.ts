/**
 * kernel32 constants the Win32 backend passes to CreateFileW / CreateNamedPipeW / DeviceIoControl
 * (winnt.h, fileapi.h, winbase.h). Values as listed in docs/reference/ioctls.md#opening-the-device.
 *
 * @see docs/reference/ioctls.md#opening-the-device
 */

// Access rights (docs/reference/ioctls.md#ctl-code). The IOCTLs need both: their Access bits are FILE_READ_DATA|FILE_WRITE_DATA.
export const GENERIC_READ = 0x8000_0000;
export const GENERIC_WRITE = 0x4000_0000;

// Share modes (fileapi.h).
export const FILE_SHARE_READ = 0x1;
export const FILE_SHARE_WRITE = 0x2;
export const FILE_SHARE_DELETE = 0x4;

// Creation disposition and flags (fileapi.h, winbase.h).
export const OPEN_EXISTING = 3;
export const FILE_ATTRIBUTE_NORMAL = 0x80;
export const FILE_FLAG_OVERLAPPED = 0x4000_0000;

// Named pipes (winbase.h; used by the Wine tier to get a handle whose FSCTL_PIPE_LISTEN pends).
export const PIPE_ACCESS_DUPLEX = 0x3;
export const PIPE_TYPE_BYTE = 0x0;
export const PIPE_WAIT = 0x0;
export const PIPE_UNLIMITED_INSTANCES = 255;

/**
 * FSCTL_PIPE_LISTEN = CTL_CODE(FILE_DEVICE_NAMED_PIPE 0x11, 2, METHOD_BUFFERED, FILE_ANY_ACCESS) (winioctl.h):
 * what ConnectNamedPipe sends; on an overlapped server handle it pends until a client connects.
 */
export const FSCTL_PIPE_LISTEN = 0x0011_0008;
