/**
 * Which of a controller's own fields a method can reach through `this`: the method's source, and
 * (transitively) the sources of the methods and accessors it reaches through `this.m` or
 * `super.m`. The other fields (injected services the method never uses) travel as remote references,
 * fetched if touched after all: a method is neither slowed down nor refused for a service it does not
 * use. Any other use of `this` (passing it on, `this[key]`, destructuring it) reaches every field.
 */
const ALL = 'all' as const;
type Reach = Set<string> | typeof ALL;

const MEMBER = /\b(this|super)\s*(?:\?\.|\.)\s*(#?[A-Za-z_$][\w$]*)/g;

export function fieldsReached(self: object, method: Function): Reach {
  const names = new Set<string>();
  const seen = new Set<Function>();
  const todo: Function[] = [method];
  while (todo.length) {
    const fn = todo.pop()!;
    if (seen.has(fn)) continue;
    seen.add(fn);
    const src = Function.prototype.toString.call(fn);
    // Every `this` must be a member access `this.x` (or `this?.x`) for the analysis to hold.
    const thisCount = (src.match(/\bthis\b/g) ?? []).length;
    let memberCount = 0;
    for (const m of src.matchAll(MEMBER)) {
      if (m[1] === 'this') memberCount++;
      const name = m[2];
      names.add(name);
      for (const f of protoMembers(self, name, m[1] === 'super')) todo.push(f);
    }
    if (memberCount !== thisCount) return ALL;
    // Arrow functions and nested functions inside keep `this` lexically or rebind it: an inner
    // `function` could be called with any `this`, so its uses were counted above as well.
  }
  return names;
}

/** Methods and accessors named `name` on the prototype chain of `self`. */
function protoMembers(self: object, name: string, _viaSuper: boolean): Function[] {
  const out: Function[] = [];
  for (let p = Object.getPrototypeOf(self); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const d = Object.getOwnPropertyDescriptor(p, name);
    if (!d) continue;
    for (const f of [d.value, d.get, d.set]) if (typeof f === 'function') out.push(f);
  }
  return out;
}

/**
 * The objects to send as remote references for this call: the values of the fields the method does
 * not reach, unless a reached field holds the same object.
 */
export function unreachedFields(self: unknown, method: Function, cache: WeakMap<Function, Reach>): Set<object> | undefined {
  if (self === null || typeof self !== 'object') return undefined;
  let reach = cache.get(method);
  if (!reach) {
    reach = fieldsReached(self, method);
    cache.set(method, reach);
  }
  if (reach === ALL) return undefined;
  // What the method reaches through its services (`this.report.summary()` using `this.counter`)
  // travels inline: a service's own capture rules (nest-call.ts) apply to it only there.
  const keep = new Set<unknown>(reachedObjects(self, method));
  const out = new Set<object>();
  for (const k of Object.keys(self)) {
    const v = (self as Record<string, unknown>)[k];
    if (reach.has(k)) keep.add(v);
  }
  for (const k of Object.keys(self)) {
    const v = (self as Record<string, unknown>)[k];
    if (!reach.has(k) && v !== null && (typeof v === 'object' || typeof v === 'function') && !keep.has(v)) out.add(v as object);
  }
  return out.size ? out : undefined;
}

/**
 * What a controller method can run, followed through `this` chains into the services it uses:
 * `this.svc.list()` reaches `list` with `svc` as its `this`, and on from `list`'s own source. Per
 * receiver object, the member names its reached code names (`'all'` where `this` is used in any
 * other way); the values the code takes whole (`this.items` read, passed on, or used through a
 * method that is not the app's code), which may hold anything; and the reached functions.
 */
export interface MethodReach {
  receivers: Map<object, Set<string> | typeof ALL>;
  escaped: Set<object>;
  fns: Function[];
}

const CHAIN = /\b(this|super)((?:\s*(?:\?\.|\.)\s*#?[A-Za-z_$][\w$]*)+)/g;
const LINK = /(?:\?\.|\.)\s*(#?[A-Za-z_$][\w$]*)/g;
const isNative = (fn: Function) => /\{\s*\[native code\]\s*\}$/.test(Function.prototype.toString.call(fn));

export function methodReach(self: object, method: Function): MethodReach {
  const receivers = new Map<object, Set<string> | typeof ALL>();
  const escaped = new Set<object>();
  const fns: Function[] = [];
  const seen = new Map<object, Set<Function>>();
  const note = (recv: object, name: string) => {
    const r = receivers.get(recv) ?? new Set<string>();
    if (r !== ALL) r.add(name);
    receivers.set(recv, r);
  };
  const todo: Array<[object, Function]> = [[self, method]];
  if (method.name) note(self, method.name);
  while (todo.length) {
    const [recv, fn] = todo.pop()!;
    const done = seen.get(recv) ?? new Set<Function>();
    seen.set(recv, done);
    if (done.has(fn) || isNative(fn)) continue;
    done.add(fn);
    fns.push(fn);
    if (!receivers.has(recv)) receivers.set(recv, new Set());
    const src = Function.prototype.toString.call(fn);
    const thisCount = (src.match(/\bthis\b/g) ?? []).length;
    let chains = 0;
    for (const m of src.matchAll(CHAIN)) {
      if (m[1] === 'this') chains++;
      const names = [...m[2].matchAll(LINK)].map((l) => l[1]);
      let obj: object = recv;
      for (let i = 0; i < names.length; i++) {
        const name = names[i];
        note(obj, name);
        const members = protoMembers(obj, name, m[1] === 'super');
        if (members.length) {
          const app = members.filter((f) => !isNative(f));
          for (const f of app) todo.push([obj, f]);
          // A native method (Map.prototype.get) hands out what its object holds.
          if (app.length < members.length) escaped.add(obj);
          break;
        }
        const d = Object.getOwnPropertyDescriptor(obj, name);
        const v = d && 'value' in d ? (d.value as unknown) : undefined;
        if (v === null || (typeof v !== 'object' && typeof v !== 'function')) break;
        // A function held in a field (an arrow field closing over its instance): its code runs too.
        if (typeof v === 'function' && !isNative(v as Function)) todo.push([obj, v as Function]);
        // `this.svc.m`: on along the chain; the value taken whole where the chain ends.
        if (i === names.length - 1) escaped.add(v as object);
        else obj = v as object;
      }
    }
    if (chains !== thisCount) receivers.set(recv, ALL);
  }
  return { receivers, escaped, fns };
}

const reachedCache = new WeakMap<Function, { self: object; objects: Set<object> }>();

/** The receivers and whole-taken values of a method's reach (methodReach), kept per method and controller. */
function reachedObjects(self: object, method: Function): Set<object> {
  const c = reachedCache.get(method);
  if (c && c.self === self) return c.objects;
  const r = methodReach(self, method);
  const objects = new Set<object>([...r.receivers.keys(), ...r.escaped]);
  reachedCache.set(method, { self, objects });
  return objects;
}
