/** `beehive proxy`: runs the PostgreSQL connection proxy until SIGINT/SIGTERM. */
import fs from 'node:fs';
import { parseFlags, UsageError, type Command } from './registry';
import { startProxy, type ProxyOptions } from '../../proxy/index';

const usage = `usage: beehive proxy --upstream postgres://USER:PASS@HOST:PORT/DB [options]
       beehive proxy --config FILE [options]

PostgreSQL connection proxy: transaction pooling, hand-off by connection id, shadow sessions.

options:
  --listen HOST:PORT        where clients connect (default 127.0.0.1:6432)
  --upstream URL            the PostgreSQL server (required)
  --pool-mode MODE          transaction (default) or session
  --max-backends N          server connections at most (default 10)
  --max-clients N           client connections at most (default 10000)
  --auth METHOD             scram-sha-256 (default) or trust
  --user NAME=PASSWORD      a client user (repeatable; default: the upstream user)
  --database NAME           a database clients may name (repeatable; '*' any; default: the upstream's);
                            one pool per database and user
  --server-user WHO         client (default: backends log in as the client's user, with its --user password)
                            or upstream (every backend logs in as the upstream user)
  --control HOST:PORT       loopback HTTP control endpoint (needs a token)
  --control-token TOKEN     bearer token of the control endpoint (or BEEHIVE_PROXY_CONTROL_TOKEN)
  --tls-cert FILE           TLS certificate towards clients (with --tls-key)
  --tls-key FILE            TLS private key towards clients
  --handoff-ttl MS          lifetime of hand-off ids (default 30000)
  --login-timeout MS        close clients that have not authenticated this long after connecting (default 15000)
  --config FILE             a JSON file of the same options (upstream, listen, poolMode, ...); flags override it.
                            SIGHUP reads it again and applies what can change while running
  --drain MS                on SIGTERM/SIGINT, let transactions under way finish for up to MS (default 5000)
  -h, --help                this text
`;

