#define _GNU_SOURCE
// 64-bit off_t, ino_t and struct stat on 32-bit ARM too (see mediapeer_file_status).
#define _FILE_OFFSET_BITS 64
#include "system_shims.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/inotify.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <string.h>
#include <malloc.h>

// Every offset and size below passes through off_t: a 32-bit one would cut a 5 GiB file's offsets silently.
_Static_assert(sizeof(off_t) == 8, "system_shims.c must be compiled with a 64-bit off_t");

#define IOPRIO_CLASS_IDLE 3
#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_WHO_PROCESS 1

int mediapeer_set_thread_io_idle(void) {
#ifdef SYS_ioprio_set
    return (int)syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT);
#else
    return -1;
#endif
}

void mediapeer_set_thread_name(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

int mediapeer_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }

int mediapeer_limit_malloc_arenas(int arenas) { return mallopt(M_ARENA_MAX, arenas); }

int mediapeer_release_free_heap(void) { return malloc_trim(0); }

pid_t mediapeer_gettid(void) { return (pid_t)syscall(SYS_gettid); }

long mediapeer_inotify_event_at(const char *buffer, long length, long offset,
                                int *wd, uint32_t *mask, uint32_t *cookie, const char **name) {
    if (offset < 0 || length - offset < (long)sizeof(struct inotify_event)) return -1;
    struct inotify_event event;
    memcpy(&event, buffer + offset, sizeof event);
    long next = offset + (long)sizeof(struct inotify_event) + (long)event.len;
    if (next > length) return -1;
    *wd = event.wd;
    *mask = event.mask;
    *cookie = event.cookie;
    *name = event.len > 0 ? buffer + offset + sizeof(struct inotify_event) : "";
    return next;
}

int mediapeer_fstatat(int dirfd, const char *path, int follow, struct mediapeer_file_status *status) {
    struct stat info;
    if (fstatat(dirfd, path, &info, follow ? 0 : AT_SYMLINK_NOFOLLOW) != 0) return -1;
    status->size = (int64_t)info.st_size;
    status->mtime_ns = (int64_t)info.st_mtim.tv_sec * 1000000000 + (int64_t)info.st_mtim.tv_nsec;
    status->inode = (uint64_t)info.st_ino;
    status->mode = (uint32_t)info.st_mode;
    status->device = (uint64_t)info.st_dev;
    return 0;
}

long mediapeer_pwrite(int fd, const void *buffer, unsigned long count, int64_t offset) {
    return (long)pwrite(fd, buffer, (size_t)count, (off_t)offset);
}

long mediapeer_pread(int fd, void *buffer, unsigned long count, int64_t offset) {
    return (long)pread(fd, buffer, (size_t)count, (off_t)offset);
}

int mediapeer_ftruncate(int fd, int64_t size) {
    return ftruncate(fd, (off_t)size);
}

int64_t mediapeer_file_size(int fd) {
    struct stat info;
    if (fstat(fd, &info) != 0) return -1;
    return (int64_t)info.st_size;
}

int mediapeer_open(const char *path, int flags, unsigned int mode) {
    // O_LARGEFILE is what open64 adds; spelled out so the intent survives a build without _FILE_OFFSET_BITS.
    return open(path, flags | O_LARGEFILE, (mode_t)mode);
}
