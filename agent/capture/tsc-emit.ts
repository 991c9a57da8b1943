import type * as acorn from 'acorn';

/**
 * Shapes tsc emits around decorated classes that look like writes to captured variables but are not
 * state. At ES2022 a class with decorators that refers to itself (a static counter, `Logger(X.name)`)
 * becomes `let X = class X { static { X_1 = this; } ... }`: the static block runs once, when the class
 * is defined, and stores the class itself. A worker that rebuilds the class runs it again against
 * its own binding, which then holds the rebuilt class — the same value the server's binding holds,
 * as the worker sees it. No method ever writes it.
 */
export function isStaticSelfAlias(ast: acorn.Node, cls: acorn.Node, id: acorn.Node): boolean {
  if (!/^Class/.test(cls.type)) return false;
  const body = (cls as unknown as { body?: { body?: acorn.Node[] } }).body?.body ?? [];
  for (const member of body) {
    if (member.type !== 'StaticBlock' || id.start < member.start || id.end > member.end) continue;
    for (const stmt of (member as unknown as { body: acorn.Node[] }).body) {
      const e = (stmt as unknown as { expression?: { type: string; operator?: string; left?: acorn.Node; right?: acorn.Node } }).expression;
      if (stmt.type === 'ExpressionStatement' && e?.type === 'AssignmentExpression' && e.operator === '=' && e.left === id && e.right?.type === 'ThisExpression') return true;
      if (stmt.type === 'ExpressionStatement' && e?.type === 'AssignmentExpression' && e.operator === '=' && e.left && e.left.start === id.start && e.left.end === id.end && e.right?.type === 'ThisExpression') return true;
    }
  }
  void ast;
  return false;
}

/** JSON of an AST without positions; BigInt literals (`0n`) as their text, which JSON cannot hold. */
export function astJson(nodes: unknown): string {
  return JSON.stringify(nodes, (k, v) => (k === 'start' || k === 'end' || k === 'range' ? undefined : typeof v === 'bigint' ? `${v}n` : v));
}

/**
 * The class member a write inside a class body belongs to: a method's or accessor's name, or
 * 'constructor' for the constructor and instance field initializers (they run at construction), or
 * 'static' for static blocks and static fields (they run when the class is defined). Undefined when
 * the write is not inside a member (the heritage, a computed key).
 */
export function classMemberOf(cls: acorn.Node, id: acorn.Node): string | undefined {
  if (!/^Class/.test(cls.type)) return undefined;
  const body = (cls as unknown as { body?: { body?: acorn.Node[] } }).body?.body ?? [];
  for (const m of body) {
    if (id.start < m.start || id.end > m.end) continue;
    const member = m as unknown as { type: string; kind?: string; static?: boolean; computed?: boolean; key?: { type: string; name?: string; value?: unknown; start: number; end: number } };
    if (member.key && id.start >= member.key.start && id.end <= member.key.end) return undefined;
    if (member.type === 'StaticBlock' || member.static) return 'static';
    if (member.type === 'PropertyDefinition' || member.kind === 'constructor') return 'constructor';
    if (member.type === 'MethodDefinition' && !member.computed && member.key) {
      return member.key.type === 'PrivateIdentifier' ? `#${member.key.name}` : String(member.key.name ?? member.key.value);
    }
    return undefined;
  }
  return undefined;
}
