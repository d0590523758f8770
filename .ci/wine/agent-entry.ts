/**
 * The Wine tier's device agent: the `usbfn-hil` command line itself (harness/cli/main.ts), so that
 * `wine node.exe agent/agent-entry.js agent serve --backend win32 --worker in-process …` is exactly
 * `usbfn-hil agent serve` on a device, over the built-in `win32` backend. Bundled by .ci/wine/run.sh with
 * esbuild (fastify and TypeBox inside, koffi external; the win32 backend module is a second entry point next
 * to this one, because the agent's worker imports its backend by URL). See docs/win32-backend.md.
 */
// eslint-disable-next-line @typescript-eslint/no-restricted-imports -- the CLI is an application with no index: main.ts is its entry
import { main } from '../../harness/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
