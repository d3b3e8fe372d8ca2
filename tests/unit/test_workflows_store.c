/* test_workflows_store.c - store/workflows: stored workflows keep every version as it was sent
 * (the same bytes again make no new one), a deleted workflow reads as missing everywhere, cursor
 * pages visit each workflow once, the data outlives the store that wrote it, and definitions are
 * written safely while the journal writer thread commits a batch on the main connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/store.h"
#include "store/writer.h"
#include "util/xalloc.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "tmp_db.h" /* dir, db, setup, teardown */

static store_t *open_store(void) {
    char *err = NULL;
    store_t *st = store_open(db, STORE_DURABILITY_NORMAL, &err);
    if (!st) fail_msg("store_open: %s", err);
    return st;
}

static store_wf_source_t yaml(const char *name, const char *text) {
    return (store_wf_source_t){
        .name = name, .text = text, .len = strlen(text), .format = STORE_WF_YAML};
}

static char *create(store_t *st, const char *name, const char *text) {
    char *id = NULL, *err = NULL;
    store_wf_source_t src = yaml(name, text);
    if (store_workflow_create(st, &src, &id, &err) != 0) fail_msg("create: %s", err);
    return id;
}

static const char *field(const json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}
static json_int_t num(const json_t *o, const char *k) {
    return json_integer_value(json_object_get(o, k));
}

static void versions_are_kept(void **state) {
    (void)state;
    store_t *st = open_store();
    char *id = create(st, "One", "name: One\n"), *err = NULL;
    assert_int_equal(strncmp(id, "wf-", 3), 0);
    assert_int_equal(strlen(id), 18);
    json_t *wf;
    assert_int_equal(store_workflow_get(st, id, true, &wf, &err), 0);
    assert_string_equal(field(wf, "source"), "name: One\n");
    assert_string_equal(field(wf, "format"), "yaml");
    assert_int_equal(num(wf, "version"), 1);
    assert_int_equal(json_array_size(json_object_get(wf, "versions")), 1);
    json_decref(wf);

    int64_t v;
    bool changed;
    store_wf_source_t same = yaml("One", "name: One\n"), next = yaml("Two", "name: Two\n");
    assert_int_equal(store_workflow_update(st, id, &same, &v, &changed, &err), 0);
    assert_int_equal(v, 1);
    assert_false(changed);
    assert_int_equal(store_workflow_update(st, id, &next, &v, &changed, &err), 0);
    assert_int_equal(v, 2);
    assert_true(changed);

    assert_int_equal(store_workflow_get(st, id, false, &wf, &err), 0);
    assert_string_equal(field(wf, "name"), "Two");
    assert_null(json_object_get(wf, "source"));
    assert_int_equal(json_array_size(json_object_get(wf, "versions")), 2);
    json_decref(wf);
    assert_int_equal(store_workflow_version(st, id, 1, &wf, &err), 0);
    assert_string_equal(field(wf, "source"), "name: One\n");
    json_decref(wf);
    assert_int_equal(store_workflow_version(st, id, 0, &wf, &err), 0);
    assert_int_equal(num(wf, "version"), 2);
    json_decref(wf);

    assert_int_equal(store_workflow_version(st, id, 3, &wf, &err), STORE_NOT_FOUND);
    assert_non_null(strstr(err, "has no version 3"));
    free(err);
    err = NULL;
    assert_int_equal(store_workflow_version(st, "wf-nope", 1, &wf, &err), STORE_NOT_FOUND);
    assert_string_equal(err, "no workflow 'wf-nope'");
    free(err);
    err = NULL;
    assert_int_equal(store_workflow_update(st, "wf-nope", &next, &v, &changed, &err),
                     STORE_NOT_FOUND);
    free(err);
    free(id);
    store_close(st);
}

