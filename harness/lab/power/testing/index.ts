/** Test doubles of the bench's power control (tests only). */
export { FakeCommandRunner, type RecordedCall, type ScriptedCommand } from './fake-command-runner.js';
export { uhubctlFixture } from './uhubctl-fixture.js';
