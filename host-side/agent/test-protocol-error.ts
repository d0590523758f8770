/**
 * The device's test function did not answer a test-protocol request as the protocol says
 * (device-side/functions/test-protocol.ts): it stalled, sent too little, or a bulk check failed.
 */
import { HarnessError, type ErrorData } from '../../core/index.js';

/** `[TEST_PROTOCOL] GET_COUNTERS(interface 0) stalled: ...` */
export class TestProtocolError extends HarnessError {
  override readonly name = 'TestProtocolError';
  readonly request: string;
  constructor(request: string, problem: string, data: ErrorData = {}) {
    super('TEST_PROTOCOL', `[TEST_PROTOCOL] ${request} ${problem}`, { request, ...data });
    this.request = request;
  }
}
