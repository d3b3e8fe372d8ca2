/* test_yaml_pointer.c - JSON pointers over a YAML tree land on the key of a mapping member, the
 * item of a list, or the deepest node reached; ~0 and ~1 are decoded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/yaml_pointer.h"

#include <string.h>

static void at(const yt_node_t *root, const char *pointer, unsigned line, unsigned col) {
    src_loc_t l = yaml_pointer_loc(root, pointer);
    if (l.line != line || l.col != col)
        fail_msg("%s: got %u:%u, want %u:%u", pointer, l.line, l.col, line, col);
}

static void test_pointers(void **state) {
    (void)state;
    const char *text = "type: object\n"          /* 1 */
                       "properties:\n"           /* 2 */
                       "  a/b:\n"                /* 3 */
                       "    enum: [x, y]\n"      /* 4 */
                       "  t~n: {pattern: '('}\n" /* 5 */
                       "required:\n"             /* 6 */
                       "  - a/b\n";              /* 7 */
    yaml_tree_t t;
    diag_list_t dl = {0};
    assert_int_equal(yaml_tree_parse(&t, text, strlen(text), "s.yaml", &dl), 0);
    assert_int_equal(dl.n, 0);
    at(t.root, "", 1, 1);
    at(t.root, "/type", 1, 1);
    at(t.root, "/properties", 2, 1);
    at(t.root, "/properties/a~1b", 3, 3);
    at(t.root, "/properties/a~1b/enum/1", 4, 15);
    at(t.root, "/properties/t~0n/pattern", 5, 9);
    at(t.root, "/required/0", 7, 5);
    /* off the tree: the deepest node reached */
    at(t.root, "/properties/a~1b/nope/deeper", 3, 3);
    at(t.root, "/required/7", 6, 1);
    at(t.root, "/required/x", 6, 1);
    src_loc_t none = yaml_pointer_loc(NULL, "/a");
    assert_int_equal(none.line, 0);
    yaml_tree_free(&t);
    diag_list_free(&dl);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_pointers)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
