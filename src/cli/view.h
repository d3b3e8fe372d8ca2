/* view.h - what `baton run` shows while a run goes on.
 *
 *  - VIEW_LIVE (a terminal): one line per task with a status mark, elapsed time, cost and a
 *    spinner, redrawn in place ~10 times a second; big runs show a progress bar, the running tasks
 *    and the latest finished ones instead of every line.
 *  - VIEW_LOG (not a terminal): one plain line per notable event, nothing redrawn.
 *  - VIEW_QUIET (--json): nothing until the end.
 * Colour only when the view's stream is a terminal and NO_COLOR is unset.
 *
 * Ownership: the caller owns the view (view_new) and frees it with view_free, which draws the
 * last frame and closes the redraw timer: the memory goes once the loop has run that close, so
 * run the loop after view_free. loop and out are borrowed for the view's life (never closed
 * here). The attached run is borrowed too: view_free must come before the engine frees the run,
 * because the last frame reads its state. view_on_event's data is borrowed for the call.
 * Threading: the loop thread only (the engine calls view_on_event there, the timer fires there). */
#ifndef BATON_CLI_VIEW_H
#define BATON_CLI_VIEW_H

#include "engine/engine.h"

#include <stdio.h>

typedef enum { VIEW_QUIET, VIEW_LOG, VIEW_LIVE } view_mode_t;
typedef struct view view_t;

view_t *view_new(uv_loop_t *loop, FILE *out, view_mode_t mode, bool color);
void view_attach(view_t *v, engine_run_t *run);
/* engine observer (engine_event_fn) */
void view_on_event(void *ud, engine_run_t *run, uint64_t seq, int64_t ts, const char *type,
                   const json_t *data);
/* Draws the final frame and stops redrawing (before a prompt, or at the end). */
void view_pause(view_t *v);
void view_resume(view_t *v);
void view_free(view_t *v);

/* "1.2s", "3m04s" */
void view_format_duration(char *buf, size_t len, int64_t ms);

#endif
