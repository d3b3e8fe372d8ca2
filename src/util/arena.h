/* arena.h - bump allocator for data that lives and dies together (a loaded workflow, one request).
 *
 * Promises: allocations are 16-byte aligned, never fail silently (abort on OOM, like the rest of
 * Baton's allocation helpers: running out of memory is not an input error), and arena_free releases
 * everything at once. Nothing allocated from an arena may be passed to free(). */
#ifndef BATON_UTIL_ARENA_H
#define BATON_UTIL_ARENA_H

#include <stddef.h>

typedef struct arena_block arena_block_t;
typedef struct arena {
    arena_block_t *head;
    size_t block_size;
} arena_t;

void arena_init(arena_t *a, size_t block_size);
void *arena_alloc(arena_t *a, size_t n);       /* zeroed */
char *arena_strdup(arena_t *a, const char *s); /* NULL in, NULL out */
char *arena_strndup(arena_t *a, const char *s, size_t n);
void arena_free(arena_t *a);

#endif
