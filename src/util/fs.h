/* fs.h - the file-system helpers more than one module needs. */
#ifndef BATON_UTIL_FS_H
#define BATON_UTIL_FS_H

#include <stddef.h>

/* Reads a whole regular file of at most `max` bytes. A larger file is refused without reading
 * it all. Returns the bytes, NUL-terminated (caller frees; *len excludes the NUL), or NULL with
 * *err (caller frees) when err is not NULL. */
char *fs_read_file(const char *path, size_t max, size_t *len, char **err);

/* mkdir -p: 0, or -1 with errno set. */
int fs_mkdir_p(const char *path);

#endif
