/*
 * Reads an iCalendar file with libical and prints, for each VEVENT, "UID<TAB>start<TAB>end"
 * as UTC epoch seconds. Zoned times are converted through the file's own VTIMEZONE (never
 * libical's built-in zone table); a TZID without a VTIMEZONE is an error.
 */
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>

static char *read_file(const char *path) {
  FILE *file = fopen(path, "rb");
  if (file == NULL) return NULL;
  fseek(file, 0, SEEK_END);
  long size = ftell(file);
  fseek(file, 0, SEEK_SET);
  char *text = malloc((size_t)size + 1);
  if (text == NULL || fread(text, 1, (size_t)size, file) != (size_t)size) return NULL;
  text[size] = '\0';
  fclose(file);
  return text;
}

static int epoch(icalcomponent *calendar, icalproperty *property, long long *out) {
  struct icaltimetype time = icalvalue_get_datetime(icalproperty_get_value(property));
  icalparameter *tzid = icalproperty_get_first_parameter(property, ICAL_TZID_PARAMETER);
  icaltimezone *zone;
  if (tzid != NULL) {
    zone = icalcomponent_get_timezone(calendar, icalparameter_get_tzid(tzid));
    if (zone == NULL) return 0;
  } else if (icaltime_is_utc(time)) {
    zone = icaltimezone_get_utc_timezone();
  } else {
    return 0;
  }
  *out = (long long)icaltime_as_timet_with_zone(time, zone);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  char *text = read_file(argv[1]);
  if (text == NULL) return 2;
  icalcomponent *calendar = icalparser_parse_string(text);
  if (calendar == NULL) return 3;
  for (icalcomponent *event = icalcomponent_get_first_component(calendar, ICAL_VEVENT_COMPONENT);
       event != NULL;
       event = icalcomponent_get_next_component(calendar, ICAL_VEVENT_COMPONENT)) {
    icalproperty *start = icalcomponent_get_first_property(event, ICAL_DTSTART_PROPERTY);
    icalproperty *end = icalcomponent_get_first_property(event, ICAL_DTEND_PROPERTY);
    long long start_at = 0, end_at = 0;
    if (start == NULL || end == NULL || !epoch(calendar, start, &start_at) ||
        !epoch(calendar, end, &end_at)) {
      fprintf(stderr, "no start or end for %s\n", icalcomponent_get_uid(event));
      return 4;
    }
    printf("%s\t%lld\t%lld\n", icalcomponent_get_uid(event), start_at, end_at);
  }
  return 0;
}
