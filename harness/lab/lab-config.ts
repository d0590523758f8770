/**
 * The lab configuration: which bench (real device, host PC, device agent) a `lab` run uses. Read from the
 * JSON file named by USBFN_HIL_LAB_CONFIG (default `usbfn-hil.lab.json` in the project root) and validated up
 * front against a TypeBox schema (the same library as the agent protocol), so a lab run fails fast with one
 * fix-it message instead of timing out in its first scenario. The format, with a complete example, is
 * documented in docs/lab-config.md.
 *
 * Every problem is reported at once, each naming its field: unknown fields (a typo'd `serialNumbr`, with the
 * field it probably meant), missing ones, wrong types, endpoint 0 or a wrong endpoint direction, a token
 * written into the file. A UTF-8 byte order mark (as Windows editors write) is accepted.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { UsageError, type UsbDeviceSpeed } from '../../core/index.js';

export const LAB_CONFIG_ENV = 'USBFN_HIL_LAB_CONFIG';
export const DEFAULT_LAB_CONFIG = 'usbfn-hil.lab.json';
/** Environment variable holding the agent's token unless the config names another. */
export const DEFAULT_TOKEN_ENV = 'USBFN_HIL_AGENT_TOKEN';
const DOC = 'docs/lab-config.md';

const hex = (digits: number): string => `^0[xX][0-9a-fA-F]{1,${digits}}$`;
/** A 16-bit id as a number or a "0x…" string. */
const UsbId = Type.Union([Type.Integer({ minimum: 0, maximum: 0xffff }), Type.String({ pattern: hex(4) })], {
  fix: 'give a 16-bit id as a number or a "0x…" string, e.g. "0x1209"',
});
/** A byte as a number or a "0x…" string. */
const Byte = Type.Union([Type.Integer({ minimum: 0, maximum: 0xff }), Type.String({ pattern: hex(2) })], {
  fix: 'give a byte as a number or a "0x…" string, e.g. "0x81"',
});
const Millis = (minimum: number, maximum: number) => Type.Integer({ minimum, maximum, fix: `give whole milliseconds, ${minimum}..${maximum}` });

