/**
 * The Node.js versions Marquee runs on. better-sqlite3 13 (Node-API) needs 22 or later and
 * crashes on 20; sanitize-html needs 22.12. Odd releases between them are not tested but not refused.
 */
export const SUPPORTED_NODE = 'Node.js 22 (22.12 or later), 24 or 26';

const MINIMUM = [22, 12] as const;

/** The one-line refusal for a Node.js version older than supported, or null when it is supported. */
export function unsupportedNodeMessage(version: string): string | null {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  const supported = major > MINIMUM[0] || (major === MINIMUM[0] && minor >= MINIMUM[1]);
  return supported
    ? null
    : `marquee: needs ${SUPPORTED_NODE}; this is Node.js ${version.replace(/^v/, '')}. See "Supported Node.js versions" in the README.`;
}
