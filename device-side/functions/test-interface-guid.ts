/**
 * The device-interface class GUID of the usbfn-hil test function: the `InterfaceGUID` of its USBFN registry
 * configuration (device-side/agent/usbfn-hil-test-function.reg), the GUID the device-side service registers
 * for (CM_Register_Notification, DEVICEINTERFACE filter), and the one the simulator's test-function
 * configuration carries. Made up for this project, not a Microsoft GUID.
 */
export const USBFN_HIL_TEST_INTERFACE_GUID = '{7A1C9E52-3B4D-4F86-A0E1-5D2C8B6F9A13}';
