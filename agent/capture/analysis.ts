import * as acorn from 'acorn';
import * as eslintScope from 'eslint-scope';
import type { Program } from 'estree';
import { classMemberOf, isStaticSelfAlias } from './tsc-emit';
import { CaptureErrors } from './errors';

/**
 * Static analysis of a function as it sits in its script (DESIGN.md §3 step 4): its free variables,
 * which of them it writes, which are never reassigned anywhere (their values can be captured once and
 * reused), and how to rebuild it (expression, shorthand method, class with a replaced heritage).
 * Scripts are parsed once (acorn + eslint-scope) and cached.
 */
export interface FreeVar {
  name: string;
  /** The function (or something it contains) assigns the binding. */
  written: boolean;
  /** Some code anywhere reassigns the binding after its declaration. */
  reassigned: boolean;
  /** Where the function writes it: the script offset, and for a class the member (tsc-emit.ts). */
  writes?: Array<{ offset: number; member?: string }>;
}

export interface FunctionAnalysis {
  src: string;
  kind: 'expr' | 'method' | 'getter' | 'setter';
  name?: string;
  sup?: string;
  freeVars: FreeVar[];
  /** The class declares private instance members (cannot be rebuilt on an existing object). */
  hasPrivate: boolean;
  /** Analysed on its own source only: bindings' stability unknown. */
  standalone: boolean;
  /** Class bodies are strict whatever the script. */
  strict: boolean;
  /** An arrow function whose body reads `this`: rebuilt with `this` as the captured variable THIS_VAR. */
  arrowThis?: boolean;
  /** An arrow function that is a class field's initial value: that field's name (its `this` is the instance). */
  fieldOf?: string;
  /** A method whose body uses `super` or a private name: it only works rebuilt as part of its class. */
  needsHome?: 'super' | 'private';
  /** A class: the names of the prototype members its body defines (what a rebuild recreates). */
  protoMembers?: string[];
  /** A method: the `this.name` properties its own body reads or writes, unless `this` escapes (then undefined). */
  thisProps?: string[];
}

/** The captured variable that stands for an arrow function's lexical `this`. */
export const THIS_VAR = '__bh_this';

interface ParsedScript {
  ast: acorn.Node;
  scopes: eslintScope.ScopeManager;
  fnNodes: acorn.Node[];
}

const SUPER = '__bh_super';
const scriptCache = new Map<string, ParsedScript | null>();

function parseScript(key: string, source: string, isModule: boolean): ParsedScript | null {
  if (scriptCache.has(key)) return scriptCache.get(key)!;
  let parsed: ParsedScript | null = null;
  try {
    const ast = acorn.parse(source, {
      ecmaVersion: 'latest',
      sourceType: isModule ? 'module' : 'script',
      ranges: true,
      allowHashBang: true,
      allowReturnOutsideFunction: true,
      allowAwaitOutsideFunction: isModule,
    });
    const scopes = eslintScope.analyze(ast as unknown as Program, {
      ecmaVersion: 2022,
      sourceType: isModule ? 'module' : 'commonjs',
      nodejsScope: !isModule,
    } as eslintScope.AnalyzeOptions);
    const fnNodes: acorn.Node[] = [];
    walk(ast, (n) => {
      if (/Function|Class(Declaration|Expression)/.test(n.type)) fnNodes.push(n);
    });
    parsed = { ast, scopes, fnNodes };
  } catch {
    parsed = null;
  }
  scriptCache.set(key, parsed);
  return parsed;
}

function walk(n: unknown, visit: (n: acorn.Node) => void): void {
  if (!n || typeof n !== 'object') return;
  if (Array.isArray(n)) {
    for (const c of n) walk(c, visit);
    return;
  }
  const node = n as acorn.Node & Record<string, unknown>;
  if (typeof node.type !== 'string') return;
  visit(node);
  for (const k of Object.keys(node)) {
    if (k === 'type' || k === 'start' || k === 'end' || k === 'range' || k === 'loc') continue;
    const c = node[k];
    if (c && typeof c === 'object') walk(c, visit);
  }
}

/** Analyses `fn` given its script's source (when the inspector could provide it). */
export function analyzeFunction(fn: Function, script?: { key: string; source: string; isModule: boolean; offset: number }): FunctionAnalysis {
  const text = Function.prototype.toString.call(fn);
  if (script) {
    const parsed = parseScript(script.key, script.source, script.isModule);
    if (parsed) {
      let best: acorn.Node | undefined;
      for (const n of parsed.fnNodes) {
        if (script.source.slice(n.start, n.end) !== text) continue;
        if (!best || Math.abs(n.start - script.offset) < Math.abs(best.start - script.offset)) best = n;
      }
      if (best) return fromNode(best, parsed, text, false);
    }
  }
  return standalone(fn, text);
}

