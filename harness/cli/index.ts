/**
 * What tools on top of the CLI (the benchmarks, CI scripts) share with it: the vitest arguments that select
 * a mode's scenarios, so a benchmark runs exactly the scenarios `usbfn-hil run --mode <mode>` would.
 */
export { modeArgs } from './scenario-listing.js';
