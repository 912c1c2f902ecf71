// The module a ProcessSpawner child runs (see examples/rpc-spawner.mjs): setup() publishes the objects
// the parent may use, and returns what to do when the child is stopped.
class Sensor {
  #readings = 0;

  read() {
    this.#readings++;
    return 20 + Math.sin(this.#readings) / 10;
  }

  /** Calls `onSample` `count` times: the callback runs in the parent. */
  async stream(count, onSample) {
    for (let i = 0; i < count; i++) await onSample(this.read());
    return count;
  }

  whereAmI() {
    return `pid ${process.pid}`;
  }
}

export function setup(server, context) {
  server.set('sensor', new Sensor());
  console.log(`sensor ready (${context.name})`); // reaches the parent as "[sensor] sensor ready (sensor)"
  return () => console.log('sensor closed');
}
