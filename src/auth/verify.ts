import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Authentication primitives for webhooks, /metrics and /admin. Every comparison runs in constant
 * time, also when lengths differ and across all configured secrets (no early exit reveals which
 * key is close).
 */

const HEX_SHA256 = /^[0-9a-f]{64}$/i;
const BASE64_SHA256 = /^[A-Za-z0-9+/_-]{43}=?$/;

/** Decodes a signature header value: hex (any case) or base64 (standard or URL-safe), `sha256=` optional. */
export function decodeSignature(header: string): Buffer | null {
  const value = header.trim().replace(/^sha256=/i, '');
  if (HEX_SHA256.test(value)) return Buffer.from(value, 'hex');
  if (BASE64_SHA256.test(value)) {
    const decoded = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return decoded.length === 32 ? decoded : null;
  }
  return null;
}

/** HMAC-SHA256 of a body fed chunk by chunk, checked against a signature header at the end. */
export interface SignatureVerifier {
  /** Feeds the next chunk of the body. */
  update(chunk: Buffer): void;
  /** True when the body fed so far is signed by one of the keys. */
  matches(): boolean;
}

/**
 * A verifier of `header` over a body that streams in, so that the body need not be held to be
 * checked; null when the header is absent or unreadable (no body can match it).
 */
export function createSignatureVerifier(
  header: string | undefined,
  keys: readonly string[],
): SignatureVerifier | null {
  if (header === undefined || keys.length === 0) return null;
  const given = decodeSignature(header);
  if (!given) return null;
  const hmacs = keys.map((key) => createHmac('sha256', key));
  return {
    update(chunk) {
      for (const hmac of hmacs) hmac.update(chunk);
    },
    matches() {
      let matched = false;
      for (const hmac of hmacs) matched = timingSafeEqual(hmac.digest(), given) || matched;
      return matched;
    },
  };
}

/** True when `header` is HMAC-SHA256(key, body) for one of `keys`. */
export function verifySignature(
  body: Buffer,
  header: string | undefined,
  keys: readonly string[],
): boolean {
  const verifier = createSignatureVerifier(header, keys);
  if (!verifier) return false;
  verifier.update(body);
  return verifier.matches();
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** True when `candidate` equals one of `secrets`; hashing first makes unequal lengths constant-time. */
export function matchesSecret(candidate: string | undefined, secrets: readonly string[]): boolean {
  if (candidate === undefined || candidate === '') return false;
  const given = digest(candidate);
  let matched = false;
  for (const secret of secrets) {
    matched = timingSafeEqual(digest(secret), given) || matched;
  }
  return matched;
}

export interface BasicCredentials {
  user: string;
  password: string;
}

/** Reads the token of `Authorization: Bearer <token>`; undefined when absent or another scheme. */
export function parseBearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

/** Reads HTTP Basic credentials from an Authorization header; null when absent or malformed. */
export function parseBasicAuth(header: string | undefined): BasicCredentials | null {
  if (!header) return null;
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** True when the credentials match one configured user:password pair. */
export function matchesBasicAuth(
  credentials: BasicCredentials | null,
  accepted: readonly BasicCredentials[],
): boolean {
  if (!credentials) return false;
  return matchesSecret(
    `${credentials.user}\u0000${credentials.password}`,
    accepted.map((pair) => `${pair.user}\u0000${pair.password}`),
  );
}
