/**
 * Serves the HTML report folder on 127.0.0.1 with @fastify/static (a maintained static server: bad URLs
 * answer 400, missing files 404, stream errors end that response only). Files are served only if their
 * real path lies inside the report folder, so a symlink cannot lead out of it.
 */
import { realpathSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify from 'fastify';
import { UsageError } from '../../core/index.js';

export interface ServedReport {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts serving `dir`. `port` 0 picks a free port.
 * @throws UsageError PORT_IN_USE when the port is taken, INVALID_ARGUMENT when it cannot be bound.
 */
export async function serveReport(dir: string, options: { port: number; host?: string | undefined }): Promise<ServedReport> {
  const root = realpathSync(dir);
  const app = Fastify({ logger: false });
  await app.register(fastifyStatic, {
    root,
    index: ['index.html'],
    dotfiles: 'deny',
    allowedPath: (pathName: string) => {
      try {
        const real = realpathSync(resolve(root, `.${pathName}`));
        return real === root || real.startsWith(root + sep);
      } catch {
        return true; // not there: the static handler answers 404
      }
    },
  });
  const host = options.host ?? '127.0.0.1';
  try {
    await app.listen({ host, port: options.port });
  } catch (err) {
    await app.close();
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE') throw portInUse(options.port, host);
    throw new UsageError('INVALID_ARGUMENT', `cannot serve on ${host}:${options.port}: ${(err as Error).message}`, {}, { cause: err });
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return { url: `http://${host}:${port}/`, close: () => app.close() };
}

function portInUse(port: number, host: string): UsageError {
  return new UsageError('PORT_IN_USE', `port ${port} on ${host} is already in use: pick another with --port, or --port 0 for any free port`, { port, host });
}

/**
 * Checks that `port` can be bound now, so that `--serve --port <busy>` fails before a run or a report build
 * rather than after it. Port 0 (any free port) always can.
 * @throws UsageError PORT_IN_USE when the port is taken.
 */
export async function checkPortFree(port: number, host = '127.0.0.1'): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host, port, exclusive: true }, resolve);
    });
  } catch (err) {
    if ((err as { code?: string }).code === 'EADDRINUSE') throw portInUse(port, host);
    throw new UsageError('INVALID_ARGUMENT', `cannot serve on ${host}:${port}: ${(err as Error).message}`, {}, { cause: err });
  } finally {
    await new Promise<void>((resolve) => (probe.listening ? probe.close(() => resolve()) : resolve()));
  }
}
