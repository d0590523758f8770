/**
 * An in-memory {@link CaptureFileSystem}: device nodes and files are entries of a map; `deny()` makes a path
 * unreadable. Paths may use `/` or `\` (a Windows host).
 */
import type { AccessResult, CaptureFileSystem } from '../capture-file-system.js';

export class FakeCaptureFileSystem implements CaptureFileSystem {
  readonly files = new Map<string, Uint8Array>();
  readonly dirs = new Set<string>();
  readonly #denied = new Set<string>();
  readonly #tempRoot: string;
  readonly #sep: string;
  #temps = 0;

  /** `paths`: files (device nodes) and directories that exist, a trailing separator marking a directory. */
  constructor(paths: readonly string[] = [], options: { tempRoot?: string } = {}) {
    this.#tempRoot = options.tempRoot ?? '/tmp';
    this.#sep = this.#tempRoot.includes('\\') ? '\\' : '/';
    for (const p of paths) {
      if (p.endsWith('/') || p.endsWith('\\')) this.dirs.add(p.slice(0, -1));
      else this.files.set(p, new Uint8Array(0));
    }
  }

  /** Makes `path` exist but unreadable for this user. */
  deny(path: string): this {
    this.#denied.add(path);
    if (!this.files.has(path)) this.files.set(path, new Uint8Array(0));
    return this;
  }

  write(path: string, bytes: Uint8Array): void {
    this.files.set(path, bytes);
  }

  async access(path: string, mode: 'read' | 'exists'): Promise<AccessResult> {
    if (!this.files.has(path) && !this.dirs.has(path)) return 'missing';
    return mode === 'read' && this.#denied.has(path) ? 'denied' : 'ok';
  }

  async list(dir: string): Promise<string[]> {
    const names = new Set<string>();
    for (const p of [...this.files.keys(), ...this.dirs]) {
      const rest = p.startsWith(dir + '/') ? p.slice(dir.length + 1) : p.startsWith(dir + '\\') ? p.slice(dir.length + 1) : undefined;
      if (rest !== undefined && rest !== '') names.add(rest.split(/[\\/]/)[0]!);
    }
    return [...names];
  }

  async makeTempDir(prefix: string): Promise<string> {
    const dir = `${this.#tempRoot}${this.#sep}${prefix}${++this.#temps}`;
    this.dirs.add(dir);
    return dir;
  }

  async readFile(path: string): Promise<Uint8Array | undefined> {
    return this.files.get(path);
  }

  async remove(path: string): Promise<void> {
    const under = (p: string): boolean => p === path || p.startsWith(path + '/') || p.startsWith(path + '\\');
    for (const p of [...this.files.keys()]) if (under(p)) this.files.delete(p);
    for (const d of [...this.dirs]) if (under(d)) this.dirs.delete(d);
  }
}
