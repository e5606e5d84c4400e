// Injection fuzz (the ingress-nginx CVE family: CVE-2021-25742 snippets,
// CVE-2023-5043/5044 annotation injection, CVE-2025-1974 config injection through
// nginx -t): every user-settable string field gets hostile values. Each must be rejected
// by the model, or rendered so that nginx reads it as one string: same directives, same
// blocks, no new variables; and the rest of the staged generation (main config, Lua,
// other domains' files) stays byte-for-byte the same and passes nginx -t.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import {
  type DomainConfig,
  type DomainConfigInput,
  DomainConfigSchema,
  hasControlCharacters,
} from '@leengine/common';
import { findBinary, makeWorkDir } from '@leengine/testbed';
import { AgentSettingsSchema } from '../agent/agentSettings.ts';
import { NginxRuntime } from '../agent/nginxRuntime.ts';
import { mainContext } from '../agent/slbAgent.ts';
import { renderControlBatch, renderDynamicState } from './dynamicState.ts';
import { renderDomain } from './renderDomain.ts';
import { renderMain } from './renderMain.ts';

const listen = { http: ['127.0.0.1:8080'], https: ['127.0.0.1:8443'], certDir: '/etc/leengine/slb/certs' };

const PAYLOADS = [
  'a\nb',
  'a\rb',
  'x;',
  'x; return 200 pwned;',
  '{',
  '}',
  'x } server { listen 1; } #',
  '"',
  '"; return 200 "pwned',
  "'",
  "' ; deny all; '",
  '$',
  '$host',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an nginx variable, on purpose
  '${host}',
  '$http_authorization',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an nginx variable, on purpose
  '${request_body}',
  '#',
  '# comment',
  'a\u0000b',
  'a\\',
  '\\"',
  'x'.repeat(100_000),
  'ünïcödé',
  'shop.exаmple.com', // Cyrillic "а"
  '\u202e',
  'a b',
  '/../etc/passwd',
  'lua; content_by_lua_block { os.execute("id") }',
  'load_module /tmp/evil.so;',
];

/** Builders that put a payload into one user-settable field of a valid config. */
const FIELDS: Record<string, (payload: string) => DomainConfigInput> = {
  domain: (p) => ({ ...base(), domain: p }),
  'domain (suffix)': (p) => ({ ...base(), domain: `evil.example.com${p}` }),
  application: (p) => ({ ...base(), application: p }),
  group: (p) => ({ ...base(), group: p }),
  'location path': (p) => ({ ...base(), locations: [{ path: p }] }),
  'location path (suffix)': (p) => ({ ...base(), locations: [{ path: `/ok${p}` }] }),
  'request header name': (p) => ({ ...base(), headers: { request: [{ name: p, value: 'v' }] } }),
  'request header value': (p) => ({ ...base(), headers: { request: [{ name: 'X-A', value: p }] } }),
  'response header name': (p) => ({ ...base(), headers: { response: [{ name: p, value: 'v' }] } }),
  'response header value': (p) => ({
    ...base(),
    headers: { response: [{ name: 'X-A', value: `ok ${p} ok` }] },
  }),
  'tls certificate': (p) => ({ ...base(), tls: { certificate: p } }),
  'canary version': (p) => ({ ...base(), canary: { version: p } }),
  'canary header name': (p) => ({ ...base(), canary: { version: 'v2', header: { name: p, value: 'on' } } }),
  'canary header value': (p) => ({ ...base(), canary: { version: 'v2', header: { name: 'X-C', value: p } } }),
  'canary cookie name': (p) => ({ ...base(), canary: { version: 'v2', cookie: { name: p, value: 'on' } } }),
  'canary cookie value': (p) => ({ ...base(), canary: { version: 'v2', cookie: { name: 'c', value: p } } }),
  'special allow cidr': (p) => ({ ...base(), special: { allowCidrs: [p] } }),
};

function base(): DomainConfigInput {
  return { domain: 'evil.example.com', group: 'public', application: 'evil' };
}

const NEIGHBOURS: DomainConfigInput[] = [
  { domain: 'a.example.com', group: 'public', application: 'a' },
  {
    domain: 'b.example.com',
    group: 'public',
    application: 'b',
    headers: { response: [{ name: 'X-B', value: 'b' }] },
  },
  {
    domain: 'c.example.com',
    group: 'public',
    application: 'c',
    locations: [
      { path: '/' },
      { path: '/upload', match: 'exact', proxy: { clientMaxBodySizeMb: 50, buffering: false } },
    ],
    proxy: { readTimeoutSeconds: 30, websocket: true },
    headers: { request: [{ name: 'X-Team', value: 'c; {d} #e $f' }] },
    canary: { version: 'v2', weight: 10, header: { name: 'X-Canary', value: 'on' } },
  },
  {
    domain: 'd.example.com',
    group: 'public',
    application: 'd',
    canary: { version: 'v3', cookie: { name: 'beta', value: 'yes' } },
    special: {
      clientMaxBodySizeMb: 0,
      proxyBuffers: { count: 8, sizeKb: 8 },
      allowCidrs: ['10.0.0.0/8'],
      nextUpstreamTries: 3,
    },
  },
];

