/**
 * Commands in the lab configuration are argument arrays (`["uhubctl"]`, `["relay-cli", "--port", "3", "off"]`):
 * the first element is the program, run without a shell.
 */
import { UsageError } from '../../../core/index.js';

/**
 * Checks a configured command.
 * @throws UsageError INVALID_CONFIG naming the field and the fix.
 */
export function checkCommand(command: unknown, field: string): readonly [string, ...string[]] {
  if (!Array.isArray(command) || command.length === 0 || !command.every((s) => typeof s === 'string') || command[0] === '') {
    throw new UsageError(
      'INVALID_CONFIG',
      `${field} is ${JSON.stringify(command)}: give the command as an argument array whose first element is the program, e.g. ["uhubctl"] or ["relay-cli", "--port", "3", "off"] (no shell: one element per argument)`,
      { field },
    );
  }
  return [...(command as string[])] as [string, ...string[]];
}
