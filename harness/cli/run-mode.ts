/**
 * The worlds a scenario run can use, as `--mode` of `usbfn-hil run` and `usbfn-hil list` names them: one table,
 * so the two commands accept the same modes.
 */
import { UsageError } from '../../core/index.js';
import type { Mode } from '../rig.js';

/** `sim`: the simulator; `lab`: a real device through its agent; `lab-sim`: the lab code path over a simulated device. */
export const RUN_MODES = ['sim', 'lab', 'lab-sim'] as const satisfies readonly Mode[];
export type RunMode = (typeof RUN_MODES)[number];

/**
 * The `--mode` value, checked.
 * @throws UsageError INVALID_ARGUMENT naming the modes there are.
 */
export function parseRunMode(text: string): RunMode {
  if ((RUN_MODES as readonly string[]).includes(text)) return text as RunMode;
  throw new UsageError('INVALID_ARGUMENT', `--mode '${text}' is not a mode: use --mode sim (simulator), lab (real device) or lab-sim (the lab code path over a simulated device)`);
}
