#ifndef MEDIAPEER_SYSTEM_SHIMS_LARGE_FILES_H
#define MEDIAPEER_SYSTEM_SHIMS_LARGE_FILES_H
// Folder listings and file-system space with 64-bit fields on every architecture. Swift's Glibc module declares
// the non-LFS readdir and statvfs on armhf, whose 32-bit d_ino/d_off and fsblkcnt_t fail with EOVERFLOW (a listing
// ends early at an XFS inode64 entry; a disk of 2^32 blocks or more has no free space). large_files.c is compiled
// with _FILE_OFFSET_BITS=64, where these are readdir64 and statvfs64; on 64-bit machines they are the same calls.
// (Stat of a path: mediapeer_fstatat in system_shims.h, with AT_FDCWD.)
#include <stdint.h>
#include <dirent.h>

/// One entry of a folder, as mediapeer_read_directory returns it.
struct mediapeer_directory_entry {
    /// The entry's name, NUL-terminated; valid until the next read of the same folder or its closedir.
    const char *name;
    uint64_t inode;
    /// DT_DIR, DT_REG, DT_LNK, ... or DT_UNKNOWN when the file system does not say (then stat it).
    unsigned char type;
};

/// The next entry of a folder opened with opendir(3), "." and ".." included. Returns 1 with `entry` filled, 0 at
/// the end of the folder, or -1 with errno set (the listing is incomplete).
int mediapeer_read_directory(DIR *directory, struct mediapeer_directory_entry *entry);

/// The size of a file system, in `fragment_size` units (statvfs's f_frsize, f_blocks, f_bavail).
struct mediapeer_file_system_space {
    uint64_t fragment_size;
    uint64_t blocks;
    /// Blocks an unprivileged process may still use.
    uint64_t available_blocks;
};

/// statvfs(3) of the file system holding `path`. Returns 0, or -1 with errno set.
int mediapeer_file_system_space(const char *path, struct mediapeer_file_system_space *space);
#endif