/** nginx's tokenizer, enough to compare structure: quoted strings are one token. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) i++;
    else if (c === '#') while (i < text.length && text[i] !== '\n') i++;
    else if (c === ';' || c === '{' || c === '}') {
      tokens.push(c);
      i++;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let value = '';
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\' && j + 1 < text.length) {
          value += text[j + 1];
          j += 2;
        } else value += text[j++];
      }
      assert.ok(j < text.length, 'unterminated quoted string');
      tokens.push(`"${value}"`);
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s;{}"']/.test(text[j] as string)) j++;
      tokens.push(text.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

/** Directive names and block structure, with every argument reduced to a placeholder. */
function skeleton(text: string): string {
  const out: string[] = [];
  let atStart = true;
  for (const token of tokenize(text)) {
    if (token === ';' || token === '{' || token === '}') {
      out.push(token);
      atStart = true;
    } else {
      out.push(atStart ? token : 'ARG');
      atStart = false;
    }
  }
  return out.join(' ');
}

const PLATFORM_VARIABLES = new Set([
  'host',
  'request_uri',
  'remote_addr',
  'proxy_add_x_forwarded_for',
  'scheme',
  'http_upgrade',
  'leengine_connection_upgrade',
  'leengine_domain',
  'leengine_dollar',
]);

/** Every variable use except the literal-dollar one, in order. */
function variableUses(text: string): string[] {
  return [...text.matchAll(/\$\{?([A-Za-z0-9_]+)/g)]
    .map((m) => m[1] as string)
    .filter((n) => n !== 'leengine_dollar');
}

function variablesIn(text: string): Set<string> {
  return new Set([...text.matchAll(/\$\{?([A-Za-z0-9_]+)/g)].map((m) => m[1] as string));
}

/**
 * A host's staging area, as the agent has it: the whole generation (nginx.conf, lua/,
 * domains/<domain>.conf) is written by `NginxRuntime.stage` and checked by nginx -t.
 */
function stagingHost() {
  const work = makeWorkDir('slb-fuzz');
  const settings = AgentSettingsSchema.parse({
    group: 'public',
    host: 'slb-1',
    root: work.path,
    nginxBinary: findBinary('nginx', 'nginx'),
    http: ['127.0.0.1:18080'],
    https: ['127.0.0.1:18443'],
    metrics: '127.0.0.1:19145',
    certDir: join(work.path, 'certs'),
    dropPrivileges: false,
  });
  const runtime = NginxRuntime.create({ root: settings.root, binary: settings.nginxBinary });
  runtime.ensureLayout(false);
  const hostListen = { http: settings.http, https: settings.https, certDir: settings.certDir };
  const main = renderMain(mainContext(settings, runtime, 'g1'));
  const neighbours = new Map(
    NEIGHBOURS.map((n) => {
      const config = DomainConfigSchema.parse(n);
      return [config.domain, renderDomain(config, hostListen)];
    }),
  );
  return {
    work,
    runtime,
    /** Stages the neighbours and `config` as generation g1 (always the same id and dir). */
    stage(config: DomainConfig) {
      const domains = new Map(neighbours);
      domains.set(config.domain, renderDomain(config, hostListen));
      return runtime.stage('g1', main, domains, new Map());
    },
  };
}

/** Every file of a staged generation: relative path -> bytes. */
function readTree(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(dir, path), readFileSync(path));
  }
  return files;
}

/** The tree without one domain's file. */
function others(tree: Map<string, Buffer>, domain: string): Map<string, Buffer> {
  const rest = new Map(tree);
  rest.delete(join('domains', `${domain}.conf`));
  return rest;
}

function sampleFor(field: string): string {
  if (field.includes('cidr')) return '10.0.0.0/8';
  if (field === 'domain') return 'ok.example.com';
  if (field.includes('path') && !field.includes('suffix')) return '/ok';
  return 'ok';
}

/** Values the canary token rules accept (the hostile ones are all refused). */
const CANARY_TOKENS = ['on', 'a.b~c-d_9', '-', 'x'.repeat(128), 'X-Canary-2'];

