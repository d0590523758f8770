/**
 * `HostAgent`: the host side of the built-in test functions (class requests of the test protocol,
 * loopback, source/sink, throughput) over any UsbHost device handle.
 */
export { HostAgent, type ClassRequestOptions, type HostAgentOpenOptions, type HostAgentOptions, type TestLastError } from './host-agent.js';
export type {
  BulkOptions,
  LoopbackResult,
  PipelinedLoopbackOptions,
  PipelinedLoopbackResult,
  SourceReadResult,
  ThroughputOptions,
  ThroughputResult,
} from './bulk-results.js';
export { TestProtocolError } from './test-protocol-error.js';
