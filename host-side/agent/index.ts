/**
 * `HostAgent`: the host side of the built-in test functions (class requests of the test protocol,
 * loopback, source/sink, throughput) over any UsbHost device handle.
 */
export {
  HostAgent,
  type BulkOptions,
  type ClassRequestOptions,
  type HostAgentOpenOptions,
  type HostAgentOptions,
  type LoopbackResult,
  type SourceReadResult,
  type TestLastError,
  type ThroughputOptions,
  type ThroughputResult,
} from './host-agent.js';
export { TestProtocolError } from './test-protocol-error.js';
