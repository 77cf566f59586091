/**
 * Summarises a V8 CPU profile (from `BENCH_PROFILE=<dir> npm run bench` or `node --cpu-prof`):
 * the functions with the most self time. Usage: node --import tsx bench/profile-summary.ts <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const [file, top = '30'] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const timeByNode = new Map<number, number>();
profile.samples.forEach((node, index) => timeByNode.set(node, (timeByNode.get(node) ?? 0) + (profile.timeDeltas[index] ?? 0)));
const selfTime = new Map<string, number>();
let total = 0;
for (const node of profile.nodes) {
  const time = timeByNode.get(node.id) ?? 0;
  total += time;
  const { functionName, url, lineNumber } = node.callFrame;
  const key = `${functionName || '(anonymous)'}  ${url.split('/').slice(-3).join('/')}:${lineNumber + 1}`;
  selfTime.set(key, (selfTime.get(key) ?? 0) + time);
}
for (const [key, time] of [...selfTime.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
  process.stdout.write(`${((100 * time) / total).toFixed(1).padStart(5)}%  ${key}\n`);
}
