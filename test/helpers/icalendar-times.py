"""Reads an iCalendar file with Python icalendar and prints, for each VEVENT,
"UID<TAB>start<TAB>end" as UTC epoch seconds. Zoned times are converted through the file's
own VTIMEZONE (Timezone.to_tz), never through pytz's table; a wall time the VTIMEZONE makes
ambiguous or nonexistent is an error."""
import sys
from datetime import timezone

from icalendar import Calendar

with open(sys.argv[1], 'rb') as file:
    calendar = Calendar.from_ical(file.read())

zones = {str(vtimezone['TZID']): vtimezone.to_tz() for vtimezone in calendar.walk('VTIMEZONE')}


def epoch(prop):
    value = prop.dt
    tzid = prop.params.get('TZID')
    if tzid is not None:
        aware = zones[str(tzid)].localize(value.replace(tzinfo=None), is_dst=None)
    elif value.tzinfo is not None and value.utcoffset().total_seconds() == 0:
        aware = value.astimezone(timezone.utc)
    else:
        raise SystemExit('floating time in ' + str(prop.to_ical()))
    return int(aware.timestamp())


for event in calendar.walk('VEVENT'):
    print('%s\t%d\t%d' % (event['UID'], epoch(event['DTSTART']), epoch(event['DTEND'])))
