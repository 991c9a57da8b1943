/**
 * The server's export table (DESIGN.md §4 "Memory"): every object shipped to a worker gets a stable
 * id (a WeakMap, so identity outlives no object), and is held strongly only while some invocation
 * holds a lease on it. An invocation may reach exactly the objects leased to it: that is the
 * channel's authorisation rule, and ending the invocation releases them.
 */
export class ExportTable {
  private readonly ids = new WeakMap<object, number>();
  private readonly entries = new Map<number, { obj: object; leases: number }>();
  private nextId = 1;

  idOf(obj: object): number {
    let id = this.ids.get(obj);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(obj, id);
    }
    return id;
  }

  /** Existing id or undefined: never assigns. */
  peekId(obj: object): number | undefined {
    return this.ids.get(obj);
  }

  lease(): Lease {
    return new Lease(this);
  }

  /** @internal */
  hold(id: number, obj: object): void {
    const e = this.entries.get(id);
    if (e) e.leases++;
    else this.entries.set(id, { obj, leases: 1 });
  }

  /** @internal */
  drop(id: number): void {
    const e = this.entries.get(id);
    if (!e) return;
    if (--e.leases <= 0) this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The objects one invocation may reach. */
export class Lease {
  private readonly held = new Map<number, object>();
  private released = false;
  constructor(private readonly table: ExportTable) {}

  /** Adds `obj` to what the invocation may reach and returns its id. */
  grant(obj: object): number {
    const id = this.table.idOf(obj);
    if (!this.released && !this.held.has(id)) {
      this.held.set(id, obj);
      this.table.hold(id, obj);
    }
    return id;
  }

  get(id: number): object | undefined {
    return this.held.get(id);
  }

  has(id: number): boolean {
    return this.held.has(id);
  }

  get size(): number {
    return this.held.size;
  }

  entries(): IterableIterator<[number, object]> {
    return this.held.entries();
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    for (const id of this.held.keys()) this.table.drop(id);
    this.held.clear();
  }
}
