/**
 * The lab world, harness side: the device agent's client, the lab rig, the bench check and what a bench may
 * offer (power control, host capture). docs/lab-setup.md explains the setup; docs/lab-config.md the config.
 */
export { AgentClient, errorFromEnvelope, type AcquireLeaseOptions, type AgentClientOptions, type CallOptions } from './agent-client.js';
export { AgentLease, type AgentLeaseOptions } from './agent-lease.js';
export type { BenchActionOptions, HostCaptureResult, HostCaptureSource, PowerControl } from './bench-capabilities.js';
export { BENCH_CHECK_STEPS, firstFailure, formatBenchCheck, runBenchCheck, type BenchCheckOptions, type BenchCheckResult, type BenchCheckStep } from './bench-check.js';
export { checkBenchSpeed, describeDevice, deviceFilter, openBenchFunction, type OpenedFunction } from './bench-host.js';
export { breaksBench, brokenBenchError, brokenBenchReason, FileBenchLatch, MemoryBenchLatch, type BenchLatch, type BrokenCause } from './bench-latch.js';
export { Deadline } from './deadline.js';
export { MISSED_HEARTBEATS, readEventStream, type EventStreamItem, type EventStreamOptions } from './event-stream.js';
export { isLabInfrastructureError, LAB_AGENT_CODES, LabAgentError, LabBenchError, type LabAgentCode, type LabBenchCode } from './lab-agent-error.js';
export { LabRig, type LabRigOptions } from './lab-rig.js';
export { RemoteDeviceSide } from './remote-device-side.js';
export { benchCapture, benchPower } from './bench-wiring.js';
export { benchesMatching, BENCH_INVENTORY_ENV, DEFAULT_BENCH_INVENTORY, loadBenchInventory, validateBenchInventory, type BenchInventory, type InventoryBench } from './bench-inventory.js';
export { benchStatus, HANDED_LEASE_ENV, takeBench, type BenchState, type BenchStatus, type TakeBenchOptions, type TakenBench } from './bench-pool.js';
export * from './lab-config.js';
