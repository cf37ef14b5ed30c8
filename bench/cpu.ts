import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time of processes, from /proc (Linux only; elsewhere every reading is undefined). CPU seconds per
 * answered request barely move with the machine's load, unlike requests per second, so they show where
 * the app/baseline gap comes from: the app's own process, or the database working harder for it.
 */

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcStat {
  ppid: number;
  /** utime + stime, and with `children` cutime + cstime (its children that have exited). */
  own: number;
  children: number;
}

function procStat(pid: number | string): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state ppid … utime(14) stime(15) cutime(16) cstime(17), 1-based overall.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const n = (index: number) => Number(fields[index - 3]);
    return { ppid: n(4), own: n(14) + n(15), children: n(16) + n(17) };
  } catch {
    return undefined;
  }
}

/** CPU seconds a process has used so far. */
export function processCpuSeconds(pid: number): number | undefined {
  const stat = procStat(pid);
  return stat && stat.own / TICKS_PER_SECOND;
}

/**
 * CPU seconds of a process and all its direct children, live or exited: for a PostgreSQL postmaster,
 * every backend (one per pooled connection), autovacuum and the background writers.
 */
export function processTreeCpuSeconds(rootPid: number): number | undefined {
  const root = procStat(rootPid);
  if (!root) return undefined;
  let ticks = root.own + root.children;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (entry.charCodeAt(0) > 57) continue; // not a pid
    const stat = procStat(entry);
    if (stat?.ppid === rootPid) ticks += stat.own;
  }
  return ticks / TICKS_PER_SECOND;
}

/** Accumulates CPU seconds spent by a few meters between `start()` and `stop()`, over many windows. */
export class CpuMeter<K extends string> {
  private readonly totals = new Map<K, number>();
  private started?: Map<K, number | undefined>;

  constructor(private readonly meters: Record<K, () => number | undefined>) {}

  start(): void {
    this.started = this.read();
  }

  stop(): void {
    const now = this.read();
    for (const [key, begin] of this.started ?? []) {
      const end = now.get(key);
      if (begin !== undefined && end !== undefined) this.totals.set(key, (this.totals.get(key) ?? 0) + end - begin);
    }
    this.started = undefined;
  }

  /** Total CPU seconds of a meter, or undefined if it could never be read. */
  seconds(key: K): number | undefined {
    return this.totals.get(key);
  }

  private read(): Map<K, number | undefined> {
    return new Map((Object.keys(this.meters) as K[]).map((key) => [key, this.meters[key]()]));
  }
}
