/**
 * The JSON path subset input transformers accept: `$`, dot members (with dashes, underscores,
 * slashes), bracket members (`['a b']`), array indices and `*` wildcards.
 */

type Step = { kind: 'member'; name: string } | { kind: 'index'; index: number } | { kind: 'wildcard' };

/** Parses a path; throws an Error naming the path when it is not of the supported form. */
export function parseJsonPath(path: string): Step[] {
  if (!path.startsWith('$')) throw new Error(`JSON path "${path}" must start with "$".`);
  const steps: Step[] = [];
  let i = 1;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      i++;
      let name = '';
      while (i < path.length && path[i] !== '.' && path[i] !== '[') name += path[i++];
      if (name === '') throw new Error(`JSON path "${path}" has an empty member name.`);
      steps.push(name === '*' ? { kind: 'wildcard' } : { kind: 'member', name });
    } else if (c === '[') {
      const end = path.indexOf(']', i);
      if (end < 0) throw new Error(`JSON path "${path}" has an unclosed "[".`);
      const inner = path.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') steps.push({ kind: 'wildcard' });
      else if (/^\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ kind: 'member', name: inner.slice(1, -1) });
      else throw new Error(`JSON path "${path}" has an unsupported selector [${inner}].`);
    } else {
      throw new Error(`JSON path "${path}" has an unexpected character "${c}" at ${i}.`);
    }
  }
  return steps;
}

/** Paths already parsed: they come from the templates' rules, so there are few, and each event evaluates them. */
const parsed = new Map<string, Step[]>();

/** Evaluates a path; undefined when it selects nothing. A wildcard yields the array of matches. */
export function evaluateJsonPath(value: unknown, path: string): unknown {
  let steps = parsed.get(path);
  if (!steps) {
    steps = parseJsonPath(path);
    parsed.set(path, steps);
  }
  let current: unknown[] = [value];
  let multi = false;
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of current) {
      if (step.kind === 'member') {
        if (v && typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, step.name))
          next.push((v as Record<string, unknown>)[step.name]);
      } else if (step.kind === 'index') {
        if (Array.isArray(v) && step.index < v.length) next.push(v[step.index]);
      } else {
        multi = true;
        if (Array.isArray(v)) next.push(...v);
        else if (v && typeof v === 'object') next.push(...Object.values(v));
      }
    }
    current = next;
  }
  if (multi) return current.length > 0 ? current : undefined;
  return current[0];
}
