/**
 * The test functions the scenarios run on the device: loopback and source/sink, both answering the test
 * protocol's introspection requests on their interface.
 */
export { TestFunctionState, answerTestRequest } from './test-requests.js';
export { createLoopbackFunction, DEFAULT_PATTERN_SEED, type LoopbackFunction, type LoopbackOptions } from './loopback-function.js';
export { createSourceSinkFunction, type SourceSinkFunction, type SourceSinkOptions } from './source-sink-function.js';
export { USBFN_HIL_TEST_INTERFACE_GUID } from './test-interface-guid.js';