/** The file's schema (raw form, before hex strings become numbers). */
export const LabConfigFile = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    bench: Type.Object(
      {
        id: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._-]+$', fix: 'give a short name of letters, digits, ".", "_" or "-", e.g. "lab-01"' }),
        tags: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { fix: 'give a list of strings, e.g. ["speed-high", "hub-uhubctl"]' })),
        speed: Type.Union([Type.Literal('full'), Type.Literal('high'), Type.Literal('super')], {
          fix: 'give the speed the host port negotiates with this device: "full", "high" or "super"',
        }),
      },
      { additionalProperties: false },
    ),
    device: Type.Object(
      { vendorId: UsbId, productId: UsbId, serialNumber: Type.Optional(Type.String({ minLength: 1, fix: 'quote it, e.g. "LAB-01"' })) },
      { additionalProperties: false },
    ),
    function: Type.Object({ interfaceNumber: Byte, bulkOut: Byte, bulkIn: Byte }, { additionalProperties: false }),
    agent: Type.Object(
      {
        url: Type.String({ minLength: 1, fix: 'give the device agent URL, e.g. "http://192.0.2.10:7311"' }),
        tokenEnv: Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', fix: `give the name of an environment variable, e.g. "${DEFAULT_TOKEN_ENV}"` })),
        deadlineMs: Type.Optional(Millis(100, 600_000)),
        heartbeatMs: Type.Optional(Millis(100, 60_000)),
        trace: Type.Optional(Type.Boolean({ fix: 'give true or false' })),
      },
      { additionalProperties: false },
    ),
    lease: Type.Optional(
      Type.Object(
        {
          ttlMs: Type.Optional(Millis(1_000, 3_600_000)),
          waitMs: Type.Optional(Millis(0, 86_400_000)),
          holder: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        },
        { additionalProperties: false },
      ),
    ),
    hotplug: Type.Optional(
      Type.Object(
        {
          kind: Type.Union([Type.Literal('none'), Type.Literal('uhubctl'), Type.Literal('port-reset'), Type.Literal('exec')], {
            fix: 'use "none", "uhubctl", "port-reset" or "exec"',
          }),
          hub: Type.Optional(Type.String({ minLength: 1, fix: 'give the uhubctl hub location, e.g. "1-1" (see `uhubctl` output)' })),
          port: Type.Optional(Type.Integer({ minimum: 1, maximum: 255, fix: 'give the hub port number, 1..255' })),
          off: Type.Optional(Type.Array(Type.String(), { minItems: 1, fix: 'give the command as a list of arguments, e.g. ["relay", "off", "3"]' })),
          on: Type.Optional(Type.Array(Type.String(), { minItems: 1, fix: 'give the command as a list of arguments, e.g. ["relay", "on", "3"]' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type LabConfigFile = Static<typeof LabConfigFile>;

/** How the harness cuts and restores the device's connection without a human (docs/lab-config.md). */
export type HotplugConfig =
  | { readonly kind: 'none' }
  /** VBUS of one port of a hub with per-port power switching, through uhubctl. */
  | { readonly kind: 'uhubctl'; readonly hub: string; readonly port: number }
  /** A port reset through libusb (re-enumeration, VBUS stays on). */
  | { readonly kind: 'port-reset' }
  /** User commands (a relay, a PDU client such as pdudaemon's): argv lists, run without a shell. */
  | { readonly kind: 'exec'; readonly off: readonly string[]; readonly on: readonly string[] };

/** The validated lab configuration, with hex strings turned into numbers and defaults filled in. */
export interface LabConfig {
  readonly bench: {
    readonly id: string;
    readonly tags: readonly string[];
    /** The speed the host port negotiates with the device: asserted at the start of every session. */
    readonly speed: UsbDeviceSpeed;
  };
  readonly device: { readonly vendorId: number; readonly productId: number; readonly serialNumber?: string | undefined };
  readonly function: { readonly interfaceNumber: number; readonly bulkOut: number; readonly bulkIn: number };
  /** Where the device agent (running on the Windows device) listens, and how to reach it. */
  readonly agent: {
    readonly url: string;
    /** Name of the environment variable that holds the token (never the token itself). */
    readonly tokenEnv: string;
    /** Deadline of one agent call (default 10 000 ms). */
    readonly deadlineMs: number;
    /** The agent's heartbeat period on event streams (default 2000 ms). */
    readonly heartbeatMs: number;
    /** Record a device trace in every session and attach it to the report (default false). */
    readonly trace: boolean;
  };
  readonly lease: {
    /** Lease lifetime unless renewed (renewed every ttl/3; default 60 000 ms). */
    readonly ttlMs: number;
    /** How long a run waits for a bench another holder has (default 120 000 ms). */
    readonly waitMs: number;
    /** Who the run is, shown to others on 409 (default `<hostname> pid <pid>`). */
    readonly holder: string;
  };
  readonly hotplug: HotplugConfig;
}

const checker = TypeCompiler.Compile(LabConfigFile);

/** Edit distance, for "did you mean …" on a typo'd field. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** The schema at a JSON pointer of the file schema (objects only), for the known fields of a parent. */
function schemaAt(pointer: string[]): TSchema | undefined {
  let s: TSchema | undefined = LabConfigFile;
  for (const key of pointer) {
    const props: Record<string, TSchema> | undefined = (s as { properties?: Record<string, TSchema> } | undefined)?.properties;
    s = props?.[key];
  }
  return s;
}

const fieldName = (path: string): string => (path === '' ? '(root)' : path.slice(1).replace(/\//g, '.'));

/** One problem per field, in words, from the schema's errors. */
function schemaProblems(raw: unknown): string[] {
  const problems = new Map<string, string>();
  for (const e of checker.Errors(raw)) {
    const field = fieldName(e.path);
    if (problems.has(field)) continue;
    const segments = e.path.split('/').slice(1);
    const key = segments.at(-1) ?? '';
    const parent = schemaAt(segments.slice(0, -1));
    const known = Object.keys((parent as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
    if (e.message === 'Unexpected property') {
      if (key === 'token' && segments[0] === 'agent') {
        problems.set(field, `${field} must not be in the file: export the token in the environment variable named by agent.tokenEnv (default ${DEFAULT_TOKEN_ENV}) and remove it here`);
        continue;
      }
      const near = known.filter((k) => k !== '$schema').sort((a, b) => distance(key, a) - distance(key, b))[0];
      const hint = near !== undefined && distance(key, near) <= Math.max(2, Math.floor(key.length / 3)) ? ` (did you mean ${near}?)` : '';
      problems.set(field, `${field} is not a known field${hint}; known fields here: ${known.filter((k) => k !== '$schema').join(', ')}`);
      continue;
    }
    if (e.value === undefined) {
      problems.set(field, `${field} is missing`);
      continue;
    }
    const fix = (e.schema as { fix?: string }).fix;
    if (typeof e.value === 'object' && e.value !== null && !Array.isArray(e.value) && e.schema['type'] !== 'object') {
      problems.set(field, `${field} is an object${fix ? `: ${fix}` : ''}`);
      continue;
    }
    problems.set(field, `${field} is ${JSON.stringify(e.value)}: ${fix ?? e.message.toLowerCase()}`);
  }
  // A missing parent object hides its children's errors: report the parent only.
  return [...problems.entries()].filter(([f]) => ![...problems.keys()].some((p) => p !== f && f.startsWith(`${p}.`) && problems.get(p)!.endsWith('is missing'))).map(([, m]) => m);
}

const num = (v: number | string): number => (typeof v === 'number' ? v : Number.parseInt(v.slice(2), 16));

/** Checks the schema cannot express: endpoints, URL, hotplug variants. */
function semanticProblems(file: LabConfigFile): string[] {
  const out: string[] = [];
  for (const [name, wantIn] of [['bulkIn', true], ['bulkOut', false]] as const) {
    const address = num(file.function[name]);
    const hexA = `0x${address.toString(16).padStart(2, '0')}`;
    if ((address & 0x0f) === 0) {
      out.push(`function.${name} is ${hexA}, endpoint 0: that is the default control pipe, not a bulk endpoint; give the function's bulk ${wantIn ? 'IN' : 'OUT'} endpoint, e.g. "${wantIn ? '0x81' : '0x01'}"`);
    } else if ((address & 0x70) !== 0) {
      out.push(`function.${name} is ${hexA}: bits 4..6 of an endpoint address are reserved (USB 2.0 §9.6.6); give e.g. "${wantIn ? '0x81' : '0x01'}"`);
    } else if (wantIn && (address & 0x80) === 0) {
      out.push(`function.bulkIn is ${hexA}, an OUT address: IN endpoint addresses have bit 7 set, e.g. "0x81"`);
    } else if (!wantIn && (address & 0x80) !== 0) {
      out.push(`function.bulkOut is ${hexA}, an IN address: OUT endpoint addresses have bit 7 clear, e.g. "0x01"`);
    }
  }
  let url: URL | undefined;
  try {
    url = new URL(file.agent.url);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    out.push(`agent.url is ${JSON.stringify(file.agent.url)}: give the device agent URL, e.g. "http://192.0.2.10:7311"`);
  } else if (url.username !== '' || url.password !== '' || /token=/i.test(url.search)) {
    out.push('agent.url carries credentials: remove them and export the token in the environment variable named by agent.tokenEnv');
  }
  const hp = file.hotplug;
  if (hp !== undefined) {
    const allowed: Record<string, readonly string[]> = { none: [], 'port-reset': [], uhubctl: ['hub', 'port'], exec: ['off', 'on'] };
    const mine = allowed[hp.kind] ?? [];
    for (const key of ['hub', 'port', 'off', 'on'] as const) {
      if (mine.includes(key) && hp[key] === undefined) {
        out.push(`hotplug.${key} is missing: hotplug kind "${hp.kind}" needs ${mine.join(' and ')}`);
      } else if (!mine.includes(key) && hp[key] !== undefined) {
        out.push(`hotplug.${key} does not apply to hotplug kind "${hp.kind}"${mine.length === 0 ? '' : ` (it takes ${mine.join(' and ')})`}`);
      }
    }
  }
  return out;
}

function invalid(path: string, problems: string[]): UsageError {
  const fields = problems.map((p) => p.split(' ')[0]!);
  return new UsageError('INVALID_CONFIG', `${path}: ${problems.join('; ')}. See ${DOC}`, { path, field: fields[0] ?? '(root)', fields });
}

/** Validates parsed JSON as a {@link LabConfig}. @throws UsageError INVALID_CONFIG naming every bad field and its fix. */
export function validateLabConfig(raw: unknown, path = DEFAULT_LAB_CONFIG): LabConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalid(path, ['(root) is not a JSON object: the file holds one object with bench, device, function and agent']);
  }
  const problems = schemaProblems(raw);
  if (problems.length > 0) throw invalid(path, problems);
  const file = raw as LabConfigFile;
  const semantic = semanticProblems(file);
  if (semantic.length > 0) throw invalid(path, semantic);
  const hp = file.hotplug ?? { kind: 'none' as const };
  const hotplug: HotplugConfig =
    hp.kind === 'uhubctl'
      ? { kind: 'uhubctl', hub: hp.hub!, port: hp.port! }
      : hp.kind === 'exec'
        ? { kind: 'exec', off: hp.off!, on: hp.on! }
        : { kind: hp.kind };
  return {
    bench: { id: file.bench.id, tags: file.bench.tags ?? [], speed: file.bench.speed as UsbDeviceSpeed },
    device: {
      vendorId: num(file.device.vendorId),
      productId: num(file.device.productId),
      ...(file.device.serialNumber === undefined ? {} : { serialNumber: file.device.serialNumber }),
    },
    function: { interfaceNumber: num(file.function.interfaceNumber), bulkOut: num(file.function.bulkOut), bulkIn: num(file.function.bulkIn) },
    agent: {
      url: file.agent.url.replace(/\/+$/, ''),
      tokenEnv: file.agent.tokenEnv ?? DEFAULT_TOKEN_ENV,
      deadlineMs: file.agent.deadlineMs ?? 10_000,
      heartbeatMs: file.agent.heartbeatMs ?? 2_000,
      trace: file.agent.trace ?? false,
    },
    lease: {
      ttlMs: file.lease?.ttlMs ?? 60_000,
      waitMs: file.lease?.waitMs ?? 120_000,
      holder: file.lease?.holder ?? `${hostname()} pid ${process.pid}`,
    },
    hotplug,
  };
}

/** Reads and validates the lab configuration file (a UTF-8 BOM is accepted). @throws UsageError INVALID_CONFIG */
export function loadLabConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): LabConfig {
  const path = resolve(cwd, env[LAB_CONFIG_ENV] ?? DEFAULT_LAB_CONFIG);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(
      'INVALID_CONFIG',
      `lab mode needs a lab configuration, but ${path} cannot be read. Create it (format and example: ${DOC}) or point ${LAB_CONFIG_ENV} at it; to run without hardware use mode sim`,
      { path },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new UsageError('INVALID_CONFIG', `${path} is not valid JSON (${(err as Error).message}). Fix the syntax (${DOC} has a complete example)`, { path });
  }
  return validateLabConfig(raw, path);
}

/**
 * The agent's token from the environment variable the config names.
 * @throws UsageError INVALID_CONFIG when it is not set.
 */
export function readAgentToken(config: LabConfig, env: NodeJS.ProcessEnv = process.env): string {
  const token = env[config.agent.tokenEnv];
  if (token === undefined || token.trim() === '') {
    throw new UsageError(
      'INVALID_CONFIG',
      `the device agent's token is not set: export ${config.agent.tokenEnv}=<token> (the token \`usbfn-hil agent serve\` printed at install on the device; docs/lab-setup.md)`,
      { field: 'agent.tokenEnv', tokenEnv: config.agent.tokenEnv },
    );
  }
  return token.trim();
}

/** `usbfn-hil run --trace` sets it: every lab session records a device trace, attached to the report. */
export const TRACE_ENV = 'USBFN_HIL_TRACE';

/** The configuration with the device trace switched on when the run asked for it (`--trace`). */
export function withRunTrace(config: LabConfig, env: NodeJS.ProcessEnv = process.env): LabConfig {
  return env[TRACE_ENV] === '1' && !config.agent.trace ? { ...config, agent: { ...config.agent, trace: true } } : config;
}
