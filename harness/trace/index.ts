/** Trace conformance: replaying a recorded device trace against the simulator (`usbfn-hil trace check`). */
export { checkTrace, formatTraceCheck, type TraceCheckReport } from './trace-check.js';
export { type AssumptionCheck, type Divergence } from './trace-compare.js';
export { NO_ASSUMPTION } from './assumption-of.js';
export { planReplay, type HostAction, type ReplayPlan } from './replay-plan.js';
export { type ReplayOptions } from './trace-replayer.js';
