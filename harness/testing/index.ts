/** Test doubles of the harness layer (for tests only; never imported by production code). */
export { RefusingHandshakePort } from './refusing-handshake-port.js';
export { editTrace, recordLoopbackTrace, recordProbePairTrace, recordRemovalTrace } from './record-traces.js';
