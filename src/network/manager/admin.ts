/**
 * The admin requests a Manager answers: an explicit allow-list of names, each mapped to a function.
 * The Python Manager walked any dotted path (`getattr` chain) from itself, which let an administrator
 * reach private state; here a name that is not in {@link ADMIN_REQUESTS} is refused, full stop.
 *
 * The dotted names are msl-network's (`users_table.usernames`, `hostnames_table.insert`, …) so Python
 * clients' `admin_request(...)` calls keep working. Password hashes are never returned.
 *
 * Internal to the Manager.
 * @module
 */
import { FarcallError } from '../../errors.js';
import { isPlainObject, type Kwargs, type ManagerIdentity, pythonRepr } from '../protocol/messages.js';
import type { ManagerDatabase } from './database.js';

/** What an admin request can reach. */
export interface AdminContext {
  database: ManagerDatabase;
  port: number;
  hostname: string;
  /** How the Manager authenticates peers (for the read-only `login` and `hostnames` requests). */
  authentication: 'none' | 'password' | 'login' | 'hostname';
  identity(): ManagerIdentity;
  /** Stops the Manager (after the current turn). */
  shutdown(): void;
}

/** The outcome of an admin request. */
export type AdminOutcome = { ok: true; result: unknown; shutdown?: boolean } | { ok: false; message: string };

interface Call {
  args: unknown[];
  kwargs: Kwargs;
  context: AdminContext;
}

type AdminHandler = (call: Call) => unknown;

class AdminArgumentError extends FarcallError {}

function argument(call: Call, index: number, name: string, required = true): unknown {
  if (call.args.length > index) return call.args[index];
  if (name in call.kwargs) return call.kwargs[name];
  if (required) throw new AdminArgumentError(`TypeError: missing required argument: ${pythonRepr(name)}`);
  return undefined;
}

function stringArgument(call: Call, index: number, name: string): string {
  const value = argument(call, index, name);
  if (typeof value !== 'string')
    throw new AdminArgumentError(`TypeError: ${pythonRepr(name)} must be a string`);
  return value;
}

function optionalBoolean(call: Call, index: number, name: string): boolean | undefined {
  const value = argument(call, index, name, false);
  if (value === undefined || value === null) return undefined;
  return Boolean(value);
}

function optionalDate(call: Call, name: string): Date | undefined {
  const value = call.kwargs[name];
  if (value === undefined || value === null) return undefined;
  const date = new Date(value as string);
  if (Number.isNaN(date.getTime()))
    throw new AdminArgumentError(`ValueError: ${pythonRepr(name)} is not a date`);
  return date;
}

/** The allow-list: every admin request name the Manager answers. */
export const ADMIN_REQUESTS: Readonly<Record<string, AdminHandler>> = Object.freeze({
  port: ({ context }) => context.port,
  hostname: ({ context }) => context.hostname,
  identities: ({ context }) => context.identity(),
  clients: ({ context }) => context.identity().clients,
  services: ({ context }) => context.identity().services,
  // Read-only views of how the Manager authenticates, as msl-network's attributes answer them: `login`
  // is true with --auth-login (else null), `hostnames` the trusted hostnames with --auth-hostname (else
  // null). The Manager's `password` stays refused: no request ever returns a secret.
  login: ({ context }) => (context.authentication === 'login' ? true : null),
  hostnames: ({ context }) =>
    context.authentication === 'hostname' ? context.database.listHostnames() : null,

  'users_table.usernames': ({ context }) => context.database.usernames(),
  'users_table.users': ({ context }) =>
    context.database.listUsers().map((user) => [user.username, user.isAdmin]),
  'users_table.is_user_registered': (call) =>
    call.context.database.hasUser(stringArgument(call, 0, 'username')),
  'users_table.is_admin': (call) => call.context.database.isAdmin(stringArgument(call, 0, 'username')),
  // An administrator may check a password (msl-network allows it; an admin can reset any password anyway).
  'users_table.is_password_valid': async (call) =>
    (await call.context.database.verifyUser(
      stringArgument(call, 0, 'username'),
      stringArgument(call, 1, 'password'),
    )) !== undefined,
  'users_table.insert': async (call) => {
    await call.context.database.addUser(
      stringArgument(call, 0, 'username'),
      stringArgument(call, 1, 'password'),
      {
        isAdmin: optionalBoolean(call, 2, 'is_admin') ?? false,
      },
    );
    return null;
  },
  'users_table.update': async (call) => {
    const password = argument(call, 1, 'password', false);
    if (password !== undefined && password !== null && typeof password !== 'string') {
      throw new AdminArgumentError("TypeError: 'password' must be a string");
    }
    await call.context.database.updateUser(stringArgument(call, 0, 'username'), {
      password: typeof password === 'string' ? password : undefined,
      isAdmin: optionalBoolean(call, 2, 'is_admin'),
    });
    return null;
  },
  'users_table.delete': (call) => {
    call.context.database.removeUser(stringArgument(call, 0, 'username'));
    return null;
  },

  'hostnames_table.hostnames': ({ context }) => context.database.listHostnames(),
  'hostnames_table.insert': (call) => {
    call.context.database.addHostname(stringArgument(call, 0, 'hostname'));
    return null;
  },
  'hostnames_table.delete': (call) => {
    call.context.database.removeHostname(stringArgument(call, 0, 'hostname'));
    return null;
  },

  'connections_table.connections': (call) => {
    const since = optionalDate(call, 'start');
    const until = optionalDate(call, 'end');
    return (
      call.context.database
        .connections({ since })
        .filter((row) => until === undefined || new Date(row.time) <= until)
        // msl-network's row: (pid, datetime, ip_address, domain, port, message).
        .map((row) => [row.id, row.time, row.ip, row.domain, row.port, row.event])
    );
  },
});

/** The Python class name the Python Manager would name in an AttributeError for a dotted prefix. */
const OWNER_NAMES: Record<string, string> = {
  users_table: 'UsersTable',
  hostnames_table: 'HostnamesTable',
  connections_table: 'ConnectionsTable',
};

/** The shutdown request's name. */
export const SHUTDOWN_REQUEST = 'shutdown_manager';

/**
 * Runs an admin request from the allow-list. Never throws: errors become `{ ok: false, message }` with
 * the Python-style `"ExceptionName: text"`.
 */
export async function runAdminRequest(
  attribute: string,
  args: unknown[],
  kwargs: Kwargs,
  context: AdminContext,
): Promise<AdminOutcome> {
  if (attribute === SHUTDOWN_REQUEST) return { ok: true, result: null, shutdown: true };
  const handler = Object.hasOwn(ADMIN_REQUESTS, attribute) ? ADMIN_REQUESTS[attribute] : undefined;
  if (handler === undefined) return { ok: false, message: unknownAttributeMessage(attribute) };
  try {
    const result = await handler({ args, kwargs: isPlainObject(kwargs) ? kwargs : {}, context });
    return { ok: true, result };
  } catch (error) {
    if (error instanceof AdminArgumentError) return { ok: false, message: error.message };
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `ValueError: ${message}` };
  }
}

function unknownAttributeMessage(attribute: string): string {
  const parts = attribute.split('.');
  const owner = parts.length > 1 ? OWNER_NAMES[parts[0]] : undefined;
  if (owner !== undefined)
    return `AttributeError: '${owner}' object has no attribute ${pythonRepr(parts[1])}`;
  return `AttributeError: 'Manager' object has no attribute ${pythonRepr(parts[0])}`;
}
