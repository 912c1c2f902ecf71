// Runs the built `farcall` command as a real child process (tests build dist/ first: npm test does).
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `farcall <args>` to completion. */
export function runCli(args: string[], env: Record<string, string> = {}, input?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.stdin.end(input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A `farcall start` running in a child process. */
export interface RunningManager {
  child: ChildProcess;
  host: string;
  port: number;
  tls: boolean;
  line: string;
  stderr: () => string;
  /** Sends `signal` and resolves with the exit code (or the name of the signal that killed it). */
  stop(signal?: NodeJS.Signals): Promise<number | string | null>;
}

/** Starts `farcall start <args>` and waits for its "Network Manager running on" line. */
export function startCliManager(args: string[], env: Record<string, string> = {}): Promise<RunningManager> {
  const child = spawn(process.execPath, [CLI, 'start', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`farcall start did not report ready: ${stderr}`));
    }, 15_000);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      const m = line.match(/^Network Manager running on (.+):(\d+) \(TLS (ENABLED|DISABLED)\)$/);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        child,
        host: m[1],
        port: Number(m[2]),
        tls: m[3] === 'ENABLED',
        line,
        stderr: () => stderr,
        async stop(signal: NodeJS.Signals = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`farcall start exited with ${code}: ${stderr}`));
    });
  });
}
