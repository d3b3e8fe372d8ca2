/* view.c - the terminal view of a run (see view.h). */
#include "cli/view.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct view {
    uv_loop_t *loop;
    FILE *out;
    view_mode_t mode;
    bool color;
    engine_run_t *run;
    uv_timer_t tick;
    bool ticking;
    unsigned frame;
    int lines_drawn;
    int64_t t0;
};

#define C(v, code) ((v)->color ? (code) : "")
#define RESET      "\033[0m"
#define DIM        "\033[2m"
#define BOLD       "\033[1m"
#define RED        "\033[31m"
#define GREEN      "\033[32m"
#define YELLOW     "\033[33m"
#define CYAN       "\033[36m"

void view_format_duration(char *buf, size_t len, int64_t ms) {
    if (ms < 0) ms = 0;
    if (ms < 60000)
        snprintf(buf, len, "%.1fs", (double)ms / 1000.0);
    else
        snprintf(buf, len, "%lldm%02llds", (long long)(ms / 60000), (long long)(ms / 1000 % 60));
}

static const char *const spinner[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};

static const char *mark(const view_t *v, task_status_t st) {
    switch (st) {
    case TS_COMPLETED:
        return "✓";
    case TS_FAILED:
        return "✗";
    case TS_SKIPPED:
        return "↷";
    case TS_CANCELLED:
        return "■";
    case TS_WAITING_HUMAN:
        return "?";
    case TS_RETRYING:
        return "↻";
    case TS_RUNNING:
        return spinner[v->frame % 10];
    default:
        return "·";
    }
}

static const char *tone(const view_t *v, task_status_t st) {
    switch (st) {
    case TS_COMPLETED:
        return C(v, GREEN);
    case TS_FAILED:
        return C(v, RED);
    case TS_WAITING_HUMAN:
    case TS_RETRYING:
        return C(v, YELLOW);
    case TS_RUNNING:
        return C(v, CYAN);
    default:
        return C(v, DIM);
    }
}

static void task_line(view_t *v, strbuf_t *sb, uint32_t i, int idw) {
    const run_state_t *s = engine_run_state(v->run);
    const task_state_t *t = &s->tasks[i];
    const wf_task_t *wt = &engine_run_workflow(v->run)->tasks[i];
    char dur[32] = "";
    if (t->started_ms) {
        int64_t end = t->finished_ms ? t->finished_ms : engine_now_ms();
        view_format_duration(dur, sizeof dur, end - t->started_ms);
    }
    sb_printf(sb, "  %s%s%s %-*s %s%-13s%s %7s  $%.4f", tone(v, t->status), mark(v, t->status),
              C(v, RESET), idw, wt->id, tone(v, t->status), task_status_name(t->status),
              C(v, RESET), dur, t->cost_usd);
    if (t->attempt > 1) sb_printf(sb, "  attempt %d", t->attempt);
    if ((t->status == TS_FAILED || t->status == TS_RETRYING || t->status == TS_SKIPPED) &&
        t->error) {
        char short_err[72];
        snprintf(short_err, sizeof short_err, "%s", t->error);
        sb_printf(sb, "  %s%s%s", C(v, DIM), short_err, C(v, RESET));
    }
    sb_putc(sb, '\n');
}

static int term_rows(void) {
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 6) return ws.ws_row;
    return 24;
}

static void draw(view_t *v) {
    if (v->mode != VIEW_LIVE || !v->run) return;
    const run_state_t *s = engine_run_state(v->run);
    const workflow_t *wf = engine_run_workflow(v->run);
    strbuf_t sb = {0};
    if (v->lines_drawn) sb_printf(&sb, "\033[%dA", v->lines_drawn);
    char dur[32];
    view_format_duration(dur, sizeof dur, engine_now_ms() - v->t0);
    sb_printf(&sb, "\033[2K%s%s%s  %s  %s  %s  $%.4f  %u/%zu done\n", C(v, BOLD), wf->name,
              C(v, RESET), engine_run_id(v->run), run_status_name(state_run_status(s)), dur,
              s->cost_usd, s->n_finished, wf->n_tasks);
    int lines = 1;
    int idw = 8;
    for (size_t i = 0; i < wf->n_tasks && i < 200; i++) {
        int l = (int)strlen(wf->tasks[i].id);
        if (l > idw) idw = l > 32 ? 32 : l;
    }
    int room = term_rows() - 3;
    if ((int)wf->n_tasks <= room) {
        for (uint32_t i = 0; i < wf->n_tasks; i++, lines++) {
            sb_puts(&sb, "\033[2K");
            task_line(v, &sb, i, idw);
        }
    } else {
        /* Too many to list: a bar, then what is happening now. */
        int width = 40, filled = (int)((double)s->n_finished / (double)wf->n_tasks * width);
        sb_puts(&sb, "\033[2K  [");
        for (int k = 0; k < width; k++) sb_puts(&sb, k < filled ? "█" : "░");
        sb_printf(&sb, "]  %u running, %u waiting\n", s->n_running, s->n_waiting);
        lines++;
        for (uint32_t i = 0; i < wf->n_tasks && lines < room; i++) {
            task_status_t st = s->tasks[i].status;
            if (st != TS_RUNNING && st != TS_WAITING_HUMAN && st != TS_RETRYING && st != TS_FAILED)
                continue;
            sb_puts(&sb, "\033[2K");
            task_line(v, &sb, i, idw);
            lines++;
        }
    }
    /* Clear lines left over from a taller previous frame. */
    for (int k = lines; k < v->lines_drawn; k++) sb_puts(&sb, "\033[2K\n");
    if (v->lines_drawn > lines) sb_printf(&sb, "\033[%dA", v->lines_drawn - lines);
    v->lines_drawn = lines;
    fputs(sb_str(&sb), v->out);
    fflush(v->out);
    sb_free(&sb);
}

