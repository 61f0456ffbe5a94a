/**
 * The layers hold: no import cycles between files or between folders; common/ imports only itself;
 * lib/ and bin/ never import code under functions/ (they reach shared code through common/, and point
 * constructs at handler entries by path, not by import); functions/ never imports lib/, bin/ or the
 * example app; the framework (lib/, common/, functions/commons, functions/publish, functions/remote-rpc)
 * has no import of the example app (functions/rpcs/, generated/, event-router.yaml).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cycles, type ImportEdge, importGraph, importsOf, resolveImport } from './import-graph.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The unit of the folder-level graph: `lib/<folder>`, `functions/<folder>`, or a file directly in a root. */
function folderOf(path: string): string {
  const parts = path.split('/');
  return parts.length > 2 ? parts.slice(0, 2).join('/') : path;
}

const EXAMPLE_APP = [/^functions\/rpcs\//, /^generated\//, /(^|\/)event-router\.yaml$/];
const FRAMEWORK = [
  /^lib\//,
  /^common\//,
  /^functions\/commons\//,
  /^functions\/publish\//,
  /^functions\/remote-rpc\//,
];

/** The imports that cross a layer the wrong way, one line each. */
export function layerViolations(edges: readonly ImportEdge[]): string[] {
  const problems: string[] = [];
  for (const { from, to } of edges) {
    const edge = `${from} -> ${to}`;
    if (from.startsWith('common/') && !to.startsWith('common/'))
      problems.push(`${edge}: common/ is shared by the functions and the tooling; it imports only common/`);
    if ((from.startsWith('lib/') || from.startsWith('bin/')) && to.startsWith('functions/'))
      problems.push(`${edge}: lib/ and bin/ do not import Lambda code; move what both need to common/`);
    if (from.startsWith('functions/') && /^(lib|bin|test|bench)\//.test(to))
      problems.push(`${edge}: Lambda code imports only functions/ and common/`);
    if (FRAMEWORK.some((re) => re.test(from)) && EXAMPLE_APP.some((re) => re.test(to)))
      problems.push(`${edge}: the framework does not import the example app (bind it through codegen)`);
  }
  return problems;
}

describe('the layers of the code', () => {
  const { files, edges } = importGraph(root);

  it('reads the import graph of the project', () => {
    assert.ok(files.length > 150, `expected the project's source files, got ${files.length}`);
    assert.ok(edges.some((e) => e.from === 'lib/naming.ts' && e.to === 'common/naming.ts'));
    assert.ok(
      edges.some(
        (e) => e.from === 'functions/remote-rpc/index.ts' && e.to === 'functions/commons/handler.ts',
      ),
    );
  });

  it('finds cycles and crossings when there are some', () => {
    const edge = (from: string, to: string): ImportEdge => ({ from, to, typeOnly: false });
    assert.deepEqual(cycles([edge('a', 'b'), edge('b', 'c'), edge('c', 'a'), edge('c', 'd')]), [
      ['a', 'b', 'c'],
    ]);
    assert.deepEqual(cycles([edge('a', 'b'), edge('b', 'c')]), []);
    assert.deepEqual(
      layerViolations([
        edge('lib/constructs/publish-api.ts', 'functions/publish/jwt-authorizer.ts'),
        edge('functions/commons/publish.ts', 'lib/naming.ts'),
        edge('functions/commons/rpc.ts', 'generated/events.ts'),
        edge('common/x.ts', 'functions/commons/y.ts'),
        edge('functions/rpcs/a/b.ts', 'generated/rpc.ts'),
      ]).map((line) => line.split(':')[0]),
      [
        'lib/constructs/publish-api.ts -> functions/publish/jwt-authorizer.ts',
        'functions/commons/publish.ts -> lib/naming.ts',
        'functions/commons/rpc.ts -> generated/events.ts',
        'common/x.ts -> functions/commons/y.ts',
      ],
    );
    assert.deepEqual(importsOf("/** import { x } from './doc.ts' */\nimport type { A } from './a.ts';"), [
      { specifier: './a.ts', typeOnly: true },
    ]);
    assert.equal(resolveImport('functions/rpcs/x/y.ts', '#commons/rpc.ts', root), 'functions/commons/rpc.ts');
  });

  it('has no import cycle between files', () => {
    assert.deepEqual(cycles(edges), [], 'files that import each other (directly or around a loop)');
  });

  it('has no import cycle between folders', () => {
    const between = edges
      .map((e) => ({ ...e, from: folderOf(e.from), to: folderOf(e.to) }))
      .filter((e) => e.from !== e.to);
    const found = cycles(between).map((folders) => {
      const inside = edges.filter(
        (e) =>
          folders.includes(folderOf(e.from)) &&
          folders.includes(folderOf(e.to)) &&
          folderOf(e.from) !== folderOf(e.to),
      );
      return `${folders.join(' <-> ')}: ${inside.map((e) => `${e.from} -> ${e.to}`).join(', ')}`;
    });
    assert.deepEqual(found, [], 'folders that import each other');
  });

  it('keeps every import inside its layer', () => {
    assert.deepEqual(layerViolations(edges), []);
  });
});