static void deleted_reads_as_missing(void **state) {
    (void)state;
    store_t *st = open_store();
    char *id = create(st, "Gone", "name: Gone\n"), *err = NULL;
    assert_int_equal(store_workflow_delete(st, id, &err), 0);
    json_t *wf;
    int64_t v;
    bool changed;
    store_wf_source_t src = yaml("Back", "name: Back\n");
    assert_int_equal(store_workflow_get(st, id, true, &wf, &err), STORE_NOT_FOUND);
    free(err);
    assert_int_equal(store_workflow_version(st, id, 1, &wf, &err), STORE_NOT_FOUND);
    free(err);
    assert_int_equal(store_workflow_update(st, id, &src, &v, &changed, &err), STORE_NOT_FOUND);
    free(err);
    assert_int_equal(store_workflow_delete(st, id, &err), STORE_NOT_FOUND);
    free(err);
    json_t *page = store_workflows_page(st, NULL, 100, &err);
    size_t i;
    json_t *row;
    json_array_foreach(page, i, row) assert_string_not_equal(field(row, "id"), id);
    json_decref(page);
    free(id);
    store_close(st);
}

static void pages_visit_each_once(void **state) {
    (void)state;
    store_t *st = open_store();
    char *err = NULL;
    json_t *before = store_workflows_page(st, NULL, 1000, &err);
    size_t had = json_array_size(before);
    json_decref(before);
    for (int k = 0; k < 7; k++) free(create(st, "Paged", "name: Paged\n"));
    json_t *seen = json_array();
    char *cursor = NULL;
    for (;;) {
        json_t *page = store_workflows_page(st, cursor, 3, &err);
        assert_non_null(page);
        size_t i;
        json_t *row;
        json_array_foreach(page, i, row) {
            if (json_array_size(seen))
                assert_true(strcmp(field(json_array_get(seen, json_array_size(seen) - 1), "id"),
                                   field(row, "id")) > 0); /* newest first, no repeats */
            json_array_append(seen, row);
        }
        free(cursor);
        cursor = json_array_size(page) == 3 ? xstrdup(field(json_array_get(page, 2), "id")) : NULL;
        json_decref(page);
        if (!cursor) break;
    }
    assert_int_equal(json_array_size(seen), had + 7);
    json_decref(seen);
    store_close(st);
}

static void survives_reopening(void **state) {
    (void)state;
    store_t *st = open_store();
    char *id = create(st, "Kept", "name: Kept\n"), *err = NULL;
    store_close(st);
    st = open_store();
    json_t *wf;
    assert_int_equal(store_workflow_get(st, id, true, &wf, &err), 0);
    assert_string_equal(field(wf, "source"), "name: Kept\n");
    json_decref(wf);
    free(id);
    store_close(st);
}

static void committed(void *ud, uint64_t ticket, const char *err) {
    (void)ticket;
    if (err) fail_msg("journal batch: %s", err);
    (*(int *)ud)++;
}

/* A batch big enough to go to the writer thread, and definitions written while it commits. */
static void written_beside_the_journal_writer(void **state) {
    (void)state;
    store_t *st = open_store();
    uv_loop_t loop;
    uv_loop_init(&loop);
    int done = 0;
    store_writer_t *w = store_writer_start(st, &loop, committed, &done);
    json_t *data = json_pack("{s:s}", "note", "a line of journal that takes some room to write");
    for (uint64_t seq = 1; seq <= 20000; seq++)
        store_append(st, "r-writer", seq, 1, "test.note", data);
    json_decref(data);
    char *err = NULL;
    assert_true(store_writer_submit(w, &err) > 0); /* handed to the thread */
    char *ids[20];
    for (int k = 0; k < 20; k++) ids[k] = create(st, "Beside", "name: Beside\n");
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(done, 1);
    assert_int_equal(store_last_seq(st, "r-writer"), 20000);
    for (int k = 0; k < 20; k++) {
        json_t *wf;
        assert_int_equal(store_workflow_get(st, ids[k], false, &wf, &err), 0);
        json_decref(wf);
        free(ids[k]);
    }
    store_writer_stop(w);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    store_close(st);
}

int main(void) {
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(versions_are_kept),
        cmocka_unit_test(deleted_reads_as_missing),
        cmocka_unit_test(pages_visit_each_once),
        cmocka_unit_test(survives_reopening),
        cmocka_unit_test(written_beside_the_journal_writer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
