// Self time out of V8 CPU profiles (`node --cpu-prof`), summed by part of the work and by
// function. Idle time is left out: the share is of the CPU the main thread used.

export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }>;
  samples: number[];
  timeDeltas: number[];
}

type Frame = CpuProfile['nodes'][number]['callFrame'];

/** The part a frame's own time counts toward, from where its code lives (a native's: its caller's). */
function partOf({ functionName, url }: Frame): string | undefined {
  if (functionName === '(idle)') return undefined;
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(program)') return 'native, unattributed ((program))';
  if (url.includes('internal/crypto')) return 'sha256 (node:crypto)';
  if (/_http_|internal\/http|node:net|stream_base_commons|node:http/.test(url)) return 'HTTP and sockets (node)';
  if (/internal\/fs|node:fs/.test(url)) return 'file system (node:fs)';
  if (/internal\/streams|node:stream|node:events|internal\/event_target/.test(url)) return 'streams and events (node)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `library: ${pkg[1]}`;
  if (url.includes('/dist/')) return 'blobmirror';
  return url.startsWith('node:') ? 'other node internals' : 'other';
}

const where = ({ functionName, url, lineNumber }: Frame) =>
  `${functionName || '(anonymous)'} ${url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^file:\/\//, '')}:${lineNumber + 1}`;

/** Milliseconds of self time by part and by function (with its caller), heaviest first, and their total. */
export function selfTimes(profiles: readonly CpuProfile[]): {
  parts: Array<[string, number]>;
  functions: Array<[string, number]>;
  totalMs: number;
} {
  const parts = new Map<string, number>();
  const functions = new Map<string, number>();
  let totalMs = 0;
  for (const profile of profiles) {
    const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    const parents = new Map(profile.nodes.flatMap((n) => (n.children ?? []).map((c) => [c, n.id] as const)));
    profile.samples.forEach((id, i) => {
      const frame = frames.get(id)!;
      const caller = frames.get(parents.get(id) ?? -1);
      const part = partOf(frame.url || !caller ? frame : { ...caller, functionName: frame.functionName });
      if (!part) return;
      const ms = (profile.timeDeltas[i] ?? 0) / 1000;
      totalMs += ms;
      parts.set(part, (parts.get(part) ?? 0) + ms);
      const name = caller ? `${where(frame)} <- ${where(caller)}` : where(frame);
      functions.set(name, (functions.get(name) ?? 0) + ms);
    });
  }
  const heaviest = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return { parts: heaviest(parts), functions: heaviest(functions), totalMs };
}
