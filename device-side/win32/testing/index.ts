/** Scripted fakes of the Win32 API for the Win32 backend's unit tests (never imported by production code). */
export { FakeOverlappedIoApi, type FakeIoctl, type FakeIoctlBehaviour } from './fake-overlapped-io-api.js';
export { FakeWin32Api, type FakeCreateFile, type FakeCmRegistration } from './fake-win32-api.js';
