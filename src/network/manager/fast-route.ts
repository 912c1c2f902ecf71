/**
 * What the Manager's fast path routes by a line's routing members alone (see {@link scanRoutingFields}),
 * forwarding the line as the bytes it came in, and what it leaves to the full parse. The decisions are
 * the ones {@link classifyMessage} makes on the parsed message, for the kinds that are the Manager's
 * traffic: a Client's request to a Service, a Service's reply or notification.
 *
 * Internal to the Manager.
 * @module
 */
import {
  DISCONNECT_ATTRIBUTE,
  MANAGER_SERVICE,
  NOTIFICATION_UID,
  type NotificationMessage,
} from '../protocol/messages.js';
import type { RoutingFields } from './routing-fields.js';

/**
 * Whether a Client's line is a well-formed request to a Service that the Manager forwards with only a
 * `requester` spliced in: `service` (not the Manager), `attribute` (not a leave) and `uid` are strings,
 * `args` a list and `kwargs` an object, and there is no `result` (a reply) or `requester` of its own
 * (those, and every other case, take the full parse and its error texts).
 */
export function isForwardableRequest(fields: RoutingFields): boolean {
  return (
    fields.resultKind === undefined &&
    fields.serviceKind === 'string' &&
    fields.service !== MANAGER_SERVICE &&
    fields.attributeKind === 'string' &&
    fields.attribute !== DISCONNECT_ATTRIBUTE &&
    fields.uidKind === 'string' &&
    fields.argsKind === 'array' &&
    fields.kwargsKind === 'object' &&
    fields.requesterKind === undefined
  );
}

/** Whether a Service's line is a reply or a notification (it has a `result`), as classifyMessage says. */
export function isServiceAnswer(fields: RoutingFields): boolean {
  return fields.resultKind !== undefined;
}

/** Whether a Service's answer is a notification: `uid` "notification" and a string `service`. */
export function isNotification(fields: RoutingFields): boolean {
  return fields.uid === NOTIFICATION_UID && fields.serviceKind === 'string';
}

/** The notification the router sees: its `service` (the line itself is what is forwarded). */
export function notificationOf(fields: RoutingFields): NotificationMessage {
  return { error: false, result: [[], {}], service: fields.service as string, uid: NOTIFICATION_UID };
}
