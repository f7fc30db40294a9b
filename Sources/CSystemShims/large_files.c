#define _GNU_SOURCE
// readdir64 and statvfs64 on 32-bit ARM too (see system_shims_large_files.h).
#define _FILE_OFFSET_BITS 64
#include "system_shims_large_files.h"
#include <errno.h>
#include <stddef.h>
#include <sys/statvfs.h>

_Static_assert(sizeof(((struct dirent *)0)->d_ino) == 8, "readdir must be the 64-bit call");
_Static_assert(sizeof(fsblkcnt_t) == 8, "statvfs must be the 64-bit call");

int mediapeer_read_directory(DIR *directory, struct mediapeer_directory_entry *entry) {
    // readdir returns NULL both at the end and on an error; only errno tells them apart.
    errno = 0;
    struct dirent *next = readdir(directory);
    if (next == NULL) return errno == 0 ? 0 : -1;
    entry->name = next->d_name;
    entry->inode = (uint64_t)next->d_ino;
    entry->type = next->d_type;
    return 1;
}

int mediapeer_file_system_space(const char *path, struct mediapeer_file_system_space *space) {
    struct statvfs info;
    if (statvfs(path, &info) != 0) return -1;
    space->fragment_size = (uint64_t)info.f_frsize;
    space->blocks = (uint64_t)info.f_blocks;
    space->available_blocks = (uint64_t)info.f_bavail;
    return 0;
}
