import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { violations } from './checkLayers.ts';

const root = mkdtempSync(join(tmpdir(), 'leengine-layers-'));
after(() => rmSync(root, { recursive: true, force: true }));

function pkg(name: string, role: 'app' | 'library', files: Record<string, string>) {
  const dir = join(root, name);
  mkdirSync(join(dir, 'src'), { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, 'src', file), text);
  return { dir, name: `@leengine/${name}`, role };
}

test('the layer rule flags a library importing an app, the console importing a library, and reaching across packages', () => {
  const packages = [
    pkg('common', 'library', { 'index.ts': 'export const x = 1;\n' }),
    pkg('core', 'app', { 'index.ts': "import { x } from '@leengine/common';\nexport const y = x;\n" }),
    pkg('slb', 'library', {
      'agent.ts': "import { y } from '@leengine/core';\nimport { z } from '../../core/src/index.ts';\n",
      'ok.ts': "import type { x } from '@leengine/common';\nimport { a } from './agent.ts';\n",
    }),
    pkg('console', 'app', {
      'main.tsx': "import { x } from '@leengine/common';\nconst m = await import('@leengine/slb');\n",
    }),
  ];
  // Paths are reported relative to the repository root; compare what follows the temp dir.
  const found = violations(packages).map((v) =>
    v.slice(v.indexOf(root.split('/').pop() as string)).replace(/^[^/]+\//, ''),
  );
  assert.deepEqual(found.sort(), [
    'console/src/main.tsx: the console may import only @leengine/common, not @leengine/slb',
    'slb/src/agent.ts: library @leengine/slb imports app @leengine/core',
    'slb/src/agent.ts: relative import leaves the package: ../../core/src/index.ts',
  ]);
});
