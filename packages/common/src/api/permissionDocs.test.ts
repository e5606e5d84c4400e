// docs/api.md shows the permission table; this keeps it true to the code. On a mismatch
// the message holds the section to paste between the markers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROLE_TITLES, ROLES } from '../permissions.ts';
import { permissionTable } from './roles.ts';

const DOC = join(import.meta.dirname, '..', '..', '..', '..', 'docs', 'api.md');
const START =
  '<!-- permission-table:start (generated: see packages/common/src/api/permissionDocs.test.ts) -->';
const END = '<!-- permission-table:end -->';

/** The table as markdown: one block per resource kind, a row per action, a column per role. */
function render(): string {
  const table = permissionTable();
  const header = `| action | ${ROLES.map((r) => ROLE_TITLES[r]).join(' | ')} | public | what it allows |`;
  const rule = `| --- | ${ROLES.map(() => ':-:').join(' | ')} | :-: | --- |`;
  return table.resources
    .map((resource) =>
      [
        `**${resource.title}**`,
        '',
        header,
        rule,
        ...resource.actions.map(
          (a) =>
            `| \`${a.action}\` | ${ROLES.map((r) => (a.roles.includes(r) ? '✓' : '')).join(' | ')} | ${a.public ? '✓' : ''} | ${a.description} |`,
        ),
      ].join('\n'),
    )
    .join('\n\n');
}

test('docs/api.md shows the permission table exactly as the code declares it', () => {
  const doc = readFileSync(DOC, 'utf8');
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  assert.ok(start >= 0 && end > start, `docs/api.md must hold the markers ${START} ... ${END}`);
  const shown = doc.slice(start + START.length, end).trim();
  const expected = render();
  assert.ok(
    shown === expected,
    `docs/api.md's permission table is out of date; put this between the markers:\n\n${expected}\n`,
  );
});
