import ICAL from 'ical.js';
import { SaxesParser } from 'saxes';

/**
 * Independent checks on Marquee's outputs: a strict XML parse, an iCalendar parse, and an HTML
 * scan that follows the HTML tokenizer's rules for tags, attributes and raw-text elements, so
 * it sees what a browser would execute (not what the sanitizer thinks it wrote).
 */

export interface XmlNode {
  name: string;
  attributes: Record<string, string>;
  children: XmlNode[];
  /** Text and CDATA content directly inside this element, decoded. */
  text: string;
}

/** Parses XML strictly (namespace-aware); throws on any well-formedness error. */
export function parseXmlStrict(xml: string): XmlNode {
  const parser = new SaxesParser({ xmlns: true });
  const stack: XmlNode[] = [];
  let root: XmlNode | undefined;
  parser.on('error', (error) => {
    throw error;
  });
  parser.on('opentag', (tag) => {
    const attributes: Record<string, string> = {};
    for (const attribute of Object.values(tag.attributes))
      attributes[attribute.name] = attribute.value;
    const node: XmlNode = { name: tag.name, attributes, children: [], text: '' };
    stack.at(-1)?.children.push(node);
    root ??= node;
    stack.push(node);
  });
  parser.on('closetag', () => stack.pop());
  const onText = (text: string) => {
    const current = stack.at(-1);
    if (current) current.text += text;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.write(xml).close();
  if (!root) throw new Error('xml: no root element');
  return root;
}

/** Every node of a tree, depth first. */
export function xmlNodes(root: XmlNode): XmlNode[] {
  return [root, ...root.children.flatMap(xmlNodes)];
}

/** Parses an iCalendar text with ical.js; returns its VEVENTs. */
export function parseIcs(text: string): ICAL.Component[] {
  const calendar = new ICAL.Component(ICAL.parse(text));
  return calendar.getAllSubcomponents('vevent');
}

export interface HtmlTag {
  name: string;
  attributes: [string, string][];
  /** For raw-text elements (script, style, textarea, title): their content. */
  raw: string | null;
}

const RAW_TEXT = new Set([
  'script',
  'style',
  'textarea',
  'title',
  'xmp',
  'iframe',
  'noembed',
  'noframes',
  'noscript',
  'plaintext',
]);
const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  colon: ':',
  tab: '\t',
  newline: '\n',
  nbsp: '\u00a0',
};

