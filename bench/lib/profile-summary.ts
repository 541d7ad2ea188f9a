/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): the top functions by self time, the top files and
 * packages by self time, and the top functions by inclusive time (self + callees), idle excluded.
 * Run: node --import tsx bench/lib/profile-summary.ts FILE.cpuprofile [top=30] [skip-first-ms=0]
 * (skip the start-up: module loading and warm-up land in the first seconds).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: number[];
}
interface Profile {
  readonly nodes: ProfileNode[];
  readonly startTime: number;
  readonly samples: number[];
  readonly timeDeltas: number[];
}

const [file, topArg, skipArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [top] [skip-first-ms]');
const top = Number(topArg ?? 30);
const skipUs = Number(skipArg ?? 0) * 1000;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

const IDLE = new Set(['(idle)', '(program)']);
const selfUs = new Map<number, number>();
let elapsed = 0;
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  elapsed += delta;
  if (elapsed < skipUs || IDLE.has(byId.get(id)!.callFrame.functionName)) return;
  selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
});
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const where = (url: string) => {
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) return `~/${path.slice(nm + 'node_modules/'.length)}`;
  return path.replace(/.*\/(src|bench|test)\//, '$1/') || '(native)';
};
const packageOf = (w: string) =>
  w.startsWith('~/')
    ? w
        .split('/')
        .slice(0, w.startsWith('~/@') ? 3 : 2)
        .join('/')
    : w;
const label = (node: ProfileNode) =>
  `${node.callFrame.functionName || '(anonymous)'}  ${where(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;

const add = (rows: Map<string, number>, key: string, us: number) => rows.set(key, (rows.get(key) ?? 0) + us);
const functions = new Map<string, number>();
const files = new Map<string, number>();
const packages = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  add(functions, label(node), us);
  add(files, where(node.callFrame.url), us);
  add(packages, packageOf(where(node.callFrame.url)), us);
  // Inclusive: every distinct function on the stack gets this sample once (recursion is not counted twice).
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    const name = label(byId.get(at)!);
    if (seen.has(name)) continue;
    seen.add(name);
    add(inclusive, name, us);
  }
}

const print = (title: string, rows: Map<string, number>) => {
  console.log(`\n${title} (busy ${(total / 1000).toFixed(0)} ms)`);
  for (const [name, us] of [...rows].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`);
  }
};
print('self time by function', functions);
print('self time by file', files);
print('self time by package', packages);
print('inclusive time by function', inclusive);
