/**
 * The simulator's hot-path runtime: the one pending-operation primitive and the two structures it rests
 * on (one abort listener per signal, intrusive lists), and a cheaper queueMicrotask. Each file keeps the
 * measurements behind its design.
 */
export { PendingOp } from './pending-op.js';
export { AbortFanout, abortFanout, type AbortSubscriber } from './abort-fanout.js';
export { IntrusiveList, type ListLinks } from './intrusive-list.js';
export { queueJob } from './queue-job.js';
