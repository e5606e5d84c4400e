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

test('the layer rule flags a library importing an app (by any import form), the console importing a library, and reaching across packages', () => {
  const packages = [
    pkg('common', 'library', { 'index.ts': 'export const x = 1;\n' }),
    pkg('core', 'app', { 'index.ts': "import { x } from '@leengine/common';\nexport const y = x;\n" }),
    pkg('slb', 'library', {
      'agent.ts': "import { y } from '@leengine/core';\nimport { z } from '../../core/src/index.ts';\n",
      'ok.ts': "import type { x } from '@leengine/common';\nimport { a } from './agent.ts';\n",
    }),
    pkg('ipam', 'library', {
      'side.ts': "import '@leengine/core';\n",
      'reexport.ts':
        "export { y } from '@leengine/core';\nexport type {\n  Y,\n} from '@leengine/core/types';\nexport * from '@leengine/common';\n",
      'lazy.ts':
        "const m = await import('@leengine/core');\nconst r = require(\"@leengine/core\");\nconst ok = require('node:fs');\n",
      'strings.ts': "const text = 'import from the core';\nexport const fromage = 1;\n",
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
    'ipam/src/lazy.ts: library @leengine/ipam imports app @leengine/core',
    'ipam/src/lazy.ts: library @leengine/ipam imports app @leengine/core',
    'ipam/src/reexport.ts: library @leengine/ipam imports app @leengine/core',
    'ipam/src/reexport.ts: library @leengine/ipam imports app @leengine/core',
    'ipam/src/side.ts: library @leengine/ipam imports app @leengine/core',
    'slb/src/agent.ts: library @leengine/slb imports app @leengine/core',
    'slb/src/agent.ts: relative import leaves the package: ../../core/src/index.ts',
  ]);
});