function hostPort(value: string, flag: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UsageError(`${flag} must be HOST:PORT, got '${value}'`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

function int(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag} must be a positive integer, got '${value}'`);
  return Number(value);
}

export function optionsFromFlags(argv: string[]): ProxyOptions {
  const { values } = parseFlags(argv, {
    listen: { type: 'string' },
    upstream: { type: 'string' },
    'pool-mode': { type: 'string' },
    'max-backends': { type: 'string' },
    'max-clients': { type: 'string' },
    auth: { type: 'string' },
    user: { type: 'string', multiple: true },
    database: { type: 'string', multiple: true },
    'server-user': { type: 'string' },
    control: { type: 'string' },
    'control-token': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'handoff-ttl': { type: 'string' },
    'login-timeout': { type: 'string' },
    config: { type: 'string' },
    drain: { type: 'string' },
  });
  if (!values.upstream && !values.config) throw new UsageError('--upstream (or --config) is required');
  const mode = values['pool-mode'];
  if (mode !== undefined && mode !== 'transaction' && mode !== 'session') throw new UsageError(`--pool-mode must be transaction or session, got '${mode}'`);
  const auth = values.auth;
  if (auth !== undefined && auth !== 'scram-sha-256' && auth !== 'trust') throw new UsageError(`--auth must be scram-sha-256 or trust, got '${auth}'`);
  let users: Record<string, string> | undefined;
  for (const u of values.user ?? []) {
    const eq = u.indexOf('=');
    if (eq < 1) throw new UsageError(`--user must be NAME=PASSWORD, got '${u}'`);
    (users ??= {})[u.slice(0, eq)] = u.slice(eq + 1);
  }
  const serverUser = values['server-user'];
  if (serverUser !== undefined && serverUser !== 'client' && serverUser !== 'upstream') throw new UsageError(`--server-user must be client or upstream, got '${serverUser}'`);
  const options: ProxyOptions = {
    upstream: values.upstream as string,
    // With a file, a flag left out leaves the file's value (or the default) in place.
    listen: values.listen !== undefined ? hostPort(values.listen, '--listen') : values.config ? undefined : hostPort('127.0.0.1:6432', '--listen'),
    poolMode: mode,
    maxBackends: int(values['max-backends'], '--max-backends'),
    maxClients: int(values['max-clients'], '--max-clients'),
    auth,
    users,
    databases: values.database,
    serverUser,
    handoffTtlMs: int(values['handoff-ttl'], '--handoff-ttl'),
    loginTimeoutMs: int(values['login-timeout'], '--login-timeout'),
    ...(values.config ? { configFile: values.config } : {}),
  };
  if (values.control) {
    const token = values['control-token'] ?? process.env.BEEHIVE_PROXY_CONTROL_TOKEN;
    if (!token) throw new UsageError('--control needs --control-token or BEEHIVE_PROXY_CONTROL_TOKEN');
    options.control = { ...hostPort(values.control, '--control'), token };
  }
  if (values['tls-cert'] || values['tls-key']) {
    if (!values['tls-cert'] || !values['tls-key']) throw new UsageError('--tls-cert and --tls-key go together');
    try {
      options.tls = { cert: fs.readFileSync(values['tls-cert']), key: fs.readFileSync(values['tls-key']) };
    } catch (err) {
      throw new UsageError(`cannot read TLS files: ${(err as Error).message}`);
    }
  }
  return options;
}

/** The flag that sets each option of startProxy, for messages that speak of `options.x`. */
const FLAGS: Array<[RegExp, string]> = [
  [/^upstream\b/, '--upstream'],
  [/^listen\b/, '--listen'],
  [/^poolMode$/, '--pool-mode'],
  [/^maxBackends$/, '--max-backends'],
  [/^maxClients$/, '--max-clients'],
  [/^auth$/, '--auth'],
  [/^users$/, '--user'],
  [/^databases$/, '--database'],
  [/^serverUser$/, '--server-user'],
  [/^control\.token$/, '--control-token'],
  [/^control\b/, '--control'],
  [/^tls\b/, '--tls-cert/--tls-key'],
  [/^handoffTtlMs$/, '--handoff-ttl'],
];

/** Rewrites `options.maxBackends must ...` as `--max-backends must ...`: the user typed flags. */
export function flagMessage(message: string): string {
  // The registry's prefix ("invalid option: ") gives way to the usage error's own.
  return message.replace(/^(?:invalid option|option out of range): /, '').replace(/\boptions\.([A-Za-z.]+)/g, (whole, key: string) => FLAGS.find(([re]) => re.test(key))?.[1] ?? whole);
}

export const command: Command = {
  summary: 'PostgreSQL connection proxy (pooling, hand-off, shadow sessions)',
  usage,
  async run(argv) {
    const options = optionsFromFlags(argv);
    const drainArg = argv.find((a, i) => a.startsWith('--drain=') || argv[i - 1] === '--drain');
    const drainMs = drainArg === undefined ? undefined : int(drainArg.replace(/^--drain=/, ''), '--drain');
    let proxy;
    try {
      proxy = await startProxy(options);
    } catch (err) {
      // Option validation speaks of options.x: the user typed flags, still a usage error.
      if (err instanceof TypeError || err instanceof RangeError) throw new UsageError(flagMessage(err.message));
      throw err;
    }
    process.stdout.write(`beehive proxy listening on ${proxy.url}\n`);
    if (proxy.controlUrl) process.stdout.write(`beehive proxy control on ${proxy.controlUrl}\n`);
    // SIGHUP asks a daemon to reload its configuration; it must not kill the proxy (its default
    // action). With --config the file is read again; a bad file changes nothing and is reported.
    const running = proxy;
    const onHup = () => {
      if (!options.configFile) {
        process.stderr.write('beehive proxy: SIGHUP: nothing to reload (no --config file); still serving\n');
        return;
      }
      running.reload().then(
        (r) => process.stderr.write(`beehive proxy: SIGHUP: reloaded ${options.configFile}: ${r.changed.length ? `applied ${r.changed.join(', ')}` : 'nothing changed'}${r.restartNeeded.length ? `; needs a restart: ${r.restartNeeded.join(', ')}` : ''}\n`),
        (err: Error & { code?: string }) => process.stderr.write(`beehive proxy: SIGHUP: ${err.code ?? 'error'}: ${err.message}; still serving the previous configuration\n`),
      );
    };
    process.on('SIGHUP', onHup);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    process.off('SIGHUP', onHup);
    // Drain: transactions under way finish, idle clients close now, no new work starts.
    await proxy.close({ drainMs: drainMs ?? 5000 });
    return 0;
  },
};
