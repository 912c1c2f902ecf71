// The shared log: which NODE_DEBUG values turn which part on, what a logger option receives, and that a
// record stays one line whatever text it carries.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { checkLogger, PartLog, partLog } from '../../src/log/logger.js';
import { parseNodeDebug } from '../../src/log/node-debug.js';

/** A logger that keeps what it receives, by level. */
function recorder(): { logger: ConstructorParameters<typeof PartLog>[1] & object; records: string[] } {
  const records: string[] = [];
  const keep = (level: string) => (line: string) => records.push(`${level} ${line}`);
  return {
    logger: { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') },
    records,
  };
}

/** Which parts are on in a fresh process with this NODE_DEBUG (read once per process, as util.debuglog). */
function partsOnWith(nodeDebug: string): string[] {
  // The built module (npm test builds first): this Node.js cannot import .ts files itself.
  const moduleUrl = new URL('../../dist/log/node-debug.js', import.meta.url).href;
  const script =
    `const { nodeDebugEnabled } = await import(${JSON.stringify(moduleUrl)});` +
    `console.log(JSON.stringify(['rpc','loadlib','network','wire'].filter(nodeDebugEnabled)));`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, NODE_DEBUG: nodeDebug },
  });
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as string[];
}

describe('NODE_DEBUG', () => {
  it('farcall turns on every part; farcall:<part> one; other sections none', () => {
    expect(partsOnWith('farcall')).toEqual(['rpc', 'loadlib', 'network', 'wire']);
    expect(partsOnWith('farcall:rpc')).toEqual(['rpc']);
    expect(partsOnWith('net,FARCALL:LOADLIB http')).toEqual(['loadlib']);
    expect(partsOnWith('farcall:network,farcall:wire')).toEqual(['network', 'wire']);
    expect(partsOnWith('net,http')).toEqual([]);
    expect(partsOnWith('')).toEqual([]);
  });

  it('accepts wildcards as Node does', () => {
    expect(partsOnWith('farcall*')).toEqual(['rpc', 'loadlib', 'network', 'wire']);
    expect(partsOnWith('farcall:*')).toEqual(['rpc', 'loadlib', 'network', 'wire']);
    expect(partsOnWith('farcall:l*')).toEqual(['loadlib']);
  });

  it('splits on commas and spaces, ignoring case', () => {
    expect(parseNodeDebug(' Farcall:RPC,,net  tls ')).toEqual(['farcall:rpc', 'net', 'tls']);
  });
});

describe('PartLog', () => {
  it('sends each level to the logger, prefixed with its part', () => {
    const { logger, records } = recorder();
    const log = new PartLog('rpc', logger, false);
    expect(log.debugEnabled).toBe(true);
    log.debug('a');
    log.info('b');
    log.warn('c');
    log.error('d');
    expect(records).toEqual([
      'debug farcall:rpc a',
      'info farcall:rpc b',
      'warn farcall:rpc c',
      'error farcall:rpc d',
    ]);
  });

  it('is off without a logger and without NODE_DEBUG', () => {
    const log = new PartLog('wire', undefined, false);
    expect(log.debugEnabled).toBe(false);
    log.debug('nothing happens');
  });

  it('keeps a record on one line: control characters of a peer are escaped', () => {
    const { logger, records } = recorder();
    new PartLog('network', logger, false).debug('peer said "x\nFAKE LINE\r\u001b[31m"');
    expect(records).toEqual(['debug farcall:network peer said "x\\x0aFAKE LINE\\x0d\\x1b[31m"']);
  });

  it('a logger that throws is reported once as a warning, and the program goes on', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const log = new PartLog(
        'rpc',
        {
          debug: () => {
            throw new Error('disk full');
          },
          info: () => {},
          warn: () => {},
          error: () => {},
        },
        false,
      );
      log.debug('one');
      log.debug('two');
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toHaveLength(1);
      expect(warnings[0].message).toMatch(/logger passed to farcall \(farcall:rpc\) threw.*disk full/);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('partLog refuses a logger without the four methods, naming what is missing', () => {
    expect(() => partLog('rpc', { debug() {} } as never)).toThrow(/lacks info, warn, error/);
    expect(() => checkLogger(null)).toThrow(/must be an object with debug, info, warn and error methods/);
    expect(() => checkLogger(console)).not.toThrow();
  });
});
