/**
 * A {@link UsbFnPort} decorator for tests: a GenericUSBFn.sys that refuses one status-handshake direction
 * for class requests without a data stage, with ERROR_INVALID_PARAMETER (87), the way a driver that follows
 * the other reading of docs/reference/documented-vs-inferred.md#drv-no-data-handshake would. It follows the
 * setup packets the BUS_EVENT_NOTIFICATIONs of each handle carry; everything else passes through to the
 * simulator's port.
 *
 * Test-only. (The simulator's driver model accepts either direction; an option there would make this
 * decorator unnecessary.)
 */
import {
  IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION,
  IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN,
  IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT,
  WIN32_ERROR,
  decodeUsbfnNotification,
  win32Error,
  ForwardingUsbFnFile,
  ForwardingUsbFnPort,
  type IoctlOptions,
  type UsbFnFile,
  type UsbFnPort,
} from '../../device-side/index.js';

class RefusingFile extends ForwardingUsbFnFile {
  /** Whether the last setup packet this handle heard has no data stage. */
  #noDataSetup = false;

  constructor(
    inner: UsbFnFile,
    readonly refusedCode: number,
    readonly refusals: number[],
  ) {
    super(inner);
  }

  override ioctl(code: number, input: Uint8Array | null, output: Uint8Array | null, options?: IoctlOptions): Promise<number> {
    if (code === this.refusedCode && this.#noDataSetup) {
      this.refusals.push(code);
      return Promise.reject(
        win32Error('DeviceIoControl', WIN32_ERROR.ERROR_INVALID_PARAMETER, {
          ioctl: code,
          target: options?.target,
          detail: 'this simulated driver takes the other status handshake for requests without a data stage',
        }),
      );
    }
    const request = this.inner.ioctl(code, input, output, options);
    if (code === IOCTL_GENERICUSBFN_BUS_EVENT_NOTIFICATION && output !== null) {
      request.then(
        (n) => {
          const event = decodeUsbfnNotification(output.subarray(0, n));
          if (event.type === 'setupPacket') this.#noDataSetup = event.setupPacket.wLength === 0;
        },
        () => undefined,
      );
    }
    return request;
  }
}

/** `port` with a driver that refuses HANDSHAKE_`refused` for no-data requests; `refusals` counts the refusals. */
export class RefusingHandshakePort extends ForwardingUsbFnPort {
  readonly refusals: number[] = [];
  readonly #refusedCode: number;

  constructor(inner: UsbFnPort, refused: 'in' | 'out') {
    super(inner);
    this.#refusedCode = refused === 'in' ? IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_IN : IOCTL_GENERICUSBFN_CONTROL_STATUS_HANDSHAKE_OUT;
  }

  override async open(symbolicLink: string): Promise<UsbFnFile> {
    return new RefusingFile(await this.inner.open(symbolicLink), this.#refusedCode, this.refusals);
  }
}
