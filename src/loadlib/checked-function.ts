/**
 * Native functions that say which argument is wrong. koffi's own errors name neither the function nor
 * the argument (`Unexpected String value, expected number`), and it ignores extra arguments; a checked
 * function refuses extra arguments and rethrows koffi's TypeError as
 * `add(int a, int b): argument 1 (a: int) cannot take 'x' (a string): Unexpected String value, expected number`.
 *
 * This module also runs inside the 32-bit server, on Debian's i386 Node 18: Node 18 APIs only.
 * @module
 */
import type * as koffi from 'koffi';

/** A koffi function object (what `lib.func()` returns). */
type NativeFunction = ReturnType<koffi.LibraryHandle['func']>;

/** What koffi tells about a declared function (`fn.info`). */
interface FunctionInfo {
  name: string;
  arguments: { type: { name: string; primitive?: string }; direction: string }[];
  result: { name: string };
}

const NUMERIC = /^(U?Int(8|16|32|64)(LE|BE)?|Float32|Float64)$/;
const STRING = /^String(16|32)?$/;

/**
 * Wraps `fn` (declared as `declaration`: a C prototype, or the name of a classic declaration) so that
 * extra arguments are refused and a wrong argument is named. `fn.async` is checked the same way; `info`
 * is kept.
 */
export function checkedFunction(fn: NativeFunction, declaration: string, variadic: boolean): NativeFunction {
  const info = (fn as unknown as { info?: FunctionInfo }).info;
  if (info === undefined) return fn;
  const signature = describeSignature(info, declaration);
  const expected = info.arguments.length;
  const check = (args: readonly unknown[]): void => {
    if (!variadic && args.length > expected) {
      throw new TypeError(
        `${signature} takes ${expected} argument${expected === 1 ? '' : 's'}, got ${args.length}: ` +
          'remove the extra ones (koffi would silently ignore them).',
      );
    }
  };
  const explain = (error: unknown, args: readonly unknown[]): unknown =>
    error instanceof TypeError ? argumentError(error, signature, info, args) : error;
  const checked = function (this: unknown, ...args: unknown[]): unknown {
    check(args);
    try {
      return fn(...args);
    } catch (error) {
      throw explain(error, args);
    }
  };
  const nativeAsync = (fn as unknown as { async: (...args: unknown[]) => void }).async;
  Object.defineProperties(checked, {
    name: { value: info.name },
    info: { value: info, enumerable: true },
    async: {
      enumerable: true,
      value: (...argsAndCallback: unknown[]): void => {
        const args = argsAndCallback.slice(0, -1);
        check(args);
        try {
          nativeAsync(...argsAndCallback);
        } catch (error) {
          throw explain(error, args);
        }
      },
    },
  });
  return checked as unknown as NativeFunction;
}

/** `int add(int a, int b)`: the prototype as declared, else built from koffi's types. */
function describeSignature(info: FunctionInfo, declaration: string): string {
  if (declaration.includes('(')) return declaration.replace(/\s+/g, ' ').trim();
  return `${info.result.name} ${info.name}(${info.arguments.map((a) => a.type.name).join(', ')})`;
}

/** The names of the parameters in a C prototype (undefined for one without a name). */
function parameterNames(signature: string, count: number): (string | undefined)[] {
  const inside = /\((.*)\)\s*;?\s*$/.exec(signature)?.[1];
  const params = inside === undefined ? [] : inside.split(',').map((p) => p.trim());
  if (params.length !== count) return Array.from({ length: count }, () => undefined);
  return params.map((param) => {
    const words = param.replace(/\*/g, ' * ').trim().split(/\s+/);
    const last = words[words.length - 1];
    return words.length >= 2 && last !== '*' && /^[A-Za-z_]\w*$/.test(last) ? last : undefined;
  });
}

/** Whether a value of this JS kind can be what koffi's primitive `primitive` takes, when we can tell. */
function mayTake(primitive: string | undefined, value: unknown): boolean {
  if (primitive === undefined) return true;
  if (NUMERIC.test(primitive)) return typeof value === 'number' || typeof value === 'bigint';
  if (primitive === 'Bool') return typeof value === 'boolean';
  if (STRING.test(primitive)) return typeof value === 'string' || value === null || ArrayBuffer.isView(value);
  return true;
}

function argumentError(
  error: TypeError,
  signature: string,
  info: FunctionInfo,
  args: readonly unknown[],
): TypeError {
  // koffi: "Unexpected String value, expected number"
  const unexpected = /Unexpected (\w+) value/.exec(error.message)?.[1];
  let position = info.arguments.findIndex(
    (arg, i) => i < args.length && !mayTake(arg.type.primitive, args[i]),
  );
  if (position < 0 && unexpected !== undefined)
    position = args.findIndex((arg) => kindName(arg) === unexpected);
  if (position < 0 || position >= info.arguments.length) {
    return new TypeError(`${signature}: ${error.message}`, { cause: error });
  }
  const name = parameterNames(signature, info.arguments.length)[position];
  const type = info.arguments[position].type.name;
  return new TypeError(
    `${signature}: argument ${position + 1} (${name === undefined ? '' : `${name}: `}${type}) cannot take ` +
      `${preview(args[position])}: ${error.message}`,
    { cause: error },
  );
}

/** The name koffi gives a JS value's kind in its messages. */
function kindName(value: unknown): string {
  if (value === null) return 'Null';
  if (Array.isArray(value)) return 'Array';
  const type = typeof value;
  return type === 'bigint' ? 'BigInt' : type.charAt(0).toUpperCase() + type.slice(1);
}

function preview(value: unknown): string {
  if (typeof value === 'string')
    return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}' (a string)`;
  if (typeof value === 'bigint') return `${value}n (a bigint)`;
  if (value === null || value === undefined || typeof value !== 'object')
    return `${String(value)} (a ${typeof value})`;
  return `a ${value.constructor?.name ?? 'object'}`;
}
