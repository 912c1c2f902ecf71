// farcall/rpc: a class of error thrown remotely arrives as that class, with its own fields.
// Run: node examples/rpc/errors.mjs   (after npm install)
// For brevity the server and the client run in one process here.
import { RemoteError } from 'farcall';
import { RPCClient, RPCServer, registerError } from 'farcall/rpc';

class ScanError extends Error {
  code = 'E_SCAN';
  constructor(message, channel) {
    super(message);
    this.channel = channel;
  }
}
class CalibrationError extends Error {}

const server = await RPCServer.listen();
server.set('scanner', {
  start(channel) {
    throw new ScanError(`channel ${channel} is not connected`, channel);
  },
  calibrate() {
    throw new CalibrationError('no calibration file');
  },
});
const client = await RPCClient.connect(server.address);
registerError(ScanError); // the caller chooses which classes a peer's errors may be rebuilt as
try {
  const scanner = client.get('scanner');
  try {
    await scanner.start(7);
  } catch (error) {
    console.log(error instanceof ScanError, error.message, error.code, error.channel);
  }
  try {
    await scanner.calibrate();
  } catch (error) {
    // Not registered: a RemoteError that names the class and carries its fields.
    console.log(error instanceof RemoteError, error.remoteName, error.message);
  }
} finally {
  await client.close();
  await server.close();
}
