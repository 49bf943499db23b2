"""Reads an RSS or Atom document from standard input with feedparser (Debian's
python3-feedparser) and prints, for each entry, one JSON line: its title as feedparser reads it
and the feed's self link."""
import json
import sys

import feedparser

feed = feedparser.parse(sys.stdin.buffer.read())
if feed.bozo:
    raise SystemExit('feedparser: ' + str(feed.bozo_exception))
self_links = [link.get('href') for link in feed.feed.get('links', []) if link.get('rel') == 'self']
for entry in feed.entries:
    print(json.dumps({'title': entry.get('title'), 'self': self_links[0] if self_links else None}))
