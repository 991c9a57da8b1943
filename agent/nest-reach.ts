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
  const keep = new Set<unknown>();
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

/** The member names (fields, methods, accessors, `super` ones) the method can reach through `this`. */
export function membersReached(self: object, method: Function, cache: WeakMap<Function, Reach>): Reach {
  let reach = cache.get(method);
  if (!reach) {
    reach = fieldsReached(self, method);
    cache.set(method, reach);
  }
  return reach;
}
