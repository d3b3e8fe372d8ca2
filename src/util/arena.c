#include "util/arena.h"
#include "util/xalloc.h"

#include <stdlib.h>
#include <string.h>

struct arena_block {
    arena_block_t *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

void arena_init(arena_t *a, size_t block_size) {
    a->head = NULL;
    a->block_size = block_size ? block_size : 8192;
}

void *arena_alloc(arena_t *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    arena_block_t *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > a->block_size ? n : a->block_size;
        b = xmalloc(sizeof *b + cap);
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *arena_strndup(arena_t *a, const char *s, size_t n) {
    if (!s) return NULL;
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(arena_t *a, const char *s) { return s ? arena_strndup(a, s, strlen(s)) : NULL; }

void arena_free(arena_t *a) {
    arena_block_t *b = a->head;
    while (b) {
        arena_block_t *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}
