import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseScopes } from './scope.ts';

test('scopes: repeated parameters, several per parameter, host:port names, classes, deduplicated actions', () => {
  assert.deepEqual(
    parseScopes(['repository:team/app:pull,push', 'repository:team/base:pull registry:catalog:*']),
    [
      { type: 'repository', name: 'team/app', actions: ['pull', 'push'] },
      { type: 'repository', name: 'team/base', actions: ['pull'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ],
  );
  assert.deepEqual(parseScopes(['repository:127.0.0.1:5000/team/app:pull,pull']), [
    { type: 'repository', name: '127.0.0.1:5000/team/app', actions: ['pull'] },
  ]);
  assert.deepEqual(parseScopes(['repository(plugin):team/p:pull']), [
    { type: 'repository', class: 'plugin', name: 'team/p', actions: ['pull'] },
  ]);
  assert.deepEqual(parseScopes([]), []);
});

test('a malformed scope refuses the whole request', () => {
  for (const bad of [
    'repository:team/app',
    'repository::pull',
    'Repository:team/app:pull',
    'repository:a:PULL',
    'x'.repeat(600),
  ]) {
    assert.equal(parseScopes(['repository:team/app:pull', bad]), undefined, bad);
  }
});
