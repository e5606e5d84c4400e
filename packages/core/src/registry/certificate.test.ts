import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { certificatePem, newSigningKey, selfSignedCertificate } from './certificate.ts';

test('every certificate is valid DER, whatever its random serial (1,000 in a row)', () => {
  // A serial starting with a zero byte once slipped through as a non-minimal INTEGER,
  // which OpenSSL refuses ("illegal padding"): about one start in 256 failed.
  const key = newSigningKey();
  const notBefore = new Date('2026-01-01T00:00:00Z');
  const notAfter = new Date('2036-01-01T00:00:00Z');
  for (let i = 0; i < 1000; i++) {
    const der = selfSignedCertificate(key, { commonName: 'leengine-core', notBefore, notAfter });
    const cert = new X509Certificate(certificatePem(der));
    assert.equal(cert.subject, 'CN=leengine-core');
    assert.ok(cert.verify(cert.publicKey), 'self-signed: its own key verifies it');
  }
});
