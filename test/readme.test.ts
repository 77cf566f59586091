/** The README's error table is the public list of codes: it must match the catalogue. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errorCatalogue } from '../src/domain/errors.js';

const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');

test('every catalogued error code is in the README with its status, and no other', () => {
  for (const [code, { status }] of Object.entries(errorCatalogue)) {
    assert.ok(readme.includes(`| ${status} | \`${code}\` |`), `README lacks ${status} ${code}`);
  }
  const listed = [...readme.matchAll(/^\| (\d{3}) \| `([A-Z_]+)` \|/gm)].map((match) => match[2]);
  assert.deepEqual(listed.filter((code) => !(code! in errorCatalogue)), []);
});

test("the quick start shows the two commands verbatim", () => {
  assert.match(readme, /npm install && npm start/);
  assert.match(readme, /npm test/);
});
