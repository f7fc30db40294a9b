#ifndef MEDIAPEER_SYSTEM_SHIMS_H
#define MEDIAPEER_SYSTEM_SHIMS_H
#include <stdint.h>
#include <sys/types.h>

/// Puts the calling thread in the idle I/O scheduling class, so background hashing never delays a player's reads.
/// Returns 0 or -1 with errno set (for example where the kernel has no I/O scheduler classes).
int mediapeer_set_thread_io_idle(void);

/// Names the calling thread (visible in top -H and /proc), at most 15 bytes.
void mediapeer_set_thread_name(const char *name);

/// A non-blocking, close-on-exec eventfd, used to wake a thread sleeping in poll().
int mediapeer_eventfd(void);

/// Caps glibc's malloc arenas (one per thread by default, up to 8 per core), which otherwise keep freed memory of
/// short-lived bursts resident. Returns what mallopt returns (1 on success).
int mediapeer_limit_malloc_arenas(int arenas);

/// Returns free heap memory to the kernel (malloc_trim); 1 if memory was released.
int mediapeer_release_free_heap(void);

/// The kernel id of the calling thread (for per-thread nice values).
pid_t mediapeer_gettid(void);

/// What the index records of a file. The fields are 64-bit on every architecture: Swift's Glibc module declares
/// the 32-bit `struct stat` on armhf, where stat() fails with EOVERFLOW for a file past 2 GiB.
struct mediapeer_file_status {
    int64_t size;
    int64_t mtime_ns;
    uint64_t inode;
    uint32_t mode;
    /// The file system's device (`st_dev`): a folder with a drive mounted on it is on another one.
    uint64_t device;
};

/// fstatat(2) with 64-bit sizes (this file is compiled with _FILE_OFFSET_BITS=64); `follow` nonzero follows a
/// final symlink. Returns 0, or -1 with errno set.
int mediapeer_fstatat(int dirfd, const char *path, int follow, struct mediapeer_file_status *status);

/// open(2) with O_LARGEFILE, pwrite64, pread64, ftruncate64 and the size of an open file (fstat64): 64-bit offsets
/// on every architecture (the .c file is compiled with _FILE_OFFSET_BITS=64 and checks it; Swift's Glibc module has
/// a 32-bit off_t, stat and open without O_LARGEFILE on armhf, where a file past 2 GiB fails with EOVERFLOW).
int mediapeer_open(const char *path, int flags, unsigned int mode);
long mediapeer_pwrite(int fd, const void *buffer, unsigned long count, int64_t offset);
long mediapeer_pread(int fd, void *buffer, unsigned long count, int64_t offset);
int mediapeer_ftruncate(int fd, int64_t size);
int64_t mediapeer_file_size(int fd);

/// Fields of one `struct inotify_event` at `buffer + offset`; returns the offset of the next event, or -1 when
/// the event would run past `length` (never the case for a well-behaved kernel, but checked anyway).
long mediapeer_inotify_event_at(const char *buffer, long length, long offset,
                                int *wd, uint32_t *mask, uint32_t *cookie, const char **name);
#endif
