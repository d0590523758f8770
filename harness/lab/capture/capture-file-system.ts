/**
 * What host capture needs of the file system (a fake in tests): whether the usbmon device node exists and
 * is readable, a private temporary directory for the tool's file, and reading it back.
 */
import { constants } from 'node:fs';
import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type AccessResult = 'ok' | 'missing' | 'denied';

export interface CaptureFileSystem {
  /** `read`: may this process read `path`; `exists`: is it there at all. */
  access(path: string, mode: 'read' | 'exists'): Promise<AccessResult>;
  /** Names in a directory; empty when it does not exist. */
  list(dir: string): Promise<string[]>;
  /** A new private directory under the OS temporary directory. */
  makeTempDir(prefix: string): Promise<string>;
  /** The file's bytes, or undefined when it does not exist. */
  readFile(path: string): Promise<Uint8Array | undefined>;
  /** Removes a file or directory tree; no error when it is gone. */
  remove(path: string): Promise<void>;
}

const code = (err: unknown): string | undefined => (err as NodeJS.ErrnoException).code;

export const nodeCaptureFileSystem: CaptureFileSystem = {
  async access(path, mode) {
    try {
      await access(path, mode === 'read' ? constants.R_OK : constants.F_OK);
      return 'ok';
    } catch (err) {
      return code(err) === 'EACCES' || code(err) === 'EPERM' ? 'denied' : 'missing';
    }
  },
  async list(dir) {
    try {
      return await readdir(dir);
    } catch {
      return [];
    }
  },
  makeTempDir: (prefix) => mkdtemp(join(tmpdir(), prefix)),
  async readFile(path) {
    try {
      return new Uint8Array(await readFile(path));
    } catch (err) {
      if (code(err) === 'ENOENT') return undefined;
      throw err;
    }
  },
  remove: (path) => rm(path, { recursive: true, force: true }),
};
