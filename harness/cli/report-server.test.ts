import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveReport, type ServedReport } from './report-server.js';

describe('report server', () => {
  let dir: string;
  let outside: string;
  let served: ServedReport;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'report-'));
    outside = mkdtempSync(join(tmpdir(), 'secret-'));
    writeFileSync(join(dir, 'index.html'), '<html>report</html>');
    mkdirSync(join(dir, 'd', 'index.html'), { recursive: true });
    writeFileSync(join(outside, 'SECRET.txt'), 'secret');
    symlinkSync(join(outside, 'SECRET.txt'), join(dir, 'link.txt'));
    served = await serveReport(dir, { port: 0 });
  });

  afterAll(async () => {
    await served.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  const get = async (path: string): Promise<{ status: number; body: string }> => {
    const res = await fetch(new URL(path, served.url));
    return { status: res.status, body: await res.text() };
  };

  it('binds 127.0.0.1 and serves the report', async () => {
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await get('/')).toEqual({ status: 200, body: '<html>report</html>' });
  });

  it('answers malformed URLs, folders named index.html and traversal with 4xx and keeps serving', async () => {
    expect((await get('/%')).status).toBeGreaterThanOrEqual(400);
    expect((await get('/%E0%A4%A')).status).toBeGreaterThanOrEqual(400);
    expect((await get('/d/')).status).toBeGreaterThanOrEqual(400);
    expect((await get('/..%2f..%2fetc%2fpasswd')).status).toBeGreaterThanOrEqual(400);
    expect((await get('/')).status).toBe(200);
  });

  it('does not follow a symlink out of the report folder', async () => {
    const r = await get('/link.txt');
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.body).not.toContain('secret');
  });

  it('reports a busy port as a usage error with the fix', async () => {
    const port = Number(new URL(served.url).port);
    await expect(serveReport(dir, { port })).rejects.toMatchObject({ code: 'PORT_IN_USE', message: expect.stringMatching(/--port 0/) });
  });
});
