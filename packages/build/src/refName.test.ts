import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCommitId, isImageTag, refNameProblem } from './refName.ts';
import { rendezvousOrder } from './rendezvous.ts';

test('ordinary branch and tag names pass', () => {
  for (const name of ['main', 'feature/login-page', 'release-1.2.3', 'v2.0.0+build.7', 'user@host', 'a_b']) {
    assert.equal(refNameProblem(name), undefined, name);
  }
});

test('names git refuses, option-like names and shell metacharacters are refused with a reason', () => {
  const cases: Record<string, RegExp> = {
    '': /empty/,
    '-x': /starts with "-"/,
    '--upload-pack=touch /tmp/x': /starts with "-"/,
    'main;rm': /may only contain/,
    '$(id)': /may only contain/,
    '`id`': /may only contain/,
    'a b': /space/,
    'a..b': /\.\./,
    'a@{1}': /may only contain/,
    '@': /"@"/,
    'a//b': /empty path component/,
    'a/': /empty path component/,
    'a.': /ends with "."/,
    'x/.hidden': /starting with "."/,
    'refs.lock': /\.lock/,
    'tab\there': /control/,
  };
  for (const [name, reason] of Object.entries(cases)) {
    assert.match(refNameProblem(name) ?? 'accepted', reason, JSON.stringify(name));
  }
});

test('commit ids and image tags', () => {
  assert.ok(isCommitId('0123abc'));
  assert.ok(!isCommitId('0123ab'));
  assert.ok(!isCommitId('HEAD'));
  assert.ok(isImageTag('v1.2_3-rc'));
  assert.ok(!isImageTag('-x'));
  assert.ok(!isImageTag('a/b'));
});

test('rendezvous order: stable per key, and removing an agent only moves its own keys', () => {
  const agents = ['agent-a', 'agent-b', 'agent-c', 'agent-d'];
  const keys = Array.from({ length: 400 }, (_, i) => `git@example.com:team/repo-${i}.git`);
  const home = new Map(keys.map((k) => [k, rendezvousOrder(k, agents)[0]]));
  const perAgent = new Map<string, number>();
  for (const a of home.values()) perAgent.set(a as string, (perAgent.get(a as string) ?? 0) + 1);
  for (const agent of agents)
    assert.ok((perAgent.get(agent) ?? 0) > 60, `${agent} got ${perAgent.get(agent)}`);
  const without = agents.filter((a) => a !== 'agent-b');
  for (const key of keys) {
    const next = rendezvousOrder(key, without)[0];
    if (home.get(key) !== 'agent-b') assert.equal(next, home.get(key));
    else assert.equal(next, rendezvousOrder(key, agents)[1]);
  }
});
