// farcall/rpc: a child process's log records reach the parent as records (pyacq's log server).
// Run: node examples/rpc/child-logs.mjs   (after npm install)
import { ProcessSpawner } from 'farcall/rpc';

const child = await ProcessSpawner.spawn({
  name: 'daq',
  module: new URL('./workers/logging-worker.mjs', import.meta.url),
  // Each record: { level, time, pid, name, source, message, fields? }. Without onLog they are printed
  // on stderr as "[daq] info daq.loader: loading calibration {…}".
  onLog: (record) =>
    console.log(
      `${record.level} ${record.name}(${record.pid}) ${record.source}: ${record.message}`,
      record.fields ?? '',
    ),
});
try {
  console.log('scanned', await child.get('daq').scan(3));
} finally {
  await child.stop();
}
