#!/usr/bin/env node
// Writes docs/errors.md from src/errors.ts: a table of every error class (from its TSDoc) and a table of
// every code in ERROR_CODES (from the TSDoc of its entry), so the documentation cannot drift from the code.
//
// Usage: node scripts/generate-errors-doc.mjs          writes docs/errors.md
//        node scripts/generate-errors-doc.mjs --check  exits 1 if docs/errors.md is not what it would write
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const sourcePath = join(root, 'src', 'errors.ts');
const outputPath = join(root, 'docs', 'errors.md');

/** The TSDoc of `node` as one line of markdown: `{@link X}` → `X`, lists and paragraphs joined. */
function docOf(node, sourceText) {
  const ranges = ts.getLeadingCommentRanges(sourceText, node.getFullStart()) ?? [];
  const doc = ranges
    .map((range) => sourceText.slice(range.pos, range.end))
    .filter((text) => text.startsWith('/**'))
    .pop();
  if (doc === undefined) return '';
  return doc
    .replace(/^\/\*\*|\*\/$/g, '')
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .join('\n')
    .split(/\n@example[\s\S]*$/)[0]
    .replace(/\{@link\s+([^}\s]+)\s*\}/g, '`$1`')
    .replace(/\n\s*-\s+/g, '; ')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();
}

/** Reads the classes and codes of src/errors.ts. */
export function readErrors(sourceText) {
  const file = ts.createSourceFile('errors.ts', sourceText, ts.ScriptTarget.Latest, true);
  const classes = [];
  const codes = [];
  for (const statement of file.statements) {
    if (ts.isClassDeclaration(statement) && statement.name) {
      const heritage = statement.heritageClauses?.[0]?.types[0]?.expression.getText(file);
      classes.push({
        name: statement.name.text,
        extends: heritage ?? 'Error',
        doc: docOf(statement, sourceText),
      });
    }
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (declaration.name.getText(file) !== 'ERROR_CODES') continue;
        let init = declaration.initializer;
        while (init && (ts.isAsExpression(init) || ts.isSatisfiesExpression?.(init))) init = init.expression;
        for (const property of init.properties) {
          codes.push({
            code: property.name.getText(file),
            className: property.initializer.text,
            doc: docOf(property, sourceText),
          });
        }
      }
    }
  }
  return { classes, codes };
}

/** The markdown of docs/errors.md. */
export function renderErrorsDoc(sourceText) {
  const { classes, codes } = readErrors(sourceText);
  const lines = [
    '# Errors',
    '',
    '<!-- Generated from src/errors.ts by `node scripts/generate-errors-doc.mjs`: edit the TSDoc there, not this file. -->',
    '',
    "Every error farcall throws is an instance of one of these classes, all exported from `farcall` (and each part's",
    'entry point re-exports the ones it throws). Every error has a stable `code` (typed `ErrorCode`); test `code` or',
    'use `instanceof`, never the message, whose wording may improve.',
    '',
    '```ts',
    "import { ConnectError, FarcallError } from 'farcall';",
    'try {',
    '  await connect();',
    '} catch (error) {',
    "  if (error instanceof ConnectError) console.error('start the server first');",
    "  else if (error instanceof FarcallError && error.code === 'ERR_FARCALL_TLS') console.error(error.message);",
    '  else throw error;',
    '}',
    '```',
    '',
    '## Classes',
    '',
    '| class | extends | codes | what happened |',
    '| --- | --- | --- | --- |',
  ];
  for (const cls of classes) {
    const own = codes.filter((entry) => entry.className === cls.name).map((entry) => `\`${entry.code}\``);
    lines.push(`| \`${cls.name}\` | \`${cls.extends}\` | ${own.join(', ') || '—'} | ${cls.doc} |`);
  }
  lines.push('', '## Codes', '', '| code | class | what happened, and what to do |', '| --- | --- | --- |');
  for (const entry of codes) lines.push(`| \`${entry.code}\` | \`${entry.className}\` | ${entry.doc} |`);
  lines.push('');
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const expected = renderErrorsDoc(readFileSync(sourcePath, 'utf8'));
  if (process.argv.includes('--check')) {
    let actual = '';
    try {
      actual = readFileSync(outputPath, 'utf8');
    } catch {}
    if (actual !== expected) {
      process.stderr.write(
        'docs/errors.md is out of date with src/errors.ts: run node scripts/generate-errors-doc.mjs\n',
      );
      process.exit(1);
    }
  } else {
    writeFileSync(outputPath, expected);
    process.stdout.write(`wrote ${outputPath}\n`);
  }
}