/** Decodes character references in an attribute value (as a browser would before using it). */
export function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);?/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code =
        ref[1] === 'x' || ref[1] === 'X'
          ? Number.parseInt(ref.slice(2), 16)
          : Number.parseInt(ref.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

/** Start tags of an HTML document or fragment, per the HTML tokenizer (comments and raw text skipped). */
export function htmlTags(html: string): HtmlTag[] {
  const tags: HtmlTag[] = [];
  let index = 0;
  while (index < html.length) {
    const open = html.indexOf('<', index);
    if (open < 0) break;
    if (html.startsWith('<!--', open)) {
      const end = html.indexOf('-->', open + 4);
      index = end < 0 ? html.length : end + 3;
      continue;
    }
    const next = html[open + 1] ?? '';
    if (next === '!' || next === '?' || next === '/') {
      const end = html.indexOf('>', open + 1);
      index = end < 0 ? html.length : end + 1;
      continue;
    }
    if (!/[a-zA-Z]/.test(next)) {
      index = open + 1;
      continue;
    }
    let cursor = open + 1;
    let name = '';
    while (cursor < html.length && !/[\s/>]/.test(html[cursor] as string)) name += html[cursor++];
    name = name.toLowerCase();
    const attributes: [string, string][] = [];
    for (;;) {
      while (cursor < html.length && /[\s/]/.test(html[cursor] as string)) cursor += 1;
      if (cursor >= html.length || html[cursor] === '>') break;
      let attributeName = html[cursor++] as string;
      while (cursor < html.length && !/[\s/>=]/.test(html[cursor] as string))
        attributeName += html[cursor++];
      while (cursor < html.length && /\s/.test(html[cursor] as string)) cursor += 1;
      let value = '';
      if (html[cursor] === '=') {
        cursor += 1;
        while (cursor < html.length && /\s/.test(html[cursor] as string)) cursor += 1;
        const quote = html[cursor];
        if (quote === '"' || quote === "'") {
          const end = html.indexOf(quote, cursor + 1);
          value = html.slice(cursor + 1, end < 0 ? html.length : end);
          cursor = end < 0 ? html.length : end + 1;
        } else {
          while (cursor < html.length && !/[\s>]/.test(html[cursor] as string))
            value += html[cursor++];
        }
      }
      attributes.push([attributeName.toLowerCase(), decodeEntities(value)]);
    }
    index = cursor + 1;
    let raw: string | null = null;
    if (RAW_TEXT.has(name)) {
      const close = html.toLowerCase().indexOf(`</${name}`, index);
      raw = html.slice(index, close < 0 ? html.length : close);
      index = close < 0 ? html.length : close;
    }
    tags.push({ name, attributes, raw });
  }
  return tags;
}

const URL_ATTRIBUTES = new Set([
  'href',
  'src',
  'action',
  'formaction',
  'xlink:href',
  'poster',
  'data',
  'background',
  'srcset',
  'ping',
]);
const DANGEROUS_ELEMENTS = new Set([
  'iframe',
  'object',
  'embed',
  'frame',
  'frameset',
  'applet',
  'base',
  'meta',
  'form',
  'math',
]);

/**
 * Problems that would let content run code or leave the page in a browser: scripts other than
 * the app's own (`src` from its own assets) and JSON-LD, event-handler attributes, script URLs,
 * embedding elements. `allowed` names element names the caller expects (e.g. `meta` in a page head).
 */
export function unsafeHtml(html: string, options: { allowedElements?: string[] } = {}): string[] {
  const problems: string[] = [];
  const allowed = new Set(options.allowedElements ?? []);
  for (const tag of htmlTags(html)) {
    if (tag.name === 'script') {
      const type = tag.attributes.find(([name]) => name === 'type')?.[1];
      const src = tag.attributes.find(([name]) => name === 'src')?.[1];
      if (type === 'application/ld+json') {
        try {
          JSON.parse(tag.raw ?? '');
        } catch {
          problems.push(
            `a JSON-LD script that is not JSON (broken out of?): ${tag.raw?.slice(0, 80)}`,
          );
        }
      } else if (!(
        src !== undefined &&
        /^(\/|https:\/\/events\.example\.org\/)(assets|embed)/.test(src) &&
        (tag.raw ?? '').trim() === ''
      )) {
        problems.push(
          `a script element: <script ${JSON.stringify(tag.attributes)}>${tag.raw?.slice(0, 80)}`,
        );
      }
    }
    // <base target> (links open in a new window) is harmless; <base href> re-points every relative URL.
    const harmlessBase = tag.name === 'base' && !tag.attributes.some(([name]) => name === 'href');
    if (DANGEROUS_ELEMENTS.has(tag.name) && !allowed.has(tag.name) && !harmlessBase)
      problems.push(`a <${tag.name}> element`);
    for (const [name, value] of tag.attributes) {
      if (name.startsWith('on'))
        problems.push(
          `an event-handler attribute ${name}="${value.slice(0, 60)}" on <${tag.name}>`,
        );
      // eslint-disable-next-line no-control-regex
      const compact = value.replace(/[\u0000-\u0020]/g, '').toLowerCase();
      const urls = name === 'srcset' ? compact.split(',') : [compact];
      if (
        URL_ATTRIBUTES.has(name) &&
        urls.some((url) => /^(javascript:|vbscript:|data:text\/html|data:image\/svg)/.test(url))
      ) {
        problems.push(`a script URL in ${name}="${value.slice(0, 60)}" on <${tag.name}>`);
      }
      if (name === 'style' && /expression\(|javascript:|url\(\s*['"]?\s*javascript/i.test(value))
        problems.push(`script in a style attribute on <${tag.name}>`);
    }
  }
  return problems;
}
