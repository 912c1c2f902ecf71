// `farcall server32`: the subcommand, run as a program (the BUILT cli) against the real 32-bit runtime.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { server32Command } from '../../src/loadlib/cli.js';
import { findServer32Runtime, probeServer32Version } from '../../src/loadlib/runtime.js';
import { fixture } from './helpers.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the subcommand with `args`; `input` lines are written once `waitFor` appears on stdout. */
function runServer32(args: string[], input?: { waitFor: string; lines: string[] }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture('cli-driver.mjs'), ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (input !== undefined && !sent && stdout.includes(input.waitFor)) {
        sent = true;
        child.stdin.end(`${input.lines.join('\n')}\n`);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    if (input === undefined) child.stdin.end();
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`farcall server32 ${args.join(' ')} did not finish:\n${stdout}\n${stderr}`));
    }, 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('farcall server32', () => {
  it('is a commander subcommand named server32 with --version and --interactive', () => {
    const command = server32Command();
    expect(command.name()).toBe('server32');
    const flags = command.options.map((option) => option.long);
    expect(flags).toEqual(expect.arrayContaining(['--version', '--interactive', '--server32-dir']));
  });

  it("--version prints the 32-bit runtime's Node.js version, asked from the runtime itself", async () => {
    const expected = await probeServer32Version(findServer32Runtime());
    const run = await runServer32(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(expected.version);
  });

  it('without options, describes the runtime: version, architecture, folder', async () => {
    const run = await runServer32([]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Node\.js \d+\.\d+\.\d+ \(ia32\) in .+, with koffi \d/);
  });

  it('fails with the setup command when the runtime is missing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'farcall-no-runtime-'));
    try {
      const run = await runServer32(['--version', '--server32-dir', empty]);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/setup-server32\.sh/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('--interactive opens a 32-bit REPL with loadlib and koffi loaded', async () => {
    const run = await runServer32(['--interactive'], {
      waitFor: 'are loaded',
      lines: [
        "['arch=' + process.arch, 'server32=' + loadlib.Server32.version(), 'koffi=' + typeof koffi.load].join(' ')",
        '.exit',
      ],
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/arch=ia32 server32=18\.\d+\.\d+ koffi=function/);
  });
});

describe('the farcall command', () => {
  it('has the server32 subcommand: `farcall server32 --version` prints the 32-bit Node.js version', async () => {
    const main = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
    const expected = await probeServer32Version(findServer32Runtime());
    const output = await new Promise<Run>((resolve) => {
      const child = spawn(process.execPath, [main, 'server32', '--version'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
      });
      child.once('exit', (code) => resolve({ code, stdout, stderr }));
    });
    expect(output.code).toBe(0);
    expect(output.stdout.trim()).toBe(expected.version);
  });
});
