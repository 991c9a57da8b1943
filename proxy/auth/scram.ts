/**
 * SCRAM-SHA-256 (RFC 5802/7677) for both sides of the proxy. Written with node:crypto because no
 * library in the tree offers the server side (pg only has a client, inside its private lib/), and
 * both sides share the same few primitives. Channel binding (-PLUS) is not offered.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { ProxyErrors } from '../errors';

const hmac = (key: Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();
const xor = (a: Buffer, b: Buffer): Buffer => {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
};

/** SASLprep's effect on ordinary passwords: NFKC (what PostgreSQL and pg apply). */
const prep = (password: string): string => password.normalize('NFKC');

export function saltedPassword(password: string, salt: Buffer, iterations: number): Buffer {
  return pbkdf2Sync(prep(password), salt, iterations, 32, 'sha256');
}

/** What a server stores for a user: it never needs the password again. */
export interface ScramVerifier {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

export function makeVerifier(password: string, iterations = 4096, salt: Buffer = randomBytes(16)): ScramVerifier {
  const salted = saltedPassword(password, salt, iterations);
  return { salt, iterations, storedKey: sha256(hmac(salted, 'Client Key')), serverKey: hmac(salted, 'Server Key') };
}

function attributes(msg: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of msg.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) out.set(part[0], part.slice(2));
  }
  return out;
}

/** Server side of one SCRAM exchange. */
export class ScramServer {
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private gs2 = '';

  constructor(private readonly verifier: ScramVerifier) {}

  /** client-first-message → server-first-message. */
  first(clientFirst: string): string {
    const m = /^([ny]|p=[^,]*),([^,]*),(.*)$/.exec(clientFirst);
    if (!m) throw ProxyErrors.AUTH_FAILED('malformed SCRAM client-first-message');
    if (m[1].startsWith('p')) throw ProxyErrors.AUTH_UNSUPPORTED('SCRAM channel binding is not supported');
    this.gs2 = `${m[1]},${m[2]},`;
    this.clientFirstBare = m[3];
    const clientNonce = attributes(m[3]).get('r');
    if (!clientNonce) throw ProxyErrors.AUTH_FAILED('SCRAM client nonce missing');
    this.nonce = clientNonce + randomBytes(18).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${this.verifier.salt.toString('base64')},i=${this.verifier.iterations}`;
    return this.serverFirst;
  }

  /** client-final-message → server-final-message; throws when the proof is wrong. */
  final(clientFinal: string): string {
    const attrs = attributes(clientFinal);
    const proofAt = clientFinal.lastIndexOf(',p=');
    const proof = Buffer.from(attrs.get('p') ?? '', 'base64');
    if (proofAt < 0 || attrs.get('r') !== this.nonce || attrs.get('c') !== Buffer.from(this.gs2).toString('base64')) {
      throw ProxyErrors.AUTH_FAILED('SCRAM client-final-message does not match');
    }
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${clientFinal.slice(0, proofAt)}`;
    const signature = hmac(this.verifier.storedKey, authMessage);
    if (proof.length !== 32) throw ProxyErrors.AUTH_FAILED('bad SCRAM proof');
    const clientKey = xor(proof, signature);
    if (!timingSafeEqual(sha256(clientKey), this.verifier.storedKey)) throw ProxyErrors.AUTH_FAILED('wrong password');
    return `v=${hmac(this.verifier.serverKey, authMessage).toString('base64')}`;
  }
}

/** PBKDF2 results by password/salt/iterations: the upstream's salt per role is fixed, so each backend connection after the first skips 4096 rounds. */
const kSaltedCache = new Map<string, Buffer>();

/** Client side of one SCRAM exchange (the proxy towards the upstream server). */
export class ScramClient {
  readonly clientNonce = randomBytes(18).toString('base64');
  private serverSignature: Buffer | null = null;

  constructor(private readonly password: string) {}

  first(): string {
    return `n,,n=*,r=${this.clientNonce}`;
  }

  continue(serverFirst: string): string {
    const a = attributes(serverFirst);
    const nonce = a.get('r') ?? '';
    const salt = Buffer.from(a.get('s') ?? '', 'base64');
    const iterations = Number(a.get('i'));
    if (!nonce.startsWith(this.clientNonce) || nonce.length === this.clientNonce.length || !Number.isInteger(iterations) || iterations < 1) {
      throw ProxyErrors.UPSTREAM_AUTH('malformed SCRAM server-first-message');
    }
    const cacheKey = `${sha256(Buffer.from(this.password)).toString('hex')}:${a.get('s')}:${iterations}`;
    let salted = kSaltedCache.get(cacheKey);
    if (!salted) kSaltedCache.set(cacheKey, (salted = saltedPassword(this.password, salt, iterations)));
    const clientKey = hmac(salted, 'Client Key');
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `n=*,r=${this.clientNonce},${serverFirst},${withoutProof}`;
    const proof = xor(clientKey, hmac(sha256(clientKey), authMessage));
    this.serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  finish(serverFinal: string): void {
    const v = attributes(serverFinal).get('v');
    const got = Buffer.from(v ?? '', 'base64');
    if (!this.serverSignature || got.length !== this.serverSignature.length || !timingSafeEqual(got, this.serverSignature)) {
      throw ProxyErrors.UPSTREAM_AUTH('server signature does not match');
    }
  }
}

export function md5Password(user: string, password: string, salt: Buffer): string {
  const inner = createHash('md5').update(password + user).digest('hex');
  return 'md5' + createHash('md5').update(Buffer.concat([Buffer.from(inner), salt])).digest('hex');
}
