/**
 * The agent's control process: the HTTP server, the lease, sessions with their event rings and streams, the
 * token, the listen address. Loaded lazily (`device-side/agent/index.ts`), so importing device-side does not
 * load fastify.
 */
export * from './agent-server.js';
export * from './agent-token.js';
export * from './device-agent.js';
export * from './event-ring.js';
export * from './event-stream.js';
export * from './idempotency-cache.js';
export * from './lease-table.js';
export * from './listen-address.js';