/** nginx -t runs on every second accepted value of a field, at most this many (~0.1 s each). */
const NGINX_TESTS_PER_FIELD = 8;

test('injection fuzz: every hostile value is rejected or rendered inert; the rest of the staged tree is byte-for-byte unchanged; nginx -t accepts a sample', async () => {
  const host = stagingHost();
  try {
    let accepted = 0;
    let rejected = 0;
    let nginxTests = 0;
    for (const [field, build] of Object.entries(FIELDS)) {
      const referenceConfig = DomainConfigSchema.parse(build(sampleFor(field)));
      const reference = renderDomain(referenceConfig, listen);
      const referenceTree = others(readTree(host.stage(referenceConfig).dir), referenceConfig.domain);
      // The tree holds the main config, the Lua modules and every neighbour's file.
      assert.ok(referenceTree.has('nginx.conf') && referenceTree.size > NEIGHBOURS.length + 1);
      let tested = 0;
      let acceptedHere = 0;
      for (const payload of PAYLOADS) {
        const what = `${field} = ${JSON.stringify(payload.slice(0, 60))}`;
        const parsed = DomainConfigSchema.safeParse(build(payload));
        if (!parsed.success) {
          rejected++;
          continue;
        }
        accepted++;
        const text = renderDomain(parsed.data, listen);
        assert.equal(skeleton(text), skeleton(reference), `${what}: changes the config's structure`);
        for (const name of variablesIn(text))
          assert.ok(PLATFORM_VARIABLES.has(name), `${what}: brings in the variable $${name}`);
        assert.deepEqual(
          variableUses(text),
          variableUses(reference),
          `${what}: uses variables the reference does not`,
        );
        assert.ok(!hasControlCharacters(text, '\n'), `${what}: control character in output`);

        const generation = host.stage(parsed.data);
        const tree = readTree(generation.dir);
        assert.ok(tree.has(join('domains', `${parsed.data.domain}.conf`)), `${what}: its own file`);
        const rest = others(tree, parsed.data.domain);
        assert.deepEqual([...rest.keys()].sort(), [...referenceTree.keys()].sort(), `${what}: files`);
        for (const [path, bytes] of rest)
          assert.ok(bytes.equals(referenceTree.get(path) ?? Buffer.alloc(0)), `${what}: changes ${path}`);
        if (acceptedHere++ % 2 === 0 && tested < NGINX_TESTS_PER_FIELD) {
          tested++;
          nginxTests++;
          const result = await host.runtime.test(generation);
          assert.ok(result.ok, `${what}: nginx -t refuses the staged tree: ${result.output}`);
        }
      }
    }
    // Both paths are exercised: most values are refused, some are quoted and kept.
    assert.ok(rejected > 300, `rejected ${rejected}`);
    assert.ok(accepted > 5, `accepted ${accepted}`);
    assert.ok(nginxTests >= 10, `nginx -t runs ${nginxTests}`);
  } finally {
    host.work.remove();
  }
});

test('canary fuzz: hostile canary values are refused; accepted ones reach the Lua batch as single tokens of their own section', () => {
  const peers = [
    { ip: '10.0.0.1', port: 8080, weight: 1, cell: 'c1', version: 'v1' },
    { ip: '10.0.0.2', port: 8080, weight: 1, cell: 'c1', version: 'v2' },
  ];
  const neighbourStates = new Map(
    NEIGHBOURS.map((n) => {
      const config = DomainConfigSchema.parse(n);
      return [config.domain, renderDynamicState(peers, config.canary)];
    }),
  );
  const canaryFields = Object.entries(FIELDS).filter(([field]) => field.startsWith('canary'));
  assert.equal(canaryFields.length, 5);
  let accepted = 0;
  let rejected = 0;
  const weights = [-1, 101, 1.5, Number.NaN, '50', '50\npeer 6.6.6.6 80 100 v1'];
  for (const weight of weights) {
    const input = { ...base(), canary: { version: 'v2', weight } } as DomainConfigInput;
    assert.equal(DomainConfigSchema.safeParse(input).success, false, `weight ${JSON.stringify(weight)}`);
    rejected++;
  }
  for (const [field, build] of canaryFields) {
    for (const payload of [...PAYLOADS, ...CANARY_TOKENS]) {
      const what = `${field} = ${JSON.stringify(payload.slice(0, 60))}`;
      const parsed = DomainConfigSchema.safeParse(build(payload));
      if (!parsed.success) {
        rejected++;
        continue;
      }
      accepted++;
      const canary = parsed.data.canary;
      assert.ok(canary, what);
      const state = renderDynamicState(peers, canary);
      const lines = state.trimEnd().split('\n');
      // One canary line of exactly seven space-free fields, then the peers, unchanged.
      assert.equal(lines.length, 3, `${what}: ${JSON.stringify(state)}`);
      const fields = (lines[0] ?? '').split(' ');
      assert.equal(fields.length, 7, `${what}: ${lines[0]}`);
      assert.equal(fields[0], 'canary', what);
      for (const f of fields) assert.match(f, /^[A-Za-z0-9._~-]+$/, `${what}: field ${JSON.stringify(f)}`);
      assert.deepEqual(lines.slice(1), ['peer 10.0.0.1 8080 1 v1', 'peer 10.0.0.2 8080 1 v2'], what);
      assert.ok(!state.includes('@'), `${what}: could open another domain's section`);
      // The batch, split the way slb.lua splits it: every section is what was rendered.
      const changes = new Map<string, string | null>(neighbourStates);
      changes.set(parsed.data.domain, state);
      const sections = [...renderControlBatch(changes).matchAll(/@([^@]+)/g)].map((m) => m[1] ?? '');
      assert.deepEqual(
        sections,
        [...changes].map(([domain, text]) => `${domain}\n${text}`),
        `${what}: the batch splits differently`,
      );
    }
  }
  assert.ok(rejected > 100, `rejected ${rejected}`);
  assert.ok(accepted >= 5, `accepted ${accepted}`);
});

