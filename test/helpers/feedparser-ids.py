"""Reads an RSS or Atom document from standard input with feedparser (Debian's
python3-feedparser) and prints, for each entry, one JSON line: its id as feedparser reads it,
its link, and whether feedparser took the id for a permalink (RSS guid isPermaLink)."""
import json
import sys

import feedparser

feed = feedparser.parse(sys.stdin.buffer.read())
if feed.bozo:
    raise SystemExit('feedparser: ' + str(feed.bozo_exception))
for entry in feed.entries:
    print(json.dumps({
        'id': entry.get('id'),
        'link': entry.get('link'),
        'guidislink': bool(entry.get('guidislink', False)),
    }))
