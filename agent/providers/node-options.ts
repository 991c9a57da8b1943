import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The agent's own preload entries (`beehive/agent` resolves to one of them). */
const AGENT_ENTRIES = ['register.js', 'register.mjs'].map((f) => path.join(__dirname, '..', f));

/**
 * NODE_OPTIONS for a worker: the app's own, less the preloads that load this agent (`-r
 * beehive/agent`, `--import beehive/agent`, a path to its register file), since a worker must not
 * start an agent of its own. Every other preload stays, whatever its path says: a tracer or a test
 * hook under a folder named after the product is the app's (only the resolved file decides).
 */
export function workerNodeOptions(nodeOptions: string | undefined, cwd = process.cwd(), agentEntries = AGENT_ENTRIES): string {
  if (!nodeOptions) return '';
  const own = new Set(agentEntries.map(real));
  const tokens = split(nodeOptions);
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const m = /^(-r|--require|--import)(?:=(.*))?$/.exec(t);
    if (!m) {
      out.push(t);
      continue;
    }
    const value = m[2] ?? tokens[i + 1];
    const consumed = m[2] === undefined ? 2 : 1;
    if (value !== undefined && isAgent(value, cwd, own)) {
      i += consumed - 1;
      continue;
    }
    out.push(t);
  }
  return out.map(quote).join(' ');
}

function isAgent(spec: string, cwd: string, own: Set<string>): boolean {
  if (/^beehive\/agent(?:\/register(?:\.m?js)?)?$/.test(spec)) return true;
  let file: string | undefined;
  try {
    if (spec.startsWith('file:')) file = fileURLToPath(spec);
    else if (path.isAbsolute(spec) || spec.startsWith('.')) file = path.resolve(cwd, spec);
    else file = require.resolve(spec, { paths: [cwd] });
  } catch {
    return false;
  }
  const f = real(file);
  // Another installed copy of the package: its register file too.
  return own.has(f) || /[\\/]beehive[\\/]dist[\\/]agent[\\/]register\.m?js$/.test(f);
}

function real(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

/** NODE_OPTIONS words as Node reads them: split on spaces, double quotes group (with \" and \\ escapes). */
function split(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let inQuote = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inQuote && c === '\\' && i + 1 < s.length) {
      cur += s[++i];
    } else if (c === '"') {
      inQuote = !inQuote;
      has = true;
    } else if (c === ' ' && !inQuote) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
    }
  }
  if (has || cur) out.push(cur);
  return out;
}

function quote(t: string): string {
  return /[ "\\]/.test(t) || t === '' ? `"${t.replace(/[\\"]/g, (c) => `\\${c}`)}"` : t;
}