static void tick_cb(uv_timer_t *h) {
    view_t *v = h->data;
    v->frame++;
    draw(v);
}

view_t *view_new(uv_loop_t *loop, FILE *out, view_mode_t mode, bool color) {
    view_t *v = xcalloc(1, sizeof *v);
    v->loop = loop;
    v->out = out;
    v->mode = mode;
    v->color = color;
    v->t0 = engine_now_ms();
    uv_timer_init(loop, &v->tick);
    v->tick.data = v;
    /* The spinner must not keep the loop alive: the run decides when the loop is done. */
    uv_unref((uv_handle_t *)&v->tick);
    return v;
}

void view_attach(view_t *v, engine_run_t *run) {
    v->run = run;
    view_resume(v);
}

void view_resume(view_t *v) {
    if (v->mode != VIEW_LIVE || v->ticking) return;
    v->lines_drawn = 0;
    v->ticking = true;
    uv_timer_start(&v->tick, tick_cb, 0, 100);
}

void view_pause(view_t *v) {
    /* Only a running view has a frame to finish; pausing twice must not draw twice (the
     * second frame would land below whatever was printed in between). */
    if (v->mode != VIEW_LIVE || !v->ticking) return;
    draw(v);
    uv_timer_stop(&v->tick);
    v->ticking = false;
}

static void log_line(view_t *v, const run_state_t *s, const char *task, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void log_line(view_t *v, const run_state_t *s, const char *task, const char *fmt, ...) {
    (void)s;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(v->out, "[%8.2fs] %-24s %s\n", (double)(engine_now_ms() - v->t0) / 1000.0,
            task ? task : "", msg);
}

void view_on_event(void *ud, engine_run_t *run, uint64_t seq, int64_t ts, const char *type,
                   const json_t *data) {
    view_t *v = ud;
    (void)seq;
    if (v->mode == VIEW_LIVE) return; /* the live view redraws from state on its tick */
    if (v->mode != VIEW_LOG) return;
    const run_state_t *s = engine_run_state(run);
    const char *task = json_string_value(json_object_get(data, "task"));
    const char *err = json_string_value(json_object_get(data, "error"));
    if (!strcmp(type, "run.started"))
        log_line(v, s, NULL, "run %s started", engine_run_id(run));
    else if (!strcmp(type, "task.started"))
        log_line(v, s, task, "started (attempt %lld)",
                 json_integer_value(json_object_get(data, "attempt")));
    else if (!strcmp(type, "task.completed"))
        log_line(v, s, task, "completed  $%.4f",
                 json_number_value(json_object_get(data, "cost_usd")));
    else if (!strcmp(type, "task.failed"))
        log_line(v, s, task, "%s: %s",
                 json_object_get(data, "retry_in_ms") ? "will retry" : "failed", err ? err : "?");
    else if (!strcmp(type, "task.skipped"))
        log_line(v, s, task, "skipped (%s)", json_string_value(json_object_get(data, "reason")));
    else if (!strcmp(type, "task.iterated"))
        log_line(v, s, task, "iteration %lld done, running again",
                 json_integer_value(json_object_get(data, "iteration")));
    else if (!strcmp(type, "approval.requested"))
        log_line(v, s, task, "waiting for a human: %s",
                 json_string_value(json_object_get(data, "title")));
    else if (!strcmp(type, "approval.responded"))
        log_line(v, s, task, "answered: %s", json_string_value(json_object_get(data, "decision")));
    else if (!strcmp(type, "artifact.written"))
        log_line(v, s, task, "wrote %s", json_string_value(json_object_get(data, "path")));
    else if (!strcmp(type, "tool.result"))
        log_line(v, s, task, "tool %s %s (%lld ms)",
                 json_string_value(json_object_get(data, "name")),
                 json_is_true(json_object_get(data, "is_error")) ? "returned an error" : "returned",
                 json_integer_value(json_object_get(data, "ms")));
    else if (!strcmp(type, "budget.exceeded"))
        log_line(v, s, task, "%s", json_string_value(json_object_get(data, "message")));
    else if (!strncmp(type, "run.", 4) && strcmp(type, "run.created"))
        log_line(v, s, NULL, "run %s%s%s", type + 4, err ? ": " : "", err ? err : "");
    fflush(v->out);
}

static void tick_closed(uv_handle_t *h) { free(h->data); }

void view_free(view_t *v) {
    if (!v) return;
    view_pause(v);
    uv_close((uv_handle_t *)&v->tick, tick_closed);
}
