// farcall/rpc: `new` on a remote class constructs the instance where the class lives.
// Run: node examples/rpc/construct.mjs   (after npm install)
// For brevity the server and the client run in one process here.
import { constructible, RPCClient, RPCServer } from 'farcall/rpc';

class Point {
  constructor(x, y) {
    this.x = x;
    this.y = y;
  }
  norm() {
    return Math.hypot(this.x, this.y);
  }
}
class Channel {
  constructor(index) {
    this.index = index;
  }
  describe() {
    return `channel ${this.index}`;
  }
}

const server = await RPCServer.listen();
server.set('Point', Point); // a class published under a name is constructible
server.set('lab', { Channel: constructible(Channel) }); // reached through a member: mark it constructible()
const client = await RPCClient.connect(server.address);
try {
  const RemotePoint = client.get('Point');
  const point = await new RemotePoint(3, 4); // a proxy of the new instance
  console.log('norm', await point.norm());
  const channel = await new (client.get('lab').Channel)(2);
  console.log(await channel.describe());
} finally {
  await client.close();
  await server.close();
}
