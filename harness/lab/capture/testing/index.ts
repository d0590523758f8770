/** Test doubles of host capture (tests only). */
export { FakeCaptureFileSystem } from './fake-capture-file-system.js';
export { FakeProcessSpawner, type FakeProcess, type FakeProcessHandle, type FakeProcessScript } from './fake-process-spawner.js';
export { fakeDumpcap, fakeDumpcapNoDevice, fakeDumpcapPermissionDenied, fakeSilentHang, fakeUsbpcapCmd } from './fake-capture-tools.js';
export { scenarioUrbs, usbmonPcap } from './recorded-usbmon.js';
export { AnsweringCommandRunner } from './answering-command-runner.js';
