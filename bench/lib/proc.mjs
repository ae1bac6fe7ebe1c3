// Process helpers for the orchestrator and clients: /proc readings and pinned child processes.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const CLK_TCK = (() => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  return Number(out.stdout?.trim()) || 100;
})();

/** utime and stime of a process, in seconds. */
export const cpuTimes = pid => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / CLK_TCK, system: Number(fields[12]) / CLK_TCK }; // fields 14 and 15 of stat(5)
};

/** utime + stime of a process, in seconds. */
export const cpuSeconds = pid => {
  const t = cpuTimes(pid);
  return t.user + t.system;
};

/** A field of /proc/<pid>/status in bytes (VmRSS, VmHWM...). */
export const statusBytes = (pid, field) => {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
    readFileSync(`/proc/${pid}/status`, 'utf8'),
  );
  return m ? Number(m[1]) * 1024 : undefined;
};

export const HAS_TASKSET = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

const children = new Set();

/** Kills every child still running (SIGKILL: they must not outlive the bench). */
export const killAll = () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
};

/**
 * Spawns `node <nodeArgs> script <args>` pinned to `core` with the open-files limit raised as far
 * as allowed. stdin stays a pipe: the bench servers exit when it closes.
 */
export const spawnNode = (core, nodeArgs, script, args, { cwd, env } = {}) => {
  const quoted = [process.execPath, ...nodeArgs, script, ...args]
    .map(a => `'${String(a).replace(/'/g, `'\\''`)}'`)
    .join(' ');
  const shell = `ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec ${quoted}`;
  const argv = HAS_TASKSET
    ? ['taskset', '-c', String(core), 'bash', '-c', shell]
    : ['bash', '-c', shell];
  const child = spawn(argv[0], argv.slice(1), {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.stderrText = '';
  child.stderr.on('data', d => {
    if (child.stderrText.length < 20000) child.stderrText += d;
  });
  return child;
};

/** Resolves with the first JSON line the child prints that satisfies `test`, or rejects. */
export const waitForLine = (child, test, timeoutMs, what) =>
  new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(
      () =>
        done(
          new Error(
            `${what}: no answer within ${timeoutMs} ms. stderr: ${child.stderrText.slice(-2000)}`,
          ),
        ),
      timeoutMs,
    );
    const onData = d => {
      buffer += d;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let value;
        try {
          value = JSON.parse(line);
        } catch {
          continue;
        }
        if (test(value)) return done(undefined, value);
      }
    };
    const onExit = code =>
      done(
        new Error(
          `${what}: exited (${code}) before answering. stderr: ${child.stderrText.slice(-2000)}`,
        ),
      );
    const done = (err, value) => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(value);
    };
    child.stdout.on('data', onData);
    child.on('exit', onExit);
  });

/** Stops a child: closes its stdin, then SIGKILL if it is still there after `graceMs`. */
export const stop = async (child, graceMs = 1500) => {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise(resolve => child.once('exit', resolve));
  try {
    child.stdin.end();
    child.kill('SIGTERM');
  } catch {
    // gone
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
};

/** Busy and total jiffies of the whole machine (first line of /proc/stat). */
export const machineTicks = () => {
  const f = readFileSync('/proc/stat', 'utf8')
    .split('\n', 1)[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = f[3] + f[4];
  return { busy: total - idle, total };
};

/**
 * Waits until the machine has been nearly idle (< `threshold` of all cores busy) for 0.5 s, at most
 * `maxMs`: other work on a shared machine skews every figure. Resolves with the time waited.
 */
export const waitQuiet = async (maxMs, threshold = 0.08) => {
  const started = Date.now();
  for (;;) {
    const a = machineTicks();
    await new Promise(resolve => setTimeout(resolve, 500));
    const b = machineTicks();
    const busy = (b.busy - a.busy) / Math.max(1, b.total - a.total);
    if (busy < threshold || Date.now() - started >= maxMs) return Date.now() - started;
  }
};
