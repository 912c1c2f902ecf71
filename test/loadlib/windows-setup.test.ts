// `farcall server32 setup`: one command that installs the 32-bit runtime on Linux, for Wine, and on
// Windows. The Linux and Wine set-ups run for real (they are idempotent: with everything in place they
// change nothing); the Windows plan is checked as the command it runs.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { farcallKoffiVersion } from '../../src/loadlib/runtime.js';
import { setupPlan } from '../../src/loadlib/setup-command.js';
import { fixture } from './helpers.js';

function runCli(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture('cli-driver.mjs'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`farcall server32 ${args.join(' ')} did not finish:\n${output}`));
    }, 120_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('farcall server32 setup', () => {
  it('Linux: runs setup-server32.sh; --wine runs setup-wine.sh with its flags', () => {
    expect(setupPlan({}, 'linux').args[0]).toMatch(/scripts\/setup-server32\.sh$/);
    const wine = setupPlan({ wine: true, dir: '/opt/w', client64: true, mingw: true }, 'linux');
    expect(wine.command).toBe('bash');
    expect(wine.args.slice(1)).toEqual(['--dir', '/opt/w', '--client64', '--mingw']);
    expect(wine.args[0]).toMatch(/scripts\/setup-wine\.sh$/);
  });

  it("Windows: npm installs node-win-x86 22 and koffi's win32-ia32 build of farcall's koffi into the runtime folder", () => {
    const plan = setupPlan({ dir: '/tmp/x' }, 'win32');
    expect(plan.command).toBe('npm');
    expect(plan.shell).toBe(true);
    expect(plan.args).toEqual([
      'install',
      '--prefix',
      '"/tmp/x"',
      '--force',
      '--no-audit',
      '--no-fund',
      'node-win-x86@22',
      `@koromix/koffi-win32-ia32@${farcallKoffiVersion()}`,
    ]);
    expect(() => setupPlan({ wine: true }, 'win32')).toThrow('--wine sets Wine up on Linux');
    expect(() => setupPlan({}, 'darwin')).toThrow('farcall server32 setup knows Linux and Windows');
  });

  it('setup --wine, run again on a machine that has it, changes nothing and says the runtime is ready', async () => {
    const { code, output } = await runCli(['setup', '--wine']);
    expect(code, output).toBe(0);
    expect(output).toContain('already installed: wine wine32:i386 wine64');
    expect(output).toMatch(/Wine runtime ready in .*: Windows Node\.js 22\.\d+\.\d+ \(ia32\) with koffi/);
  }, 150_000);

  it('setup (Linux) runs the i386 set-up, which finds everything in place', async () => {
    const { code, output } = await runCli(['setup']);
    expect(code, output).toBe(0);
    expect(output).toMatch(/32-bit runtime ready in .*: Node\.js v18\.\d+\.\d+ \(ia32\)/);
  }, 150_000);
});
