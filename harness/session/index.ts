/**
 * What every world's session does the same way: open the function on the host (find, open, claim, wait
 * until configured) under one deadline, and the deadline itself.
 */
export { withDeadline, type Deadline } from './deadline.js';
export { openFunctionHandle, openHostAgent, type OpenFunctionOptions } from './open-function.js';
