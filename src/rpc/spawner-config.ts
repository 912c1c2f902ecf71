/**
 * What a {@link ProcessSpawner} tells its child: the settings travel as JSON in one environment variable,
 * which the child removes before it imports the user's module.
 * @module
 */
import type { ChildLogger } from './child-log.js';
import type { AccessPolicyOptions } from './policy.js';

/** The settings of a spawned child. */
export interface SpawnerChildConfig {
  name: string;
  module: string;
  address?: string;
  policy?: AccessPolicyOptions;
  authKey?: string;
  importable?: readonly string[];
  maxFrameBytes?: number;
  callTimeout?: number;
  args: readonly string[];
  /** The fd of the log pipe (see child-log.ts). */
  logFd?: number;
}

/** The environment variable that carries the child's {@link SpawnerChildConfig}. */
export const SPAWNER_CONFIG_VARIABLE = 'FARCALL_SPAWNER_CONFIG';

/** What `setup(server, context)` receives besides the server. */
export interface SpawnerContext {
  /** The name the parent gave this child. */
  name: string;
  /** The `args` the parent passed. */
  args: readonly string[];
  /** A logger whose records reach the parent's `onLog` (`childLogger()` with the child's name as source). */
  log: ChildLogger;
}
