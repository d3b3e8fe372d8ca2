/* fs.h - the file-system helpers more than one module needs. */
#ifndef BATON_UTIL_FS_H
#define BATON_UTIL_FS_H

#include <stddef.h>

/* Reads a whole file of at most `max` bytes (a regular file, or a pipe such as /dev/stdin that
 * a person hands the CLI). A larger file is refused without reading
 * it all. Returns the bytes, NUL-terminated (caller frees; *len excludes the NUL), or NULL with
 * *err (caller frees) when err is not NULL. */
char *fs_read_file(const char *path, size_t max, size_t *len, char **err);

/* The same for a file that must be a regular file (what the server reads: artifact blobs and
 * files, the console's files, templates): a FIFO, a device or a socket planted in its place is
 * refused at once ("not a regular file") instead of blocking the thread on open or read. */
char *fs_read_regular(const char *path, size_t max, size_t *len, char **err);

/* mkdir -p: 0, or -1 with errno set. */
int fs_mkdir_p(const char *path);

#endif
