import type { RefKind } from '../protocol';

/** The server object behind a remote reference, fetched synchronously on first touch. */
export interface RemoteSource {
  fetch(id: number): object;
}

const remotes = new WeakMap<object, { id: number; kind: RefKind; real?: object }>();

export function remoteInfo(o: object): { id: number; kind: RefKind; real?: object } | undefined {
  return remotes.get(o);
}

/**
 * A Proxy of the right shape (array, function, plain object) standing for an object left on the
 * server. Every trap loads the real object first; methods of Map, Set and Date are bound to it,
 * since their internal slots do not pass through a Proxy.
 */
export function makeRemoteRef(id: number, kind: RefKind, source: RemoteSource): object {
  const info: { id: number; kind: RefKind; real?: object } = { id, kind };
  const load = (): object => (info.real ??= source.fetch(id));
  const target: object = kind === 'array' ? [] : kind === 'function' || kind === 'class' ? function () {} : {};
  const proxy: object = new Proxy(target, {
    get(_t, k) {
      const r = load();
      const v = Reflect.get(r, k, r);
      if (typeof v === 'function' && (r instanceof Map || r instanceof Set || r instanceof Date)) return v.bind(r);
      return v;
    },
    set: (_t, k, v) => Reflect.set(load(), k, v),
    has: (_t, k) => Reflect.has(load(), k),
    deleteProperty: (_t, k) => Reflect.deleteProperty(load(), k),
    ownKeys(t) {
      const keys = Reflect.ownKeys(load());
      // Proxy invariant: the target's own non-configurable keys must be listed.
      for (const k of Reflect.ownKeys(t)) {
        const d = Object.getOwnPropertyDescriptor(t, k);
        if (d && !d.configurable && !keys.includes(k)) keys.push(k);
      }
      return keys;
    },
    getOwnPropertyDescriptor(t, k) {
      const d = Reflect.getOwnPropertyDescriptor(load(), k);
      const td = Reflect.getOwnPropertyDescriptor(t, k);
      if (td && !td.configurable) return td.get || td.set ? td : { ...td, value: d && 'value' in d ? d.value : td.value };
      if (d) d.configurable = true;
      return d;
    },
    defineProperty: (_t, k, d) => Reflect.defineProperty(load(), k, d),
    getPrototypeOf: () => Reflect.getPrototypeOf(load()),
    setPrototypeOf: (_t, p) => Reflect.setPrototypeOf(load(), p),
    apply: (_t, self, args) => Reflect.apply(load() as Function, self, args),
    construct: (_t, args, nt): object => Reflect.construct(load() as Function, args, nt === proxy ? (load() as Function) : nt),
  });
  remotes.set(proxy, info);
  return proxy;
}
