import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Runs a command in `cwd` in its own process group, output to the console and `log`; resolves its
 * exit `{ code, timedOut, hung }`. `timeout` (seconds) kills the group; with `doneFile`, a process
 * still running 15 s after that file appeared (Jest kept alive by open handles once its results
 * are written) is killed and reported as `hung`. Used by the NestJS and Node.js version matrices.
 */
export const runCommand = (command, commandArgs, { cwd, env, log, timeout, doneFile }) =>
  new Promise(resolve => {
    const child = spawn(command, commandArgs, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdout.on('data', chunk => (process.stdout.write(chunk), log.write(chunk)));
    child.stderr.on('data', chunk => (process.stderr.write(chunk), log.write(chunk)));
    const killGroup = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    let timedOut = false;
    let hung = false;
    const timer = timeout
      ? setTimeout(() => {
          timedOut = true;
          killGroup();
        }, timeout * 1000)
      : undefined;
    let doneSince;
    const watch = doneFile
      ? setInterval(() => {
          if (!existsSync(doneFile)) return;
          doneSince ??= Date.now();
          if (Date.now() - doneSince > 15_000) {
            hung = true;
            killGroup();
          }
        }, 1000)
      : undefined;
    child.on('error', error => log.write(`${error.stack}\n`));
    child.on('close', code => {
      clearTimeout(timer);
      clearInterval(watch);
      resolve({ code, timedOut, hung });
    });
  });
