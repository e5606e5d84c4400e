import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ComponentError } from './componentError.ts';
import { useTestbed } from './nodeTest.ts';

const testbed = useTestbed();

async function get(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
}

test('nginx serves a location configured by the test and reloads on a changed config', async () => {
  const nginx = await testbed.nginx();
  const site = (body: string) => ({
    'app.conf': `server {\n  listen 127.0.0.1:${nginx.port};\n  location = /hello { return 200 "${body}\\n"; }\n}\n`,
  });
  await nginx.configure(site('first'));
  assert.deepEqual(await get(`http://127.0.0.1:${nginx.port}/hello`), { status: 200, body: 'first\n' });

  const workersBefore = nginx.workerPids();
  await nginx.configure(site('second'));
  assert.deepEqual(await get(`http://127.0.0.1:${nginx.port}/hello`), { status: 200, body: 'second\n' });
  assert.ok(
    nginx.workerPids().some((pid) => !workersBefore.includes(pid)),
    'a new worker generation runs',
  );
});

test('nginx runs Lua (lua-nginx-module with lua-resty-core)', async () => {
  const nginx = await testbed.nginx({ http: '  lua_shared_dict upstreams 1m;' });
  await nginx.configure({
    'lua.conf': `server {
  listen 127.0.0.1:${nginx.port};
  location = /lua {
    content_by_lua_block {
      local dict = ngx.shared.upstreams
      dict:set("k", "from-shared-dict")
      ngx.say(dict:get("k"), " ", tostring(require("resty.core") ~= nil))
    }
  }
}
`,
  });
  assert.deepEqual(await get(`http://127.0.0.1:${nginx.port}/lua`), {
    status: 200,
    body: 'from-shared-dict true\n',
  });
});

test('a bad config is refused by nginx -t and the last good config stays live', async () => {
  const nginx = await testbed.nginx();
  await nginx.configure({
    'ok.conf': `server { listen 127.0.0.1:${nginx.port}; location / { return 200 "good"; } }\n`,
  });
  await assert.rejects(
    nginx.configure({ 'bad.conf': `server { listen 127.0.0.1:${nginx.port}; no_such_directive on; }\n` }),
    (error: unknown) =>
      error instanceof ComponentError &&
      error.component === 'nginx' &&
      /unknown directive "no_such_directive"/.test(error.message),
  );
  assert.deepEqual(await get(`http://127.0.0.1:${nginx.port}/`), { status: 200, body: 'good' });
});
