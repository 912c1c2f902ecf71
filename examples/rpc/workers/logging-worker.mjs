// The child of examples/rpc/child-logs.mjs: logs while it loads, in setup() and in its methods.
import { childLogger } from 'farcall/rpc';

const log = childLogger('daq.loader');
log.info('loading calibration', { file: 'cal.json' }); // before the parent's connection is up: arrives too

export function setup(server, context) {
  context.log.info('ready'); // source: the child's name
  const scanLog = childLogger('daq.scan');
  server.set('daq', {
    scan(count) {
      for (let i = 0; i < count; i++) scanLog.debug('sample', { i, value: 20 + i / 10 });
      if (count > 2) scanLog.warn('many samples', { count });
      return count;
    },
  });
}
