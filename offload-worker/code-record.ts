/**
 * A function's code record, the header of a Function node in the closure stream. Produced by the
 * agent's capture (agent/capture) and rebuilt here.
 */
import { WorkerErrors } from './errors';

export interface CodeRecord {
  /** Source text as Function.prototype.toString gives it (with a class heritage replaced, see `sup`). */
  src: string;
  /** `expr`: evaluates as `(src)`; `method`/`getter`/`setter`: shorthand members, rebuilt as `({src})`. */
  kind: 'expr' | 'method' | 'getter' | 'setter';
  name?: string;
  /** The class's `extends` expression was replaced by this identifier; `pre` is its value. */
  sup?: string;
  /** Where it came from, for error messages: file:line. */
  at?: string;
  /** Names of its captured variables (bindings of the rebuilt function's scope). */
  names?: string[];
  /** The source was strict (ES module, class, 'use strict'). */
  strict?: boolean;
}

const IDENT = /^[A-Za-z_$][\w$]*$/;
const RESERVED = new Set(['this', 'arguments', 'eval', 'let', 'yield', 'await', 'static', 'implements', 'interface', 'package', 'private', 'protected', 'public', 'enum', 'super', 'new', 'typeof', 'void', 'delete', 'in', 'instanceof', 'return', 'function', 'class', 'const', 'var', 'if', 'else', 'for', 'while', 'do', 'switch', 'case', 'default', 'break', 'continue', 'throw', 'try', 'catch', 'finally', 'with', 'debugger', 'null', 'true', 'false', 'export', 'import', 'extends']);

export function parseCodeRecord(header: string): CodeRecord {
  let rec: unknown;
  try {
    rec = JSON.parse(header);
  } catch {
    throw WorkerErrors.CODE_RECORD('not JSON');
  }
  const r = rec as CodeRecord;
  if (!r || typeof r.src !== 'string' || !['expr', 'method', 'getter', 'setter'].includes(r.kind)) {
    throw WorkerErrors.CODE_RECORD('no src or kind');
  }
  if (r.sup !== undefined && (typeof r.sup !== 'string' || !IDENT.test(r.sup))) throw WorkerErrors.CODE_RECORD('bad heritage name');
  if (r.names !== undefined && (!Array.isArray(r.names) || r.names.some((n) => typeof n !== 'string' || !IDENT.test(n) || RESERVED.has(n)))) {
    throw WorkerErrors.CODE_RECORD('bad captured variable names');
  }
  return r;
}