/**
 * Whether a function's text may hold a private name (`#x`): false only when no `#` in it can start
 * one — each is followed by a character no identifier starts with (`#422`, `[?#]`) or comes right
 * after a word (`Module#scan` in a comment) that no private name may follow. A keyword may
 * (`return#x in o`): that, and anything else, leaves the answer to the parser.
 */
export function mayHavePrivateNames(text: string): boolean {
  return PRIVATE_NAME.test(text);
}
const PRIVATE_NAME = /(?:^|[^\p{ID_Continue}$\u200c\u200d\\]|(?:return|await|yield|case|in|of|do|else|void|typeof|delete|instanceof))#[\p{ID_Start}$_\\]/u;

function standalone(fn: Function, text: string): FunctionAnalysis {
  for (const wrap of [(s: string) => `(${s})`, (s: string) => `({${s}})`]) {
    const code = wrap(text);
    let ast: acorn.Node;
    try {
      ast = acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'script', ranges: true });
    } catch {
      continue;
    }
    const scopes = eslintScope.analyze(ast as unknown as Program, { ecmaVersion: 2022, sourceType: 'script' } as eslintScope.AnalyzeOptions);
    const fnNodes: acorn.Node[] = [];
    walk(ast, (n) => {
      if (/Function|Class(Declaration|Expression)/.test(n.type) && code.slice(n.start, n.end) === text) fnNodes.push(n);
    });
    if (fnNodes.length === 0) {
      // A shorthand method's node starts after its key: take the member's value.
      walk(ast, (n) => {
        if (n.type === 'FunctionExpression' && fnNodes.length === 0) fnNodes.push(n);
      });
    }
    if (fnNodes.length) {
      const a = fromNode(fnNodes[0], { ast, scopes, fnNodes }, text, true, code.startsWith('({'));
      return a;
    }
  }
  throw CaptureErrors.PARSE(fn.name || 'anonymous');
}