test('header values keep ; { } # $ and quotes of the other kind as literal text inside one string', () => {
  const value = "a;b {c} #d $host 'e'";
  const text = renderDomain(
    DomainConfigSchema.parse({ ...base(), headers: { response: [{ name: 'X-A', value }] } }),
    listen,
  );
  const tokens = tokenize(text);
  const at = tokens.indexOf('add_header');
  assert.equal(tokens[at + 1], '"X-A"');
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an nginx variable, on purpose
  assert.equal(tokens[at + 2], `"${value.replace('$', '${leengine_dollar}')}"`);
});

test('the model refuses what no field may hold', () => {
  const refused: [string, DomainConfigInput][] = [
    ['a raw snippet field', { ...base(), snippet: 'return 200;' } as DomainConfigInput],
    [
      'an unknown special setting',
      { ...base(), special: { configurationSnippet: 'x' } } as DomainConfigInput,
    ],
    ['a timeout out of bounds', { ...base(), proxy: { readTimeoutSeconds: 100_000 } }],
    ['a negative body size', { ...base(), proxy: { clientMaxBodySizeMb: -1 } }],
    // 0 is nginx's "no limit": only an admin's special setting may lift the cap.
    ['an unlimited body size', { ...base(), proxy: { clientMaxBodySizeMb: 0 } }],
    [
      'an unlimited body size on a location',
      { ...base(), locations: [{ path: '/upload', proxy: { clientMaxBodySizeMb: 0 } }] },
    ],
    ['a fractional weight', { ...base(), canary: { version: 'v2', weight: 1.5 } }],
    ['the Host header', { ...base(), headers: { request: [{ name: 'Host', value: 'x' }] } }],
    ['a duplicate location', { ...base(), locations: [{ path: '/a' }, { path: '/a' }] }],
    ['an upper-case domain', { ...base(), domain: 'Shop.Example.com' }],
    ['a single-label domain', { ...base(), domain: 'localhost' }],
  ];
  for (const [what, input] of refused) assert.equal(DomainConfigSchema.safeParse(input).success, false, what);
});

test('an admin may lift the body size limit (special 0); a user may set 1 and up', () => {
  const lifted = DomainConfigSchema.parse({ ...base(), special: { clientMaxBodySizeMb: 0 } });
  assert.match(renderDomain(lifted, listen), /client_max_body_size 0m;/);
  const smallest = DomainConfigSchema.parse({ ...base(), proxy: { clientMaxBodySizeMb: 1 } });
  assert.match(renderDomain(smallest, listen), /client_max_body_size 1m;/);
});

test('header objects are strict: an unknown key is refused with its field path', () => {
  for (const side of ['request', 'response'] as const) {
    const input = { ...base(), headers: { [side]: [{ name: 'X-A', value: 'a', raw: 'return 200;' }] } };
    const parsed = DomainConfigSchema.safeParse(input);
    assert.equal(parsed.success, false, side);
    const issue = parsed.error?.issues[0];
    assert.equal(issue?.code, 'unrecognized_keys', side);
    assert.deepEqual(issue?.path, ['headers', side, 0], side);
    assert.match(issue?.message ?? '', /raw/, side);
  }
});
