/**
 * Module URLs that work from the sources (`.ts`, run through tsx) and from the build (`dist/`, `.js`, plain
 * node): the agent forks its worker and the worker imports its backend by URL, so both must name the file
 * with the extension the running code has.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** Whether `moduleUrl` is a TypeScript source (the agent runs from a checkout, not from dist/). */
export function isSourceModule(moduleUrl: string): boolean {
  return new URL(moduleUrl).pathname.endsWith('.ts');
}

/**
 * The URL of the module at `relativePath` (written without extension) next to `baseUrl`, with `baseUrl`'s
 * extension: `siblingModule(import.meta.url, './worker-main')`.
 */
export function siblingModule(baseUrl: string, relativePath: string): string {
  return new URL(`${relativePath}${isSourceModule(baseUrl) ? '.ts' : '.js'}`, baseUrl).href;
}

/**
 * The node options a child process needs to run `moduleUrl`: tsx's loader for a `.ts` source (a
 * devDependency, present in a checkout), nothing for a built `.js`.
 */
export function execArgvFor(moduleUrl: string): string[] {
  if (!isSourceModule(moduleUrl)) return [];
  const loader = createRequire(import.meta.url).resolve('tsx');
  return ['--import', pathToFileURL(loader).href];
}
