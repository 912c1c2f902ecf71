import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const main = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

describe('farcall server32 --interactive', () => {
  it('has koffi and loadlib loaded before it reads piped input', async () => {
    const child = spawn(process.execPath, [main, 'server32', '--interactive'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.stdin.end("console.log('koffi:' + typeof koffi, 'loadlib:' + typeof loadlib.LoadLibrary)\n");
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(output).toContain('koffi:object loadlib:function');
    expect(output).not.toContain('ReferenceError');
    expect(code).toBe(0);
  });
});
