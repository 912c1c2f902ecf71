/**
 * Link and lock bookkeeping: which Clients are linked with a Service (up to its `max_clients`), which
 * hold a shared or exclusive lock on it, and whether a Client may send it a request now. Every refusal
 * keeps msl-network's sentence first (its Clients and their users match on it), then what to do.
 * @module
 */
import { pythonRepr } from '../protocol/messages.js';
import type { ClientState, ServiceState } from './peer-state.js';

/** What a link or lock request answers: its result, or the error message to send. */
export type LinkOutcome = { ok: true; result: unknown } | { ok: false; message: string };

/**
 * Links `client` with `service` (the one named `name`, if connected). The result is the Service's
 * summary; `linked` is whether this request made a new link.
 */
export function link(
  client: ClientState,
  service: ServiceState | undefined,
  name: string,
): LinkOutcome & { linked?: true } {
  if (service === undefined) {
    const text = `the ${pythonRepr(name)} service does not exist, cannot link with ${client.networkName}`;
    return { ok: false, message: `KeyError: ${pythonRepr(text)}` };
  }
  if (service.links.has(client)) return { ok: true, result: service.summary };
  if (service.locks.size > 0)
    return { ok: false, message: `PermissionError: ${pythonRepr(name)} service is locked` };
  const max = service.summary.max_clients;
  if (max > 0 && service.links.size >= max) {
    return {
      ok: false,
      message:
        `PermissionError: The maximum number of Clients are already linked with ${pythonRepr(name)} ` +
        `(it accepts ${max}; try again when one unlinks)${linkedList(service.links)}`,
    };
  }
  service.links.add(client);
  client.links.add(service);
  return { ok: true, result: service.summary, linked: true };
}

/** Unlinks `client` from `service` (and drops its lock); nothing to do when either is not there. */
export function unlink(client: ClientState, service: ServiceState | undefined): void {
  if (service === undefined) return;
  service.links.delete(client);
  service.locks.delete(client);
  client.links.delete(service);
}

/** Gives `client` a shared or an exclusive lock on `service`; the result lists the linked Clients. */
export function acquireLock(
  client: ClientState,
  service: ServiceState | undefined,
  name: string,
  shared: boolean,
): LinkOutcome {
  if (service === undefined) {
    const text = `${pythonRepr(name)} service does not exist, ${client.networkName} cannot acquire a lock`;
    return { ok: false, message: `KeyError: ${pythonRepr(text)}` };
  }
  if (!service.links.has(client)) {
    return {
      ok: false,
      message:
        `PermissionError: ${client.networkName} cannot acquire a lock because it is not linked with the ` +
        `${pythonRepr(name)} service; link with it first (a 'link' request to the Manager)`,
    };
  }
  if (!shared && service.links.size > 1) {
    return {
      ok: false,
      message:
        `PermissionError: ${client.networkName} cannot acquire an exclusive lock, there are ${service.links.size} ` +
        `links with the ${pythonRepr(name)} service (ask for a shared lock, or wait until the others unlink)` +
        linkedList(service.links),
    };
  }
  if (shared && [...service.locks].some(([holder, kind]) => holder !== client && kind === 'exclusive')) {
    return { ok: false, message: `PermissionError: ${pythonRepr(name)} service is locked` };
  }
  service.locks.set(client, shared ? 'shared' : 'exclusive');
  return { ok: true, result: [...service.links].map((c) => c.networkName) };
}

/** Releases `client`'s lock on `service`; the result lists the Clients still holding one. */
export function releaseLock(
  client: ClientState,
  service: ServiceState | undefined,
  name: string,
): LinkOutcome {
  if (service === undefined) {
    const text = `${pythonRepr(name)} service does not exist, ${client.networkName} cannot release the lock`;
    return { ok: false, message: `KeyError: ${pythonRepr(text)}` };
  }
  service.locks.delete(client);
  return { ok: true, result: [...service.locks.keys()].map((holder) => holder.networkName) };
}

/** Why `client` may not send `service` a request now, or undefined if it may. */
export function accessRefusal(client: ClientState, service: ServiceState): string | undefined {
  if (service.locks.size > 0 && lockedAgainst(client, service)) {
    return `PermissionError: ${pythonRepr(service.name)} service is locked`;
  }
  if (!service.links.has(client)) {
    return (
      `PermissionError: ${client.networkName} is not linked with the ${pythonRepr(service.name)} service; ` +
      `link with it first (a 'link' request to the Manager)`
    );
  }
  return undefined;
}

/** Unlinks a Client that left from every Service (and drops its locks). */
export function dropClientLinks(client: ClientState): void {
  for (const service of client.links) {
    service.links.delete(client);
    service.locks.delete(client);
  }
  client.links.clear();
}

/** Unlinks every Client from a Service that left (and drops the locks on it). */
export function dropServiceLinks(service: ServiceState): void {
  for (const client of service.links) client.links.delete(service);
  service.links.clear();
  service.locks.clear();
}

// Whether the locks on `service` keep `client` out: an exclusive lock of another client, or any lock
// when `client` is not linked.
function lockedAgainst(client: ClientState, service: ServiceState): boolean {
  if (!service.links.has(client)) return true;
  for (const [holder, kind] of service.locks) if (holder !== client && kind === 'exclusive') return true;
  return false;
}

// msl-network's tail of a link/lock refusal: the linked Clients, one a line, sorted.
function linkedList(links: Iterable<ClientState>): string {
  return `\nThe linked Clients are:\n  ${[...links]
    .map((c) => c.networkName)
    .sort()
    .join('\n  ')}`;
}
