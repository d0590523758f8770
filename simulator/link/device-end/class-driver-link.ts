/**
 * The boundary between the simulated USB function controller + class extension (UFX, the device end of
 * `simulator/link`) and the GenericUSBFn.sys model (`simulator/usbfn`).
 *
 * In Windows, GenericUSBFn.sys is a UFX class driver: UFX answers chapter-9 standard requests itself,
 * forwards class requests addressed to the function's interface as UsbfnEventSetupPacket, purges
 * endpoint queues on reset/detach/unconfigure and then reports the event (*UFX page*). This interface is that
 * contract in simulator terms: bus events flow up, endpoint requests flow down.
 */
import type { UsbDeviceSpeed } from '../../../core/index.js';
import type { UsbFnRegistryConfig } from '../../config/index.js';
import type { UfxRequest } from '../link-contract.js';

/** Events UFX reports to the class driver, in bus order (mirrors USBFN_EVENT). */
export type UfxBusEvent =
  | { readonly type: 'attach' }
  | { readonly type: 'reset'; readonly speed: UsbDeviceSpeed }
  | { readonly type: 'detach' }
  | { readonly type: 'suspend' }
  | { readonly type: 'resume' }
  | { readonly type: 'configured'; readonly configurationValue: number }
  | { readonly type: 'unConfigured' }
  | { readonly type: 'setInterface'; readonly interfaceNumber: number; readonly alternateSetting: number }
  /** A class request with interface recipient addressed to this function (wIndex low byte). 8 raw bytes. */
  | { readonly type: 'setupPacket'; readonly setup: Uint8Array };

/** The class-driver side of UFX for one function, as the GenericUSBFn model sees it. */
export interface UfxClassDriverLink {
  /** The USBFN registry configuration this function was enumerated with. */
  readonly config: UsbFnRegistryConfig;
  /** Current speed once reset, undefined while detached. */
  readonly speed: UsbDeviceSpeed | undefined;
  /** True between `configured` and the next reset/detach/unConfigured. */
  readonly configured: boolean;

  /** Sets the single listener that receives bus events (the GenericUSBFn model). Events are delivered asynchronously in order. */
  setEventListener(listener: (event: UfxBusEvent) => void): void;

  /**
   * The class driver is ready (ACTIVATE_USB_BUS). The device connects to the host (pull-up) once every
   * class driver has activated (*Service page*, *UFX page*).
   */
  activate(): void;

  /** EP0 data stage, device→host, for the current class setup packet. */
  controlDataIn(data: Uint8Array): UfxRequest<number>;
  /** EP0 data stage, host→device, into `buffer`; resolves with bytes received. */
  controlDataOut(buffer: Uint8Array): UfxRequest<number>;
  /** EP0 status stage. `in` = device sends the ZLP (after an OUT or no data stage); `out` = host sends it (after an IN data stage). */
  controlHandshake(direction: 'in' | 'out'): UfxRequest<number>;
  /** STALL the current control transfer (SET_PIPE_STATE(TRUE) on pipe 0); clears itself at the next SETUP. */
  stallControl(): void;

  /**
   * Queues data for the host on IN endpoint `endpointAddress` (0x81 etc.). Resolves when the host has taken
   * every packet (plus a trailing ZLP when `appendZeroLengthPacket` and the length is a multiple of
   * wMaxPacketSize, or the length is 0). Held, not failed, while the endpoint is halted.
   */
  transferIn(endpointAddress: number, data: Uint8Array, appendZeroLengthPacket: boolean): UfxRequest<number>;
  /** Queues `buffer` to receive host data on OUT endpoint `endpointAddress`; resolves with bytes received (short packet ends it). */
  transferOut(endpointAddress: number, buffer: Uint8Array): UfxRequest<number>;
  /** SET_PIPE_STATE: halt or un-halt an endpoint (un-halt also resets its data toggle). */
  setEndpointHalt(endpointAddress: number, halted: boolean): void;
  /** GET_PIPE_STATE */
  isEndpointHalted(endpointAddress: number): boolean;
}
