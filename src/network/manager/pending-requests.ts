/**
 * The requests a Service was sent and has not answered yet, per Client and uid: a Service may only
 * answer those, and when it leaves each of them fails at once.
 * @module
 */
import type { ClientState, ServiceState } from './peer-state.js';

/** Notes that `service` was sent `client`'s request `uid` (a uid may be pending more than once). */
export function addPending(service: ServiceState, client: ClientState, uid: string): void {
  let uids = service.pending.get(client);
  if (uids === undefined) {
    uids = new Map();
    service.pending.set(client, uids);
    client.pendingAt.add(service);
  }
  uids.set(uid, (uids.get(uid) ?? 0) + 1);
}

/** Removes one pending request; false if there was none (the reply answers no request). */
export function takePending(service: ServiceState, client: ClientState, uid: string): boolean {
  const uids = service.pending.get(client);
  const count = uids?.get(uid);
  if (uids === undefined || count === undefined) return false;
  if (count > 1) uids.set(uid, count - 1);
  // The client's (empty) table stays until it or the service leaves: one request at a time then costs
  // no new Map and no Set update per round trip.
  else uids.delete(uid);
  return true;
}

/** Forgets the requests of a Client that left (their replies will be dropped). */
export function dropClientPending(client: ClientState): void {
  for (const service of client.pendingAt) service.pending.delete(client);
  client.pendingAt.clear();
}

/**
 * Takes every request pending on a Service that left, each as often as it is pending, client by
 * client in the order they first sent one (ever): the Manager fails each of them.
 */
export function takeAllPending(service: ServiceState): { client: ClientState; uid: string }[] {
  const taken: { client: ClientState; uid: string }[] = [];
  for (const [client, uids] of service.pending) {
    for (const [uid, count] of uids) for (let i = 0; i < count; i++) taken.push({ client, uid });
    client.pendingAt.delete(service);
  }
  service.pending.clear();
  return taken;
}
