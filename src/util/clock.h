/* clock.h - the wall clock every timestamp Baton writes uses (journal, logs, cache ages). */
#ifndef BATON_UTIL_CLOCK_H
#define BATON_UTIL_CLOCK_H

#include <stdint.h>

/* Milliseconds since the Unix epoch. */
int64_t clock_now_ms(void);
/* The same with a fraction (for durations under a millisecond in logs). */
double clock_now_ms_f(void);
/* Local midnight of today, in milliseconds since the epoch: where "today" starts for daily
 * limits and spend reports. */
int64_t clock_today_start_ms(void);

#endif
