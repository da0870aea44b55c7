/**
 * One import-specifier style for the whole tree, as ESLint rules (npm run fix applies the first):
 *  - `relative-extension`: a relative import names the file node loads, `./x.js` for `x.ts` (what
 *    NodeNext resolution requires and `node dist/...` runs; tsx maps it back to the .ts source).
 *  - `workspace-by-name`: code in one workspace package (apps/*, packages/*) reaches another by its
 *    name (`@mwt/db`), never through a relative path into its files, so that the package's exports
 *    (sources in development, dist/ in production) decide what is loaded. Tests and benchmarks may
 *    reach into a package's internals: they are outside every package.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, extname, relative, resolve, sep } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const KEPT_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.json', '.css', '.node', '.wasm']);

const isFile = (path) => existsSync(path) && statSync(path).isFile();

/** The specifier to write for `spec` imported from `file`, or undefined when none can be found. */
function emittedSpecifier(file, spec) {
  const target = resolve(dirname(file), spec);
  const ext = extname(spec);
  if (ext === '.ts' || ext === '.mts') return spec.slice(0, -ext.length) + (ext === '.ts' ? '.js' : '.mjs');
  for (const [source, emitted] of [
    ['.ts', '.js'],
    ['.tsx', '.js'],
    ['.js', '.js'],
    ['.mts', '.mjs'],
  ]) {
    if (isFile(target + source)) return spec + emitted;
  }
  for (const [source, emitted] of [
    ['index.ts', 'index.js'],
    ['index.js', 'index.js'],
  ]) {
    if (isFile(resolve(target, source))) return `${spec.replace(/\/$/, '')}/${emitted}`;
  }
  return undefined;
}

/** `apps/api` for a path inside apps/api, undefined outside every workspace package. */
function workspaceOf(path) {
  const [group, name] = relative(ROOT, path).split(sep);
  return (group === 'apps' || group === 'packages') && name ? `${group}/${name}` : undefined;
}

/** Calls `check(node, literal)` for every static module specifier in a file. */
function specifierVisitors(check) {
  const fromSource = (node) => {
    if (node.source && node.source.type === 'Literal' && typeof node.source.value === 'string') check(node.source);
  };
  return {
    ImportDeclaration: fromSource,
    ExportNamedDeclaration: fromSource,
    ExportAllDeclaration: fromSource,
    ImportExpression: fromSource,
    TSImportType(node) {
      const literal = node.argument?.type === 'TSLiteralType' ? node.argument.literal : node.argument;
      if (literal && literal.type === 'Literal' && typeof literal.value === 'string') check(literal);
    },
  };
}

const relativeExtension = {
  meta: {
    type: 'problem',
    fixable: 'code',
    docs: { description: 'relative imports name the emitted file (./x.js for x.ts)' },
    messages: { extension: "relative import '{{spec}}' should be '{{fixed}}' (the file node loads)", unresolved: "relative import '{{spec}}' names no file" },
    schema: [],
  },
  create(context) {
    return specifierVisitors((literal) => {
      const spec = literal.value;
      if (!spec.startsWith('./') && !spec.startsWith('../')) return;
      if (KEPT_EXTENSIONS.has(extname(spec))) return;
      const fixed = emittedSpecifier(context.filename, spec);
      if (fixed === undefined) return context.report({ node: literal, messageId: 'unresolved', data: { spec } });
      const quote = literal.raw[0];
      context.report({ node: literal, messageId: 'extension', data: { spec, fixed }, fix: (fixer) => fixer.replaceText(literal, quote + fixed + quote) });
    });
  },
};

const workspaceByName = {
  meta: {
    type: 'problem',
    docs: { description: 'workspace packages import each other by name' },
    messages: { byName: "'{{spec}}' reaches into {{target}}: import it by its package name" },
    schema: [],
  },
  create(context) {
    const own = workspaceOf(context.filename);
    if (own === undefined) return {};
    return specifierVisitors((literal) => {
      const spec = literal.value;
      if (!spec.startsWith('.')) return;
      const target = workspaceOf(resolve(dirname(context.filename), spec));
      if (target !== undefined && target !== own) context.report({ node: literal, messageId: 'byName', data: { spec, target } });
    });
  },
};

export default { meta: { name: 'mwt-import-specifiers' }, rules: { 'relative-extension': relativeExtension, 'workspace-by-name': workspaceByName } };
