import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

/**
 * A self-signed X.509 certificate for an EC P-256 key, in DER, written by hand: node:crypto
 * parses certificates but does not make them, and core should not need an `openssl`
 * binary at first start. Only what the registry's verifier reads is encoded: version 3,
 * serial, ecdsa-with-SHA256, subject = issuer = CN, validity, the public key.
 */
export function selfSignedCertificate(
  privateKey: KeyObject,
  options: { commonName: string; notBefore: Date; notAfter: Date },
): Buffer {
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const name = seq(set(seq(oid(OID_COMMON_NAME), utf8(options.commonName))));
  const serial = randomBytes(16);
  // Positive, and never a leading zero byte (DER wants the shortest form).
  serial[0] = ((serial[0] as number) & 0x7f) | 0x40;
  const tbs = seq(
    tagged(0xa0, integer(Buffer.from([2]))), // v3
    integer(serial),
    ECDSA_SHA256,
    name,
    seq(time(options.notBefore), time(options.notAfter)),
    name,
    spki,
  );
  // crypto.sign's default ECDSA encoding is DER, which X.509 wants (JWTs want IEEE P1363).
  const signature = sign('sha256', tbs, privateKey);
  return seq(tbs, ECDSA_SHA256, tagged(0x03, Buffer.concat([Buffer.from([0]), signature])));
}

/** DER -> PEM. */
export function certificatePem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** A new EC P-256 private key (ES256). */
export function newSigningKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

const OID_COMMON_NAME = '2.5.4.3';
const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

function tagged(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function seq(...parts: Buffer[]): Buffer {
  return tagged(0x30, Buffer.concat(parts));
}

function set(...parts: Buffer[]): Buffer {
  return tagged(0x31, Buffer.concat(parts));
}

function integer(bytes: Buffer): Buffer {
  // DER: the shortest form, so no redundant leading zero bytes (OpenSSL refuses them as
  // "illegal padding"), and a leading 0 when the top bit would make it negative.
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0 && ((bytes[start + 1] as number) & 0x80) === 0)
    start++;
  const minimal = bytes.subarray(start);
  return tagged(0x02, (minimal[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), minimal]) : minimal);
}

function utf8(s: string): Buffer {
  return tagged(0x0c, Buffer.from(s, 'utf8'));
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const bytes = [40 * a + b];
  for (const n of rest) {
    const chunk: number[] = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return tagged(0x06, Buffer.from(bytes));
}

/** UTCTime up to 2049, GeneralizedTime after (RFC 5280). */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  return date.getUTCFullYear() < 2050
    ? tagged(0x17, Buffer.from(`${iso.slice(2)}Z`, 'ascii'))
    : tagged(0x18, Buffer.from(`${iso}Z`, 'ascii'));
}
