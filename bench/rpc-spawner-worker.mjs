// The module the ProcessSpawner benchmark starts in a child process: publishes `calc`.
export function setup(server) {
  server.set('calc', { add: (a, b) => a + b });
}
