import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { commandPath, HELP_EXAMPLES } from '../../src/cli/help-examples.js';
import { createProgram } from '../../src/cli/program.js';

const root = join(import.meta.dirname, '..', '..');
const main = join(root, 'dist', 'cli', 'main.js');
const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

function farcall(args: string[], home?: string) {
  const env = { ...process.env, ...(home ? { FARCALL_HOME: home } : {}) };
  return spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env, timeout: 60_000 });
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

describe('the farcall program', () => {
  it('prints its version', () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const result = farcall(['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });

  it('has an example in the help of every command', () => {
    for (const command of allCommands(createProgram())) {
      expect(HELP_EXAMPLES[commandPath(command)], `farcall ${commandPath(command)}`).toBeDefined();
    }
    const help = farcall(['user', 'add', '--help']);
    expect(help.stdout).toContain('Example:\n  $ farcall user add alice');
  });

  it('prefixes every error with "farcall: error:", usage errors included', () => {
    for (const args of [['--bogus'], ['user', 'add'], ['certdump', '/no/such/file.crt']]) {
      const home = mkdtempSync(join(tmpdir(), 'farcall-cli-'));
      homes.push(home);
      const result = farcall(args, home);
      expect(result.status, args.join(' ')).not.toBe(0);
      expect(result.stderr, args.join(' ')).toMatch(/^farcall: error: /);
    }
  });

  it('keygen refuses to overwrite a key without --force', () => {
    const home = mkdtempSync(join(tmpdir(), 'farcall-cli-'));
    homes.push(home);
    expect(farcall(['keygen', '--size', '1024'], home).status).toBe(0);
    const [keyFile] = readdirSync(join(home, 'keys'));
    const key = readFileSync(join(home, 'keys', keyFile), 'utf8');

    const again = farcall(['keygen', '--size', '1024'], home);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('already exists');
    expect(again.stderr).toContain('--force');
    expect(readFileSync(join(home, 'keys', keyFile), 'utf8')).toBe(key);

    expect(farcall(['keygen', '--size', '1024', '--force'], home).status).toBe(0);
    expect(readFileSync(join(home, 'keys', keyFile), 'utf8')).not.toBe(key);
  });
});
