/**
 * Back-pressure from a Service to its Clients: a Service whose socket is full stops the reading of the
 * Clients that filled it until it drains, so a flood of requests costs those Clients time instead of
 * costing the Manager memory.
 * @module
 */
import type { ClientState, ServiceState } from './peer-state.js';

/**
 * Pauses `client` if the requests forwarded to `service` filled the Service's socket. (The writes of one
 * chunk of input go out together when it is done: the socket reports its need to drain after that write,
 * so the client is stopped at its next request, one chunk later at most.)
 */
export function throttle(client: ClientState, service: ServiceState): void {
  if (!service.peer.socket.writableNeedDrain || service.blocked.has(client)) return;
  client.peer.socket.pause();
  service.blocked.add(client);
  if (service.blocked.size === 1) service.peer.socket.once('drain', () => unblock(service));
}

/** Whether a Service's full socket keeps `client` paused. */
export function isBlocked(client: ClientState, services: Iterable<ServiceState>): boolean {
  for (const service of services) if (service.blocked.has(client)) return true;
  return false;
}

/** Resumes the Clients `service` held back (its socket drained, or it left). */
export function unblock(service: ServiceState): void {
  for (const client of service.blocked) if (!client.peer.closed) client.peer.socket.resume();
  service.blocked.clear();
}

/** Forgets a Client that left from every Service that held it back. */
export function dropBlocked(client: ClientState, services: Iterable<ServiceState>): void {
  for (const service of services) service.blocked.delete(client);
}
