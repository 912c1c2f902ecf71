/**
 * How a TypeScript call carries Python's keyword arguments and per-call options.
 *
 * msl-network requests have `args` (a list) and `kwargs` (a mapping). A JavaScript function has only
 * positional arguments, so farcall marks the object that holds keyword arguments: on the client side you
 * wrap it with {@link kwargs}; on the service side a method receives it as its last argument (only when
 * the request had keyword arguments) and {@link splitKwargs} takes it apart again. A plain object passed
 * as the last argument stays a positional argument, so a dictionary argument is never mistaken for
 * keyword arguments.
 *
 * @example
 * ```ts
 * // client: echo(1, 'two', x=3.5) in Python
 * await link.echo(1, 'two', kwargs({ x: 3.5 }), callOptions({ timeout: 5000 }));
 *
 * // service
 * class Echo extends Service {
 *   echo(...all: unknown[]) {
 *     const [args, kw] = splitKwargs(all);
 *     return [args, kw];
 *   }
 * }
 * ```
 * @module
 */

const KWARGS_BRAND: unique symbol = Symbol('farcall.network.kwargs');

/** Keyword arguments of a request: a plain object branded by {@link kwargs}. */
export type Kwargs<T extends Record<string, unknown> = Record<string, unknown>> = T & {
  readonly [KWARGS_BRAND]: true;
};

/**
 * Marks `values` as the keyword arguments of a request (Python's `**kwargs`).
 * @example
 * ```ts
 * await link.configure('dmm', kwargs({ range: 10, autozero: true }));
 * ```
 */
export function kwargs<T extends Record<string, unknown>>(values: T): Kwargs<T> {
  const copy = { ...values };
  // Non-enumerable, so JSON serialisation and Object.keys never see the brand.
  Object.defineProperty(copy, KWARGS_BRAND, { value: true, enumerable: false });
  return copy as Kwargs<T>;
}

/** Whether `value` was made by {@link kwargs} (or by a Service for an incoming request). */
export function isKwargs(value: unknown): value is Kwargs {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[KWARGS_BRAND] === true
  );
}

/**
 * Splits a Service method's arguments into the positional ones and the keyword arguments (`{}` when the
 * request had none).
 * @example
 * ```ts
 * ping(...all: unknown[]) { const [[n = 1], { verbose }] = splitKwargs(all); … }
 * ```
 */
export function splitKwargs(args: readonly unknown[]): [unknown[], Record<string, unknown>] {
  const last = args[args.length - 1];
  if (args.length > 0 && isKwargs(last)) return [args.slice(0, -1), { ...last }];
  return [[...args], {}];
}

/** Options of one request. */
export interface CallOptionsInit {
  /** Milliseconds to wait for the reply before rejecting with `ResponseTimeoutError`. */
  timeout?: number | undefined;
  /** Cancels the wait (the request itself has already been sent). */
  signal?: AbortSignal | undefined;
}

/** Per-call options, made by {@link callOptions}; recognised as the last argument of a call. */
export class CallOptions implements CallOptionsInit {
  readonly timeout: number | undefined;
  readonly signal: AbortSignal | undefined;

  constructor(init: CallOptionsInit) {
    this.timeout = init.timeout;
    this.signal = init.signal;
  }
}

/**
 * Options for one call, passed as its last argument.
 * @example
 * ```ts
 * await link.slowScan(100, callOptions({ timeout: 120_000 }));
 * ```
 */
export function callOptions(init: CallOptionsInit): CallOptions {
  return new CallOptions(init);
}

/** Something a caller may put after the positional arguments of a remote call. */
export type CallExtra = Kwargs | CallOptions;

/** The parts of a call: positional args, keyword args and options. */
export interface SplitCall {
  args: unknown[];
  kwargs: Record<string, unknown>;
  options: CallOptionsInit;
}

/**
 * Takes trailing {@link CallOptions} and {@link kwargs} (in either order) off a call's arguments.
 * @internal
 */
export function splitCallArguments(all: readonly unknown[]): SplitCall {
  let end = all.length;
  let kw: Record<string, unknown> = {};
  let options: CallOptionsInit = {};
  for (let i = 0; i < 2 && end > 0; i++) {
    const last = all[end - 1];
    if (last instanceof CallOptions) {
      options = last;
      end--;
    } else if (isKwargs(last)) {
      kw = { ...last };
      end--;
    } else break;
  }
  return { args: end === all.length ? (all as unknown[]) : all.slice(0, end), kwargs: kw, options };
}

/**
 * Builds the argument list a Service method is called with: the positional arguments, then the branded
 * keyword arguments if there are any.
 * @internal
 */
export function serviceCallArguments(args: unknown[], kw: Record<string, unknown> | undefined): unknown[] {
  if (kw === undefined || kw === null || typeof kw !== 'object') return args;
  for (const _ in kw) return [...args, kwargs(kw)];
  return args;
}
