// expose(obj, names) against every option set (after test/rpc/security-matrix.test.ts): option set × member
// kind × operation, over a real socket. A view's list decides what is reachable; the policy decides only
// whether listed members may be written.
import { describe, expect, test } from 'vitest';
import { AccessDeniedError } from '../../src/errors.js';
import { expose } from '../../src/rpc/exposure.js';
import type { AccessPolicyOptions } from '../../src/rpc/policy.js';
import { deleteAttr, setAttr, type UntypedRemote } from '../../src/rpc/proxy.js';
import { serverAndClient } from './helpers.js';

class Thing {
  field = 1;
  _private = 2;
  other = 3;
  get getter(): number {
    return 4;
  }
  get hiddenGetter(): number {
    return 5;
  }
  method(): string {
    return 'method';
  }
  _privateMethod(): string {
    return 'private';
  }
  otherMethod(): string {
    return 'other';
  }
}

const LISTED = ['field', '_private', 'getter', 'method', '_privateMethod', 'toString'];

type Kind =
  | 'listed method'
  | 'listed _method'
  | 'listed field'
  | 'listed _field'
  | 'listed getter'
  | 'listed inherited'
  | 'unlisted method'
  | 'unlisted field'
  | 'unlisted getter'
  | '__proto__'
  | 'constructor';
const NAMES: Record<Kind, string> = {
  'listed method': 'method',
  'listed _method': '_privateMethod',
  'listed field': 'field',
  'listed _field': '_private',
  'listed getter': 'getter',
  'listed inherited': 'toString',
  'unlisted method': 'otherMethod',
  'unlisted field': 'other',
  'unlisted getter': 'hiddenGetter',
  __proto__: '__proto__',
  constructor: 'constructor',
};
type Operation = 'get' | 'call' | 'set' | 'delete';
type Outcome = 'ok' | 'denied' | 'error';

const OPTION_SETS: Record<string, AccessPolicyOptions> = {
  default: {},
  allowPublicAttrs: { allowPublicAttrs: true },
  'allowSetAttr+allowDelAttr': { allowSetAttr: true, allowDelAttr: true },
  allowAll: { allowAll: true },
  everything: {
    allowAll: true,
    allowPublicAttrs: true,
    allowSetAttr: true,
    allowDelAttr: true,
    allowBuiltinMethods: true,
  },
  exposedPrefix: { exposedPrefix: 'exposed_' },
};

/** What the rules say: the list decides reach, the policy only writes. */
function expected(options: AccessPolicyOptions, kind: Kind, operation: Operation): Outcome {
  if (!kind.startsWith('listed') || kind === 'listed inherited') return 'denied';
  const isMethod = kind === 'listed method' || kind === 'listed _method';
  const isField = kind === 'listed field' || kind === 'listed _field';
  if (operation === 'get') return 'ok';
  if (operation === 'call') return isMethod ? 'ok' : 'error'; // not a function
  const allowed =
    options.allowAll === true || (operation === 'set' ? options.allowSetAttr : options.allowDelAttr);
  if (!allowed) return 'denied';
  if (operation === 'set') return kind === 'listed getter' ? 'error' : 'ok'; // a getter without setter
  return isField ? 'ok' : 'error'; // only own members are deleted
}

const viewOfThing = () => expose(new Thing(), LISTED as (keyof Thing)[]);

async function attempt(view: UntypedRemote, name: string, operation: Operation): Promise<Outcome> {
  try {
    if (operation === 'get') await (view[name] as PromiseLike<unknown>);
    else if (operation === 'call') await (view[name] as () => PromiseLike<unknown>)();
    else if (operation === 'set') await setAttr(view, name, 9);
    else await deleteAttr(view, name);
    return 'ok';
  } catch (error) {
    return error instanceof AccessDeniedError ? 'denied' : 'error';
  }
}

describe('expose() matrix: option set × member kind × operation', () => {
  for (const [label, options] of Object.entries(OPTION_SETS)) {
    test(`under ${label}`, async () => {
      const { client } = await serverAndClient(
        // exposed_make: the factory itself is under the policy (and its exposedPrefix); its views are not.
        { factory: { make: viewOfThing, exposed_make: viewOfThing } },
        { policy: options },
      );
      const factory = client.get('factory') as UntypedRemote;
      const rows: string[] = [];
      const wanted: string[] = [];
      for (const kind of Object.keys(NAMES) as Kind[]) {
        for (const operation of ['get', 'call', 'set', 'delete'] as Operation[]) {
          const view = (await factory.make()) as UntypedRemote; // a fresh object per row
          rows.push(`${kind} ${operation}: ${await attempt(view, NAMES[kind], operation)}`);
          wanted.push(`${kind} ${operation}: ${expected(options, kind, operation)}`);
        }
      }
      expect(rows).toEqual(wanted);
    });
  }
});
