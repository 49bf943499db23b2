import { compile } from 'html-to-text';
import MarkdownIt from 'markdown-it';
import sanitizeHtml from 'sanitize-html';

/**
 * What a safe description is. Sources give HTML, Markdown or plain text; every output gets
 * sanitized HTML (no script, style, iframe, event handlers or javascript: URLs) and plain text.
 */

const markdown = new MarkdownIt({ html: true, linkify: true, breaks: false });

// Stricter than sanitize-html's own scheme check (which also strips blanks and controls before
// the scheme), so a link this keeps always keeps its href.
const SAFE_HREF = /^\s*(?:https?:\/\/|mailto:)/i;

const SANITIZE_OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: [
    'p',
    'br',
    'strong',
    'b',
    'em',
    'i',
    'u',
    's',
    'a',
    'ul',
    'ol',
    'li',
    'blockquote',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'hr',
    'code',
    'pre',
    'span',
    'small',
    'sub',
    'sup',
  ],
  allowedAttributes: { a: ['href', 'title', 'rel'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  transformTags: {
    // A link whose href would be dropped (javascript:, data:, relative, none) becomes its text:
    // an <a> without href is invalid. A tag name that is not allowed is discarded, text kept.
    a: (_tagName, attribs) =>
      SAFE_HREF.test(attribs.href ?? '')
        ? { tagName: 'a', attribs: { ...attribs, rel: 'nofollow noopener noreferrer' } }
        : { tagName: 'unsafe-link', attribs: {} },
    h1: 'h2',
  },
  allowedSchemesAppliedToAttributes: ['href'],
  // html-to-text walks the tree recursively: thousands of nested tags overflow the stack.
  nestingLimit: 50,
};

// Characters XML 1.0 forbids, lone surrogates (strict parsers reject feeds carrying them) and the
// C1 controls, which XML discourages and HTML forbids (a validator error); they come from text
// decoded with the wrong charset and mean nothing shown.
const UNSHOWABLE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u0084\u0086-\u009F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

// A superset of UNSHOWABLE without its lookarounds, tested first: a render cleans every piece
// of text of every event, and nearly all of it has nothing to remove.
const MAYBE_UNSHOWABLE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uD800-\uDFFF\uFFFE\uFFFF]/;

/**
 * Removes characters that no output can carry: XML-illegal ones and C1 controls (U+0085, NEXT
 * LINE, becomes a line break).
 */
export function cleanText(text: string): string {
  if (!MAYBE_UNSHOWABLE.test(text)) return text;
  return text.replace(UNSHOWABLE, '').replace(/\u0085/g, '\n');
}

/** Sanitizes source HTML down to safe formatting and links. */
export function sanitizeDescriptionHtml(html: string): string {
  return sanitizeHtml(cleanText(html), SANITIZE_OPTIONS).trim();
}

/** Renders Markdown (which may embed HTML) to sanitized HTML. */
export function markdownToSafeHtml(source: string): string {
  return sanitizeDescriptionHtml(markdown.render(cleanText(source)));
}

// Compiled once: html-to-text's convert() rebuilds its selector tree on every call.
const convertHtml = compile({
  wordwrap: false,
  selectors: [
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true, linkBrackets: ['(', ')'] } },
    { selector: 'img', format: 'skip' },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
  ],
});

/** Plain text of an HTML fragment, keeping paragraphs and list items apart. */
export function htmlToPlainText(html: string): string {
  return cleanText(convertHtml(html)).trim();
}

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** Escapes plain text for HTML and keeps its paragraphs and line breaks. */
export function plainTextToHtml(text: string): string {
  return escapeHtml(cleanText(text))
    .split(/\n{2,}/)
    .map((paragraph) => paragraph.trim())
    .filter((paragraph) => paragraph.length > 0)
    .map((paragraph) => `<p>${paragraph.replace(/\n/g, '<br>')}</p>`)
    .join('');
}

export type DescriptionFormat = 'html' | 'markdown' | 'text';

/** The most source text of a description that is converted; the rest is cut (64 KiB). */
export const MAX_DESCRIPTION_SOURCE = 65_536;
/** The deepest element nesting kept as markup; deeper sources are kept as plain text. */
export const MAX_DESCRIPTION_NESTING = 50;

/** A description as stored, and what its limits cut from the source. */
export interface Description {
  text: string | null;
  html: string | null;
  /** Why the source was shortened or flattened; empty when it was kept whole. */
  cut: string[];
}

