import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decodeSignature,
  matchesBasicAuth,
  matchesSecret,
  parseBasicAuth,
  parseBearerToken,
  verifySignature,
} from '../../src/auth/verify.js';

const body = Buffer.from('{"messageType":"UPDATE_EVENTS"}');
const keys = ['key-one', 'key-two'];
const mac = (key: string) => createHmac('sha256', key).update(body).digest();

describe('verifySignature', () => {
  it('accepts hex in either case, base64, URL-safe base64, with or without sha256=', () => {
    for (const key of keys) {
      const digest = mac(key);
      for (const header of [
        digest.toString('hex'),
        digest.toString('hex').toUpperCase(),
        `sha256=${digest.toString('hex')}`,
        `SHA256=${digest.toString('hex')}`,
        digest.toString('base64'),
        digest.toString('base64url'),
        `sha256=${digest.toString('base64')}`,
      ]) {
        expect(verifySignature(body, header, keys), header).toBe(true);
      }
    }
  });

  it('rejects wrong keys, other bodies, truncation, empty and garbage', () => {
    const good = mac('key-one').toString('hex');
    expect(verifySignature(body, mac('other').toString('hex'), keys)).toBe(false);
    expect(verifySignature(Buffer.from('{}'), good, keys)).toBe(false);
    expect(verifySignature(body, good.slice(0, -2), keys)).toBe(false);
    expect(verifySignature(body, `${good}00`, keys)).toBe(false);
    expect(verifySignature(body, '', keys)).toBe(false);
    expect(verifySignature(body, undefined, keys)).toBe(false);
    expect(verifySignature(body, 'sha256=', keys)).toBe(false);
    expect(verifySignature(body, `${good}, ${good}`, keys)).toBe(false);
    expect(verifySignature(body, good, [])).toBe(false);
  });

  it('decodes only 32-byte digests', () => {
    expect(decodeSignature('ab')).toBeNull();
    expect(decodeSignature('A'.repeat(44))).toBeNull();
    expect(decodeSignature(mac('x').toString('base64'))?.length).toBe(32);
  });
});

describe('matchesSecret and Basic auth', () => {
  it('compares tokens of unequal length without throwing', () => {
    expect(matchesSecret('abc', ['abc', 'longer-token'])).toBe(true);
    expect(matchesSecret('longer-token', ['abc', 'longer-token'])).toBe(true);
    expect(matchesSecret('ab', ['abc'])).toBe(false);
    expect(matchesSecret('', ['abc'])).toBe(false);
    expect(matchesSecret(undefined, ['abc'])).toBe(false);
  });

  it('reads a Bearer token in any case of the scheme, and nothing from other schemes', () => {
    expect(parseBearerToken('Bearer abc.def')).toBe('abc.def');
    expect(parseBearerToken('bearer  abc ')).toBe('abc');
    expect(parseBearerToken('Bearer a b')).toBeUndefined();
    expect(parseBearerToken('Bearer')).toBeUndefined();
    expect(parseBearerToken(`Basic ${Buffer.from('user:pw').toString('base64')}`)).toBeUndefined();
    expect(parseBearerToken(undefined)).toBeUndefined();
  });

  it('parses Basic headers and rejects malformed ones', () => {
    const header = `Basic ${Buffer.from('user:pa:ss').toString('base64')}`;
    expect(parseBasicAuth(header)).toEqual({ user: 'user', password: 'pa:ss' });
    expect(parseBasicAuth('Bearer abc')).toBeNull();
    expect(parseBasicAuth('Basic')).toBeNull();
    expect(parseBasicAuth(`Basic ${Buffer.from('nocolon').toString('base64')}`)).toBeNull();
    expect(matchesBasicAuth(parseBasicAuth(header), [{ user: 'user', password: 'pa:ss' }])).toBe(
      true,
    );
    expect(matchesBasicAuth(parseBasicAuth(header), [{ user: 'user', password: 'pa' }])).toBe(
      false,
    );
    expect(matchesBasicAuth(null, [{ user: 'user', password: 'pa:ss' }])).toBe(false);
  });
});
