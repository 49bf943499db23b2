import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { isNotModified, negotiateEncoding, prepareResponse } from '../../src/http/send-cached.js';

const entry = prepareResponse({
  body: Buffer.from('BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n'),
  contentType: 'text/calendar; charset=utf-8',
  lastModified: new Date('2026-11-22T12:00:00.750Z'),
  expiresAt: null,
});

const request = (headers: Record<string, string>) => ({ headers }) as unknown as Request;

describe('negotiateEncoding', () => {
  it.each([
    [undefined, null],
    ['', null],
    ['identity', null],
    ['gzip', 'gzip'],
    ['gzip, deflate, br', 'br'],
    ['br, gzip', 'br'],
    ['gzip;q=1, br;q=0', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['gzip;q=0.5, br;q=0.8', 'br'],
    ['br;q=0.5, gzip;q=0.8', 'gzip'],
    ['gzip;q=0.5, identity', null],
    ['gzip;q=0, br;q=0', null],
    ['*', 'br'],
    ['*;q=0.5, br;q=0', 'gzip'],
    ['deflate', null],
    ['GZIP', 'gzip'],
  ] as const)('%j gives %s', (header, expected) => {
    expect(negotiateEncoding(header)).toBe(expected);
  });
});

describe('prepareResponse', () => {
  it('gives a strong ETag of the bytes and a Last-Modified rounded down to the second', () => {
    expect(entry.etag).toMatch(/^"[\w-]{32}"$/);
    expect(entry.lastModifiedHeader).toBe('Sun, 22 Nov 2026 12:00:00 GMT');
    expect(entry.lastModified).toEqual(new Date('2026-11-22T12:00:00.000Z'));
  });
});

describe('isNotModified', () => {
  const tag = entry.etag;
  const encodedTag = (encoding: string) => `${tag.slice(0, -1)}-${encoding}"`;

  it('is false for a request without validators', () => {
    expect(isNotModified(request({}), entry)).toBe(false);
  });

  it.each([
    ['its own tag', () => tag, true],
    ['the weak form of its tag', () => `W/${tag}`, true],
    ['a list holding its tag', () => `"a", ${tag}, "b"`, true],
    ['a list holding its weak tag', () => `"a",W/${tag}`, true],
    ['the tag of a compressed form', () => encodedTag('br'), true],
    ['the weak tag of a compressed form', () => `W/${encodedTag('gzip')}`, true],
    ['*', () => '*', true],
    ['another tag', () => '"other"', false],
    ['a list of other tags', () => '"a", W/"b"', false],
    ['its tag unquoted', () => tag.slice(1, -1), false],
  ])('with If-None-Match: %s is %s', (_name, header, expected) => {
    expect(isNotModified(request({ 'if-none-match': header() }), entry)).toBe(expected);
  });

  it('lets If-None-Match decide over If-Modified-Since', () => {
    expect(
      isNotModified(
        request({ 'if-none-match': '"other"', 'if-modified-since': entry.lastModifiedHeader }),
        entry,
      ),
    ).toBe(false);
  });

  it('compares If-Modified-Since with Last-Modified', () => {
    const at = (date: string) => isNotModified(request({ 'if-modified-since': date }), entry);
    expect(at(entry.lastModifiedHeader)).toBe(true);
    expect(at('Sun, 22 Nov 2026 13:00:00 GMT')).toBe(true);
    expect(at('Sun, 22 Nov 2026 11:59:59 GMT')).toBe(false);
    expect(at('not a date')).toBe(false);
  });

  it('answers 304 to a conditional request with Cache-Control: no-cache, as an origin may', () => {
    expect(
      isNotModified(request({ 'if-none-match': tag, 'cache-control': 'no-cache' }), entry),
    ).toBe(true);
  });
});