// Senders repeat descriptions (nightly syncs, bursts of updates to one event); converting one
// costs far more than looking it up.
const described = new Map<string, Description>();
const DESCRIBED_MAX = 5000;

/** Both forms of a description from what the source gives, within the size and nesting limits. */
export function describe(
  source: string | null | undefined,
  format: DescriptionFormat,
): Description {
  if (source === null || source === undefined || source.trim() === '') {
    return { text: null, html: null, cut: [] };
  }
  const cut: string[] = [];
  // Markup is judged on at most four times the limit, so that a flattened source still gives
  // its text; every step below is linear in that.
  let bounded = source;
  if (bounded.length > 4 * MAX_DESCRIPTION_SOURCE) {
    bounded = bounded.slice(0, 4 * MAX_DESCRIPTION_SOURCE);
    cut.push(`description: ${source.length} characters, cut to ${bounded.length} before reading`);
  }
  let effective = format;
  if (
    format !== 'text' &&
    markupDepth(bounded, MAX_DESCRIPTION_NESTING) > MAX_DESCRIPTION_NESTING
  ) {
    // The sanitizer's cost grows much faster than the input with nesting: such a source is
    // kept as its text only, with the markup removed by a linear scan.
    bounded = bounded.replace(TAG, ' ').replace(/[ \t]{2,}/g, ' ');
    effective = 'text';
    cut.push(`description: markup nested deeper than ${MAX_DESCRIPTION_NESTING}, kept as text`);
  }
  if (bounded.length > MAX_DESCRIPTION_SOURCE) {
    // Never split a surrogate pair: the half left would be removed as XML-illegal anyway.
    const end = /[\uD800-\uDBFF]/.test(bounded.charAt(MAX_DESCRIPTION_SOURCE - 1))
      ? MAX_DESCRIPTION_SOURCE - 1
      : MAX_DESCRIPTION_SOURCE;
    bounded = bounded.slice(0, end);
    cut.push(`description: ${bounded.length} characters, cut to ${end}`);
  }
  const key = `${effective}\u0000${bounded}`;
  const known = described.get(key);
  if (known) return cut.length === 0 ? known : { ...known, cut };
  const result = { ...convertDescription(bounded, effective), cut: [] };
  if (described.size >= DESCRIBED_MAX) described.delete(described.keys().next().value as string);
  described.set(key, result);
  return cut.length === 0 ? result : { ...result, cut };
}

const TAG = /<\/?([A-Za-z][A-Za-z0-9-]*)\b[^<>]*>/g;
// Elements that never hold others, and those whose end tag browsers (and the parser) imply
// when a sibling opens: neither deepens the tree.
const NOT_NESTING = new Set([
  'br',
  'hr',
  'img',
  'input',
  'meta',
  'link',
  'wbr',
  'col',
  'area',
  'base',
  'source',
  'track',
  'embed',
  'param',
  'p',
  'li',
  'dt',
  'dd',
  'option',
  'tr',
  'td',
  'th',
]);

/**
 * How deep the source's tags nest, counted in one pass over its tags (stopping once past
 * `limit`). An approximation that never undercounts a real nesting: unmatched end tags only
 * lower the count, and elements with implied ends are not counted.
 */
function markupDepth(source: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  for (const match of source.matchAll(TAG)) {
    const name = (match[1] as string).toLowerCase();
    if (NOT_NESTING.has(name) || match[0].endsWith('/>')) continue;
    if (match[0].startsWith('</')) {
      depth = Math.max(0, depth - 1);
      continue;
    }
    depth += 1;
    if (depth > deepest) {
      deepest = depth;
      if (deepest > limit) return deepest;
    }
  }
  return deepest;
}

function convertDescription(
  source: string,
  format: DescriptionFormat,
): { text: string | null; html: string | null } {
  const html =
    format === 'html'
      ? sanitizeDescriptionHtml(source)
      : format === 'markdown'
        ? markdownToSafeHtml(source)
        : plainTextToHtml(source);
  const text = format === 'text' ? cleanText(source).trim() : htmlToPlainText(html);
  // Markup can outgrow its source many times over; past this size only the text is kept.
  return { text: text || null, html: html && html.length <= MAX_DESCRIPTION_HTML ? html : null };
}

const MAX_DESCRIPTION_HTML = 200_000;
