/**
 * One device agent (`usbfn-hil agent serve --backend sim`) in its own container, started with testcontainers'
 * `GenericContainer`: the image node-image.sh made (this machine's node, nothing else), the project's build
 * bind-mounted read-only (dist/, node_modules/, package.json and the CLI's bin.js: bin.js finds no sources
 * there, so it runs dist/ on plain node, as an installed package does), host networking (the engine runs
 * with `--bridge=none`), its own ports and its own token.
 *
 * Killing the container is a device losing power (no shutdown, sockets reset); `restart()` is its reboot.
 */
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { GenericContainer, getContainerRuntimeClient, Wait, type StartedTestContainer } from 'testcontainers';
import { UsageError } from '../../../core/index.js';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** Set by run.sh to the image node-image.sh printed. */
export const IMAGE_ENV = 'USBFN_HIL_LAB_NODE_IMAGE';
/** Every container of the tier carries it, so run.sh can remove leftovers of a killed run. */
export const TIER_LABELS = { 'org.usbfn-hil.tier': 'containers' } as const;
/** Where the project is mounted in the container. */
const PROJECT = '/usbfn-hil';
/** What the agent prints once it serves (agent serve's start-up line, on stderr). */
const LISTENING = /usbfn-hil agent: listening on http:\/\/127\.0\.0\.1:\d+/;

/** The image the tier runs. @throws UsageError INVALID_CONFIG when run.sh did not make one. */
export function labNodeImage(env: NodeJS.ProcessEnv = process.env): string {
  const image = env[IMAGE_ENV];
  if (image === undefined || image === '') {
    throw new UsageError('INVALID_CONFIG', `${IMAGE_ENV} is not set: run the tier with \`npm run test:containers\` (it starts Docker and makes the image), not vitest alone`);
  }
  return image;
}

export interface AgentContainerSpec {
  readonly benchId: string;
  readonly tags: readonly string[];
  readonly httpPort: number;
  readonly usbipPort: number;
  readonly token: string;
}

export interface AgentContainer {
  readonly spec: AgentContainerSpec;
  /** The agent's URL (host networking: the container's 127.0.0.1 is the host's). */
  readonly url: string;
  /** Where the session's simulated device is exported over USB/IP. */
  readonly usbip: { readonly host: string; readonly port: number };
  readonly container: StartedTestContainer;
  /** What the container printed so far (stdout and stderr, every boot), for a failure's message. */
  output(): string;
  /** `docker kill` (SIGKILL to every process), then waits until the container has exited: power loss. */
  powerLoss(): Promise<void>;
  /** testcontainers' `restart()` and the wait for the agent's start-up line again: the device reboots. */
  reboot(): Promise<void>;
  /** Stops and removes the container. */
  stop(): Promise<void>;
}

/** The project's files the agent needs, mounted read-only; node_modules may be a symlink (a worktree). */
function projectMounts(): { source: string; target: string; mode: 'ro' }[] {
  return ['dist', 'node_modules', 'package.json', 'harness/cli/bin.js'].map((p) => ({ source: realpathSync(join(ROOT, p)), target: `${PROJECT}/${p}`, mode: 'ro' as const }));
}

/**
 * Starts one agent container and waits (bounded by `startupTimeoutMs`) for its start-up line.
 * @throws Error from testcontainers when the container does not start or the line does not come in time.
 */
export async function startAgentContainer(image: string, spec: AgentContainerSpec, startupTimeoutMs = 60_000): Promise<AgentContainer> {
  let out = '';
  const collect = (stream: Readable): void => {
    stream.on('data', (d: Buffer | string) => (out = (out + d.toString()).slice(-20_000)));
    stream.on('error', () => undefined);
  };
  const container = await new GenericContainer(image)
    .withNetworkMode('host')
    .withBindMounts(projectMounts())
    .withEnvironment({ USBFN_HIL_AGENT_TOKEN: spec.token })
    .withLabels({ ...TIER_LABELS, 'org.usbfn-hil.bench': spec.benchId })
    .withCommand([
      `${PROJECT}/harness/cli/bin.js`,
      'agent',
      'serve',
      '--backend',
      'sim',
      '--listen',
      `127.0.0.1:${spec.httpPort}`,
      '--usbip',
      `127.0.0.1:${spec.usbipPort}`,
      '--bench-id',
      spec.benchId,
      ...spec.tags.flatMap((t) => ['--bench-tag', t]),
    ])
    // With host networking Docker publishes no port, so testcontainers' HTTP wait has no binding to use:
    // the agent's own start-up line (printed once it serves) is the signal.
    .withWaitStrategy(Wait.forLogMessage(LISTENING))
    .withStartupTimeout(startupTimeoutMs)
    .withLogConsumer(collect)
    .start();
  const url = `http://127.0.0.1:${spec.httpPort}`;
  return {
    spec,
    url,
    usbip: { host: '127.0.0.1', port: spec.usbipPort },
    container,
    output: () => out,
    async powerLoss() {
      const client = await getContainerRuntimeClient();
      const docker = client.container.getById(container.getId());
      await docker.kill({ signal: 'SIGKILL' });
      await docker.wait();
    },
    async reboot() {
      const since = Math.floor(Date.now() / 1000);
      await container.restart();
      collect(await container.logs({ since }));
    },
    async stop() {
      await container.stop({ timeout: 0 });
    },
  };
}
