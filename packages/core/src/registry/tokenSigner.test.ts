import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { derToJose, TokenSigner } from './tokenSigner.ts';

function decode(token: string) {
  const [header, claims, signature] = token.split('.') as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()),
    claims: JSON.parse(Buffer.from(claims, 'base64url').toString()),
    input: `${header}.${claims}`,
    signature: Buffer.from(signature, 'base64url'),
  };
}

const CLAIMS = {
  iss: 'leengine-core',
  sub: 'alice',
  aud: 'leengine-registry',
  exp: 1_900_000_300,
  nbf: 1_900_000_000,
  iat: 1_900_000_000,
  jti: 'abc',
  access: [{ type: 'repository', name: 'team/app', actions: ['pull'] }],
};

test('the self-signed certificate parses as X.509, names the signer and carries the signing key', () => {
  const signer = TokenSigner.ephemeral(new Date('2026-01-01T00:00:00Z'));
  const cert = new X509Certificate(signer.certificatePem);
  assert.equal(cert.subject, 'CN=leengine-core registry token signer');
  assert.equal(cert.issuer, cert.subject);
  assert.ok(cert.verify(cert.publicKey), 'self-signed: its own key verifies it');
  assert.equal(new Date(cert.validFrom).toISOString(), '2025-12-31T23:00:00.000Z');
  assert.equal(new Date(cert.validTo).getUTCFullYear(), 2036);
  assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
});

test('tokens are ES256 JWTs with the certificate in x5c, verifiable with its key (r||s signature)', () => {
  const signer = TokenSigner.ephemeral();
  const token = signer.sign(CLAIMS);
  const { header, claims, input, signature } = decode(token);
  assert.equal(header.alg, 'ES256');
  assert.equal(header.typ, 'JWT');
  assert.equal(header.x5c.length, 1);
  const cert = new X509Certificate(Buffer.from(header.x5c[0], 'base64'));
  assert.equal(cert.toString(), new X509Certificate(signer.certificatePem).toString());
  assert.deepEqual(claims, CLAIMS);
  assert.equal(signature.length, 64, 'JOSE wants r||s, not DER');
  const key = createPublicKey(cert.publicKey.export({ type: 'spki', format: 'pem' }));
  assert.ok(verify('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }, signature));
  const tampered = Buffer.from(input.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')));
  assert.ok(!verify('sha256', tampered, { key, dsaEncoding: 'ieee-p1363' }, signature));
});

test('signAsync (on the thread pool) makes tokens as verifiable as sign does', async () => {
  const signer = TokenSigner.ephemeral();
  const { header, claims, input, signature } = decode(await signer.signAsync(CLAIMS));
  assert.equal(header.alg, 'ES256');
  assert.deepEqual(claims, CLAIMS);
  assert.equal(signature.length, 64);
  const key = new X509Certificate(signer.certificatePem).publicKey;
  assert.ok(verify('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }, signature));
});

test('fromDir makes the key once (0600) and reads the same key on every later start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signer-'));
  try {
    const first = TokenSigner.fromDir(join(dir, 'keys'));
    assert.equal(statSync(join(dir, 'keys', 'key.pem')).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(dir, 'keys', 'cert.pem'), 'utf8'), first.certificatePem);
    const second = TokenSigner.fromDir(join(dir, 'keys'));
    assert.equal(second.certificatePem, first.certificatePem);
    const { input, signature } = decode(second.sign(CLAIMS));
    const key = new X509Certificate(first.certificatePem).publicKey;
    assert.ok(verify('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }, signature));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('DER signatures become the r||s node would make itself, short coordinates (leading zeros) included', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let short = 0;
  // About one signature in 128 has an r or s below 2^248 (a zero first byte).
  for (let i = 0; i < 2000; i++) {
    const data = Buffer.from(`claims ${i}`);
    const der = sign('sha256', data, privateKey);
    const jose = derToJose(der);
    assert.equal(jose.length, 64);
    if (jose[0] === 0 || jose[32] === 0) short += 1;
    assert.ok(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, jose), `signature ${i}`);
    assert.ok(verify('sha256', data, publicKey, der));
  }
  assert.ok(short > 0, 'some short coordinates were converted');
  assert.throws(() => derToJose(Buffer.from('3006020101020101', 'hex').subarray(1)), /not a DER signature/);
});
