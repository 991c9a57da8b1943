/**
 * Just enough SQL lexing for a pooler: split a simple-query string into statements (quotes, dollar
 * quotes, comments respected), find transaction control (for shadow sessions) and session state
 * that pins a client to its backend (SET, temp tables, advisory locks, LISTEN, WITH HOLD, PREPARE).
 */

/** Splits on top-level semicolons; returns [start, end) ranges of non-empty statements. */
export function splitStatements(sql: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === 0x27 /* ' */ || c === 0x22 /* " */) {
      const escapes = c === 0x27 && i > 0 && (sql[i - 1] === 'E' || sql[i - 1] === 'e');
      i++;
      while (i < n) {
        const d = sql.charCodeAt(i);
        if (escapes && d === 0x5c /* \ */) i += 2;
        else if (d === c) {
          if (sql.charCodeAt(i + 1) === c) i += 2;
          else break;
        } else i++;
      }
      i++;
    } else if (c === 0x2d /* - */ && sql.charCodeAt(i + 1) === 0x2d) {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
    } else if (c === 0x2f /* / */ && sql.charCodeAt(i + 1) === 0x2a /* * */) {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql.startsWith('/*', i)) (depth++, (i += 2));
        else if (sql.startsWith('*/', i)) (depth--, (i += 2));
        else i++;
      }
    } else if (c === 0x24 /* $ */) {
      const m = /^\$([A-Za-z_][A-Za-z_0-9]*)?\$/.exec(sql.slice(i, i + 64));
      if (m && !(i > 0 && /[A-Za-z_0-9]/.test(sql[i - 1]))) {
        const close = sql.indexOf(m[0], i + m[0].length);
        i = close < 0 ? n : close + m[0].length;
      } else i++;
    } else if (c === 0x3b /* ; */) {
      if (sql.slice(start, i).trim()) out.push([start, i]);
      start = ++i;
    } else i++;
  }
  if (sql.slice(start, n).trim()) out.push([start, n]);
  return out;
}

/** Statement text without leading comments and whitespace, for keyword checks. */
export function head(stmt: string): string {
  let s = stmt.trimStart();
  for (;;) {
    if (s.startsWith('--')) {
      const nl = s.indexOf('\n');
      s = nl < 0 ? '' : s.slice(nl + 1).trimStart();
    } else if (s.startsWith('/*')) {
      const e = s.indexOf('*/');
      s = e < 0 ? '' : s.slice(e + 2).trimStart();
    } else return s;
  }
}

export type TxControl = 'begin' | 'commit' | 'rollback' | null;

const kBegin = /^(begin|start\s+transaction)\b/i;
const kCommit = /^(commit|end)\b(?!\s+prepared)/i;
const kRollback = /^(rollback|abort)\b(?!\s+(work\s+|transaction\s+)?to\b)(?!\s+prepared)/i;

export function txControl(stmt: string): TxControl {
  const s = head(stmt);
  const c = s.charCodeAt(0) | 0x20;
  if (c !== 0x62 /* b */ && c !== 0x73 /* s */ && c !== 0x63 /* c */ && c !== 0x65 /* e */ && c !== 0x72 /* r */ && c !== 0x61 /* a */) return null;
  if (kBegin.test(s)) return 'begin';
  if (kCommit.test(s)) return 'commit';
  if (kRollback.test(s)) return 'rollback';
  return null;
}

/** Cheap pre-check over the whole text: no keyword, no pin. */
const kMaybePin = /set|temp|advisory|listen|hold|prepare|load/i;

const kPinRules: Array<[RegExp, string]> = [
  [/^set\b(?!\s+(local|transaction|constraints)\b)(?!\s+session\s+characteristics\b)/i, 'SET'],
  [/^reset\b/i, 'RESET'],
  [/^create\s+(?:(?:global|local)\s+)?temp(?:orary)?\b/i, 'temporary table'],
  [/^create\s+(?:or\s+replace\s+)?(?:temp|temporary)\s+(?:view|sequence)\b/i, 'temporary table'],
  [/^listen\b/i, 'LISTEN'],
  [/^declare\b[\s\S]*\bwith\s+hold\b/i, 'cursor WITH HOLD'],
  [/^prepare\b(?!\s+transaction\b)/i, 'SQL PREPARE'],
  [/^load\b/i, 'LOAD'],
];
const kAdvisory = /pg_(?:try_)?advisory_lock(?:_shared)?\s*\(/i;
const kSetConfig = /set_config\s*\([^)]*\bfalse\s*\)/i;

/** Why this SQL pins its session to a backend, or null. */
export function pinReason(sql: string): string | null {
  if (!kMaybePin.test(sql)) return null;
  if (kAdvisory.test(sql)) return 'advisory lock';
  if (kSetConfig.test(sql)) return 'set_config';
  for (const [a, b] of splitStatements(sql)) {
    const s = head(sql.slice(a, b));
    for (const [re, why] of kPinRules) if (re.test(s)) return why;
  }
  return null;
}
