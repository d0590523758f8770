/**
 * Protocol v1 between the harness (`AgentClient`) and the device agent (`usbfn-hil agent serve`):
 * HTTP/1.1 + JSON commands, an NDJSON event stream, one TypeBox schema for both ends (docs/agent-protocol.md).
 */
export * from './schemas.js';
export * from './routes.js';
export * from './openapi.js';
