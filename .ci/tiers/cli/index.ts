/** What the report tier takes from the CLI tier: running `usbfn-hil` as a process, and where it writes. */
export { BIN, childEnv, lines, NOISE, REPORT_SITE, REPORTS, RESULTS, ROOT, runCli, SINGLE_FILE, snapshot, startCli, type CliResult } from './cli-process.js';
