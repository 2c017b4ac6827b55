/* Reads each file named on the command line, parses it with libical and touches every VEVENT's
   DTSTART/DTEND/UID (what a sync needs), counting events. */
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  long events = 0;
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "rb");
    if (!f) { perror(argv[i]); return 1; }
    fseek(f, 0, SEEK_END); long n = ftell(f); fseek(f, 0, SEEK_SET);
    char *buf = malloc(n + 1);
    if (fread(buf, 1, n, f) != (size_t)n) { perror(argv[i]); return 1; }
    buf[n] = 0; fclose(f);
    icalcomponent *cal = icalparser_parse_string(buf);
    free(buf);
    if (!cal) { fprintf(stderr, "%s: not parsed\n", argv[i]); continue; }
    for (icalcomponent *e = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); e;
         e = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
      struct icaltimetype s = icalcomponent_get_dtstart(e), t = icalcomponent_get_dtend(e);
      const char *uid = icalcomponent_get_uid(e);
      if (uid && s.year + t.year > 0) events++;
    }
    icalcomponent_free(cal);
  }
  printf("%ld\n", events);
  return 0;
}
