// Fails when src/ has an import cycle: between files, or between top-level parts of src/ (each
// folder, and each file at the root, is one part). Type-only imports count, since a cycle of
// types still ties the parts together. Usage: node scripts/check-imports.mjs
import path from 'node:path';
import process from 'node:process';
import madge from 'madge';

const root = path.join(import.meta.dirname, '..');
const result = await madge(path.join(root, 'src'), {
  fileExtensions: ['ts'],
  tsConfig: path.join(root, 'tsconfig.json'),
  detectiveOptions: {
    ts: { skipTypeImports: false, skipAsyncImports: false },
    tsx: { skipTypeImports: false, skipAsyncImports: false },
  },
});

const problems = [];
// An import madge cannot resolve would be an edge missing from the graph.
for (const file of result.warnings().skipped) problems.push(`unresolved import: ${file}`);

for (const cycle of result.circular()) {
  problems.push(`file cycle: ${[...cycle, cycle[0]].join(' -> ')}`);
}

/** The part of src/ a file belongs to: its top-level folder, or itself at the root. */
const partOf = (file) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : file);

// part -> part -> the file imports behind that edge
const edges = new Map();
for (const [file, imports] of Object.entries(result.obj())) {
  const from = partOf(file);
  if (!edges.has(from)) edges.set(from, new Map());
  for (const imported of imports) {
    const to = partOf(imported);
    if (to === from) continue;
    const byTarget = edges.get(from);
    if (!byTarget.has(to)) byTarget.set(to, []);
    byTarget.get(to).push(`${file} -> ${imported}`);
  }
}

for (const component of stronglyConnected(edges)) {
  if (component.length < 2) continue;
  const members = new Set(component);
  const lines = [];
  for (const from of [...component].sort()) {
    for (const [to, files] of edges.get(from) ?? []) {
      if (members.has(to)) lines.push(`    ${from} -> ${to}: ${files.join(', ')}`);
    }
  }
  problems.push(`folder cycle among ${[...members].sort().join(', ')}:\n${lines.join('\n')}`);
}

if (problems.length > 0) {
  process.stderr.write(
    `check-imports: ${problems.length} problem(s) in src/\n${problems.join('\n')}\n`,
  );
  process.exit(1);
}
process.stdout.write(
  `check-imports: ${Object.keys(result.obj()).length} files in ${edges.size} parts, no import cycle\n`,
);

/** Tarjan's algorithm: the strongly connected components of a graph given as node -> Map(node -> _). */
function stronglyConnected(graph) {
  const nodes = new Set(graph.keys());
  for (const targets of graph.values()) for (const node of targets.keys()) nodes.add(node);
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const components = [];
  let next = 0;
  const visit = (node) => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node)?.keys() ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node), low.get(target)));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node), index.get(target)));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      components.push(component);
    }
  };
  for (const node of nodes) if (!index.has(node)) visit(node);
  return components;
}
