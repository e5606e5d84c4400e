import { createPrivateKey, type KeyObject, randomBytes, sign, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificatePem, newSigningKey, selfSignedCertificate } from './certificate.ts';

/** One resource's granted actions in a registry token (`access` claim). */
export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

/** The claims of a registry token (Docker distribution's token spec). */
export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: AccessEntry[];
}

const CERT_YEARS = 10;

/**
 * The key registry tokens are signed with (ES256) and its self-signed certificate, which
 * the registry trusts (`auth.token.rootcertbundle`). Tokens carry the certificate in their
 * `x5c` header: distribution 2.8 (libtrust key ids) and 3.x (RFC 7638 thumbprints)
 * disagree on `kid`, while both verify an `x5c` chain against the bundle.
 */
export class TokenSigner {
  readonly #key: KeyObject;
  /** PEM of the certificate: what the registry's rootcertbundle must hold. */
  readonly certificatePem: string;
  readonly #header: string;

  private constructor(key: KeyObject, certPem: string) {
    this.#key = key;
    this.certificatePem = certPem;
    const der = new X509Certificate(certPem).raw;
    this.#header = base64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', x5c: [der.toString('base64')] }));
  }

  /** A key that lives as long as the process (tests, `memory://` data dirs). */
  static ephemeral(now = new Date()): TokenSigner {
    const key = newSigningKey();
    return new TokenSigner(key, certificatePem(selfSignedCertificate(key, validity(now))));
  }

  /**
   * The key in `dir` (`key.pem`, mode 0600, and `cert.pem`), made on first use. Two cores
   * sharing the directory should be given it made; a race on first start leaves one
   * winner (rename is atomic) and the loser reads the winner's files.
   */
  static fromDir(dir: string, now = new Date()): TokenSigner {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    if (!existsSync(keyPath) || !existsSync(certPath)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const key = newSigningKey();
      const cert = certificatePem(selfSignedCertificate(key, validity(now)));
      const suffix = `.${process.pid}.${randomBytes(4).toString('hex')}`;
      writeFileSync(keyPath + suffix, key.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      writeFileSync(certPath + suffix, cert, { mode: 0o644 });
      renameSync(certPath + suffix, certPath);
      renameSync(keyPath + suffix, keyPath);
    }
    const key = createPrivateKey(readFileSync(keyPath));
    const cert = readFileSync(certPath, 'utf8');
    if (!new X509Certificate(cert).checkPrivateKey(key)) {
      throw new Error(`${certPath} is not the certificate of ${keyPath}`);
    }
    return new TokenSigner(key, cert);
  }

  /** Signs the claims as a compact JWS (header with x5c, ES256 as r||s). */
  sign(claims: TokenClaims): string {
    const input = `${this.#header}.${base64url(JSON.stringify(claims))}`;
    // The KeyObject itself, not `{key, dsaEncoding}`: node re-prepares the key from an
    // options object on every call, which doubles the cost of a signature (the token
    // endpoint's largest share of CPU). So: DER from OpenSSL, converted here.
    const der = sign('sha256', Buffer.from(input), this.#key);
    return `${input}.${derToJose(der).toString('base64url')}`;
  }

  /**
   * The same, with the signature computed on libuv's thread pool: the token endpoint's
   * event loop goes on parsing and answering other requests meanwhile.
   */
  signAsync(claims: TokenClaims): Promise<string> {
    const input = `${this.#header}.${base64url(JSON.stringify(claims))}`;
    return new Promise((resolve, reject) =>
      sign('sha256', Buffer.from(input), this.#key, (error, der) =>
        error ? reject(error) : resolve(`${input}.${derToJose(der).toString('base64url')}`),
      ),
    );
  }
}

const COORDINATE = 32; // P-256

/**
 * An ECDSA signature from DER (`SEQUENCE { INTEGER r, INTEGER s }`) to JOSE's r||s, each
 * a 32-byte big-endian number (DER drops leading zeros and adds one before a high bit).
 */
export function derToJose(der: Buffer): Buffer {
  let offset = 2;
  if (der[0] !== 0x30) throw new Error('not a DER signature');
  if ((der[1] as number) & 0x80) offset += (der[1] as number) & 0x7f;
  const out = Buffer.alloc(COORDINATE * 2);
  for (let i = 0; i < 2; i++) {
    if (der[offset] !== 0x02) throw new Error('not a DER signature');
    const length = der[offset + 1] as number;
    let value = der.subarray(offset + 2, offset + 2 + length);
    while (value.length > COORDINATE && value[0] === 0) value = value.subarray(1);
    if (value.length > COORDINATE) throw new Error('not a P-256 signature');
    value.copy(out, i * COORDINATE + COORDINATE - value.length);
    offset += 2 + length;
  }
  return out;
}

function validity(now: Date): { commonName: string; notBefore: Date; notAfter: Date } {
  const notBefore = new Date(now.getTime() - 3_600_000);
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CERT_YEARS);
  return { commonName: 'leengine-core registry token signer', notBefore, notAfter };
}

function base64url(s: string): string {
  return Buffer.from(s).toString('base64url');
}