function fromNode(node: acorn.Node, parsed: ParsedScript, text: string, isStandalone: boolean, wrappedAsMember = false): FunctionAnalysis {
  const n = node as acorn.Node & { id?: { name: string }; superClass?: acorn.Node; body?: { body?: unknown[] } };
  const parent = findParent(parsed.ast, node);
  let kind: FunctionAnalysis['kind'] = 'expr';
  const pk = parent as (acorn.Node & { kind?: string; method?: boolean; value?: unknown; key?: { name?: string } }) | undefined;
  if (pk && (pk.type === 'MethodDefinition' || (pk.type === 'Property' && (pk.method || pk.kind !== 'init'))) && pk.value === node) {
    kind = pk.kind === 'get' ? 'getter' : pk.kind === 'set' ? 'setter' : 'method';
  }
  if (wrappedAsMember) kind = kind === 'expr' ? 'method' : kind;
  let src = text;
  let sup: string | undefined;
  if (/^Class/.test(n.type) && n.superClass) {
    const off = n.start;
    src = text.slice(0, n.superClass.start - off) + SUPER + text.slice(n.superClass.end - off);
    sup = SUPER;
  }
  const hasPrivate = /^Class/.test(n.type) && JSON.stringify(n.body?.body ?? [], (k, v) => (k === 'start' || k === 'end' || k === 'range' || typeof v === 'bigint' ? undefined : v)).includes('"PrivateIdentifier"')
    && hasPrivateInstanceField(n);
  const freeVars = freeVariables(node, parsed, n.superClass);
  const strict = /^Class/.test(n.type) || pk?.type === 'MethodDefinition' || /^\s*(?:async\s+)?function[^{]*\{\s*(['"])use strict\1/.test(text);
  const out: FunctionAnalysis = { src, kind, name: n.id?.name ?? pk?.key?.name, sup, freeVars, hasPrivate, standalone: isStandalone, strict };
  if (n.type === 'ArrowFunctionExpression') {
    const thisNodes = lexicalThis(node);
    if (thisNodes.length > 0) {
      // `this` becomes a captured variable: an arrow's lexical this cannot be re-bound otherwise.
      let rewritten = '';
      let at = node.start;
      for (const t of thisNodes) {
        rewritten += text.slice(at - node.start, t.start - node.start) + THIS_VAR;
        at = t.end;
      }
      out.src = rewritten + text.slice(at - node.start);
      out.arrowThis = true;
      const field = pk as (acorn.Node & { static?: boolean; computed?: boolean; key?: { type: string; name?: string } }) | undefined;
      if (field?.type === 'PropertyDefinition' && !field.static && !field.computed && field.key?.type === 'Identifier') out.fieldOf = field.key.name;
    }
  }
  if (kind !== 'expr' || pk?.type === 'MethodDefinition') {
    const uses = homeUses(node);
    if (uses) out.needsHome = uses;
    out.thisProps = thisProperties(node);
  }
  if (/^Class/.test(n.type)) {
    const body = (n as unknown as { body: { body: Array<{ type: string; static?: boolean; computed?: boolean; key?: { type: string; name?: string; value?: unknown } }> } }).body.body;
    out.protoMembers = body
      .filter((m) => m.type === 'MethodDefinition' && !m.static && !m.computed && m.key)
      .map((m) => (m.key!.type === 'Identifier' ? m.key!.name! : String(m.key!.value)));
  }
  return out;
}

/** `this` expressions of an arrow function that are its own (not those of a nested function or class). */
function lexicalThis(arrow: acorn.Node): acorn.Node[] {
  const found: acorn.Node[] = [];
  const visit = (n: unknown): void => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(visit);
    const node = n as acorn.Node & Record<string, unknown>;
    if (typeof node.type !== 'string') return;
    if (node !== arrow && /^(FunctionExpression|FunctionDeclaration|ClassExpression|ClassDeclaration)$/.test(node.type)) return;
    if (node.type === 'ThisExpression') found.push(node);
    for (const k of Object.keys(node)) if (k !== 'range' && node[k] && typeof node[k] === 'object') visit(node[k]);
  };
  visit(arrow);
  return found.sort((a, b) => a.start - b.start);
}

/**
 * The names a method reaches as `this.name`; undefined when `this` is used any other way (passed on,
 * aliased, indexed), since then anything on it may be reached.
 */
function thisProperties(fn: acorn.Node): string[] | undefined {
  const names = new Set<string>();
  let escapes = false;
  const visit = (n: unknown, parent: (acorn.Node & Record<string, unknown>) | undefined, top: boolean): void => {
    if (escapes || !n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach((c) => visit(c, parent, top));
    const node = n as acorn.Node & Record<string, unknown>;
    if (typeof node.type !== 'string') return;
    if (!top && /^(FunctionExpression|FunctionDeclaration|ClassExpression|ClassDeclaration)$/.test(node.type)) return;
    if (node.type === 'ThisExpression') {
      const p = parent as (acorn.Node & { object?: unknown; computed?: boolean; property?: { type: string; name?: string } }) | undefined;
      if (p?.type === 'MemberExpression' && p.object === node && !p.computed && p.property?.type === 'Identifier') names.add(p.property.name!);
      else escapes = true;
      return;
    }
    for (const k of Object.keys(node)) if (k !== 'range' && node[k] && typeof node[k] === 'object') visit(node[k], node, false);
  };
  visit(fn, undefined, true);
  return escapes ? undefined : [...names];
}

/** Whether a method's own body uses `super` or a private name (`#x`), which tie it to its class. */
function homeUses(fn: acorn.Node): 'super' | 'private' | undefined {
  let uses: 'super' | 'private' | undefined;
  const visit = (n: unknown, top: boolean, nested: boolean): void => {
    if (uses === 'private' || !n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach((c) => visit(c, top, nested));
    const node = n as acorn.Node & Record<string, unknown>;
    if (typeof node.type !== 'string') return;
    if (node.type === 'PrivateIdentifier') uses = 'private';
    else if (node.type === 'Super' && !nested && !uses) uses = 'super';
    // A nested ordinary function has its own super binding (arrows share the method's); private names reach everywhere.
    const inner = nested || (!top && /^(FunctionExpression|FunctionDeclaration|ClassExpression|ClassDeclaration)$/.test(node.type));
    for (const k of Object.keys(node)) if (k !== 'range' && node[k] && typeof node[k] === 'object') visit(node[k], false, inner);
  };
  visit(fn, true, false);
  return uses;
}

function hasPrivateInstanceField(cls: acorn.Node): boolean {
  const body = (cls as unknown as { body: { body: Array<{ type: string; static?: boolean; key?: { type: string } }> } }).body.body;
  return body.some((m) => !m.static && m.key?.type === 'PrivateIdentifier');
}

function findParent(root: acorn.Node, target: acorn.Node): acorn.Node | undefined {
  let found: acorn.Node | undefined;
  const visit = (n: unknown, parent?: acorn.Node): void => {
    if (found || !n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach((c) => visit(c, parent));
    const node = n as acorn.Node & Record<string, unknown>;
    if (typeof node.type !== 'string') return;
    if (node === target) {
      found = parent;
      return;
    }
    if (node.start > target.start || node.end < target.end) return;
    for (const k of Object.keys(node)) if (node[k] && typeof node[k] === 'object' && k !== 'range') visit(node[k], node);
  };
  visit(root);
  return found;
}

function freeVariables(node: acorn.Node, parsed: ParsedScript, superClass?: acorn.Node): FreeVar[] {
  const sm = parsed.scopes;
  const own = new Set<eslintScope.Scope>();
  const collect = (s: eslintScope.Scope) => {
    own.add(s);
    s.childScopes.forEach(collect);
  };
  // Scopes the function creates (a class creates a class scope, a function a function scope...).
  for (const s of sm.scopes) if (s.block === (node as unknown)) collect(s);
  const vars = new Map<string, FreeVar>();
  for (const s of own) {
    for (const ref of s.references) {
      const resolvedInside = ref.resolved && own.has(ref.resolved.scope);
      if (resolvedInside) continue;
      const id = ref.identifier as unknown as acorn.Node & { name: string };
      if (superClass && id.start >= superClass.start && id.end <= superClass.end) continue;
      if (id.start < node.start || id.end > node.end) continue;
      const name = id.name;
      const v = ref.resolved;
      const reassigned = v ? v.references.some((r) => r.isWrite() && !r.init) : true;
      const prev = vars.get(name) ?? { name, written: false, reassigned: false };
      const write = ref.isWrite() && !isStaticSelfAlias(parsed.ast, node, id);
      prev.written ||= write;
      if (write) (prev.writes ??= []).push({ offset: id.start, member: classMemberOf(node, id) });
      prev.reassigned ||= reassigned || !v;
      vars.set(name, prev);
    }
  }
  return [...vars.values()];
}

/** A function nested in another, as the server makes it again from its own code (agent/offload/5-callbacks.ts). */
export interface NestedFunction {
  /** Its free variables: bound inside the outer function (its parameters and locals), or outside it. */
  free: Array<{ name: string; inside: boolean }>;
  /** Its code is strict (module, class, a 'use strict' prologue on the way to it). */
  strict: boolean;
}

/**
 * The function whose code starts at `start` of the script (its text `text`), nested in the function
 * spanning `outer` of the same script. Undefined when no such function is there.
 */
export function nestedFunctionAt(script: { key: string; source: string; isModule: boolean }, outer: { start: number; end: number }, start: number, text: string): NestedFunction | undefined {
  const parsed = parseScript(script.key, script.source, script.isModule);
  if (!parsed) return undefined;
  const node = parsed.fnNodes.find((n) => n.start === start && n.end <= outer.end && start >= outer.start && script.source.slice(n.start, n.end) === text);
  if (!node || /^Class/.test(node.type)) return undefined;
  const own = new Set<eslintScope.Scope>();
  const collect = (s: eslintScope.Scope) => {
    own.add(s);
    s.childScopes.forEach(collect);
  };
  for (const s of parsed.scopes.scopes) if (s.block === (node as unknown)) collect(s);
  const free = new Map<string, boolean>();
  for (const s of own) {
    for (const ref of s.references) {
      if (ref.resolved && own.has(ref.resolved.scope)) continue;
      const block = ref.resolved?.scope.block as unknown as acorn.Node | undefined;
      const inside = !!block && block.start >= outer.start && block.end <= outer.end;
      free.set(ref.identifier.name, inside || (free.get(ref.identifier.name) ?? false));
    }
  }
  return { free: [...free].map(([name, inside]) => ({ name, inside })), strict: strictAt(parsed.ast, node, script.isModule) };
}

/** Whether code at `target` is strict: a module, a class, or a 'use strict' prologue of the script or an enclosing function. */
function strictAt(root: acorn.Node, target: acorn.Node, isModule: boolean): boolean {
  const prologue = (body: unknown): boolean =>
    Array.isArray(body) && body.some((st: { type?: string; directive?: string }) => st?.type === 'ExpressionStatement' && st.directive === 'use strict');
  let strict = isModule;
  let n: (acorn.Node & Record<string, unknown>) | undefined = root as acorn.Node & Record<string, unknown>;
  while (n && !strict) {
    if (n.type === 'Program' && prologue(n.body)) strict = true;
    if (/^Class/.test(n.type)) strict = true;
    if (/Function/.test(n.type) && prologue((n.body as { body?: unknown })?.body)) strict = true;
    if (n === target) break;
    let child: (acorn.Node & Record<string, unknown>) | undefined;
    for (const k of Object.keys(n)) {
      if (k === 'range' || !n[k] || typeof n[k] !== 'object') continue;
      for (const c of (Array.isArray(n[k]) ? n[k] : [n[k]]) as Array<acorn.Node & Record<string, unknown>>) {
        if (c && typeof c.type === 'string' && c.start <= target.start && c.end >= target.end) child = c;
      }
      if (child) break;
    }
    n = child;
  }
  return strict;
}
