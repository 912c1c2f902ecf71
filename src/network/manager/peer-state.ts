/**
 * What the Manager keeps about each registered peer: a Client's links and the Services holding its
 * requests; a Service's links, locks, pending requests and the Clients its full socket holds back.
 * @module
 */
import { lineSafe } from '../../log/line-safe.js';
import { type ClientSummary, pythonRepr, type ServiceSummary } from '../protocol/messages.js';
import type { PeerConnection } from './peer.js';

/** A registered Client. */
export interface ClientState {
  kind: 'client';
  peer: PeerConnection;
  networkName: string;
  /** `networkName` as the log shows it (control characters escaped). */
  logName: string;
  /**
   * What the Manager splices into each of this client's requests in place of its closing brace:
   * `, "requester": "<networkName>"}` and the line end (built once: the name never changes).
   */
  requesterTail: Buffer;
  summary: ClientSummary;
  links: Set<ServiceState>;
  /** Services this client sent requests to (each keeps a table of its unanswered ones, maybe empty). */
  pendingAt: Set<ServiceState>;
  /** Lines that arrived while an admin request of this client was running (kept in order). */
  deferred: Buffer[] | undefined;
  /** Bytes in `deferred`. */
  deferredBytes: number;
  /** Whether reading is paused because `deferred` is full. */
  deferredPaused: boolean;
}

/** A registered Service. */
export interface ServiceState {
  kind: 'service';
  peer: PeerConnection;
  name: string;
  /** `name` as the log shows it: Python's repr, control characters escaped. */
  logName: string;
  summary: ServiceSummary;
  /** Linked clients, in the order they linked. */
  links: Set<ClientState>;
  locks: Map<ClientState, 'shared' | 'exclusive'>;
  /** Requests sent and not yet answered: client → uid → how many (a client's table may be empty). */
  pending: Map<ClientState, Map<string, number>>;
  /** Clients whose reading is paused until this service's socket drains. */
  blocked: Set<ClientState>;
}

/** A registered peer. */
export type PeerState = ClientState | ServiceState;

/** A new Client's state: no links, nothing pending. */
export function newClientState(peer: PeerConnection, summary: ClientSummary): ClientState {
  return {
    kind: 'client',
    peer,
    networkName: peer.networkName,
    logName: lineSafe(peer.networkName),
    requesterTail: Buffer.from(`, "requester": ${JSON.stringify(peer.networkName)}}\r\n`),
    summary,
    links: new Set(),
    pendingAt: new Set(),
    deferred: undefined,
    deferredBytes: 0,
    deferredPaused: false,
  };
}

/** A new Service's state: no links, no locks, nothing pending. */
export function newServiceState(peer: PeerConnection, name: string, summary: ServiceSummary): ServiceState {
  return {
    kind: 'service',
    peer,
    name,
    logName: lineSafe(pythonRepr(name)),
    summary,
    links: new Set(),
    locks: new Map(),
    pending: new Map(),
    blocked: new Set(),
  };
}

/** The `requester` of what the Manager sends a peer on its own behalf: the Client's or Service's name. */
export function requesterOf(state: PeerState): string {
  return state.kind === 'client' ? state.networkName : state.name;
}
