// Keeps the dependency direction of ARCHITECTURE.md: apps import libraries, libraries
// never import apps, the console imports only `common`, and no file reaches into another
// package by a relative path. Prints each violation with its file; exits 1 if any.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

interface PackageInfo {
  dir: string;
  name: string;
  role: 'app' | 'library';
}

const root = resolve(import.meta.dirname, '..');
const packagesDir = join(root, 'packages');

function readPackages(): PackageInfo[] {
  return readdirSync(packagesDir)
    .filter((d) => statSync(join(packagesDir, d, 'package.json'), { throwIfNoEntry: false })?.isFile())
    .map((d) => {
      const json = JSON.parse(readFileSync(join(packagesDir, d, 'package.json'), 'utf8')) as {
        name: string;
        leengine?: { role?: string };
      };
      const role = json.leengine?.role;
      if (role !== 'app' && role !== 'library') {
        throw new Error(`packages/${d}/package.json: "leengine.role" must be "app" or "library"`);
      }
      return { dir: join(packagesDir, d), name: json.name, role };
    });
}

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|tsx|mts)$/.test(entry.name)) yield path;
  }
}

// `import … from 'x'`, `export … from 'x'` (also `type`, `*`, multi-line), bare
// `import 'x'`, dynamic `import('x')` and `require('x')`.
const IMPORT = new RegExp(
  [
    /(?:^|[\s;])(?:import|export)\s[^'"]*?\bfrom\s*['"]([^'"]+)['"]/.source,
    /(?:^|[\s;])import\s*['"]([^'"]+)['"]/.source,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/.source,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/.source,
  ].join('|'),
  'gm',
);

export function violations(packages: PackageInfo[]): string[] {
  const byName = new Map(packages.map((p) => [p.name, p]));
  const found: string[] = [];
  for (const pkg of packages) {
    for (const file of sourceFiles(pkg.dir)) {
      // End-to-end tests put apps together (core serving the console): the rule is for the code.
      if (file.endsWith('.test.ts')) continue;
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(IMPORT)) {
        const spec = match[1] ?? match[2] ?? match[3] ?? match[4] ?? '';
        const where = relative(root, file);
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec);
          if (!target.startsWith(`${pkg.dir}/`))
            found.push(`${where}: relative import leaves the package: ${spec}`);
          continue;
        }
        const name = spec.split('/').slice(0, 2).join('/');
        const target = byName.get(name);
        if (!target || target === pkg) continue;
        if (pkg.role === 'library' && target.role === 'app') {
          found.push(`${where}: library ${pkg.name} imports app ${target.name}`);
        }
        if (pkg.name === '@leengine/console' && target.name !== '@leengine/common') {
          found.push(`${where}: the console may import only @leengine/common, not ${target.name}`);
        }
      }
    }
  }
  return found;
}

if (import.meta.main) {
  const found = violations(readPackages());
  for (const line of found) console.error(`layers: ${line}`);
  if (found.length > 0) process.exit(1);
  console.log(`layers: ok (${readPackages().length} packages)`);
}
