// Linux file calls that Glibc's Swift module does not expose (they need _GNU_SOURCE).
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/falloc.h>

/// Reserves disk blocks for [offset, offset + length) without changing the file's size.
static inline int cfs_reserve_keeping_size(int descriptor, off_t offset, off_t length) {
    return fallocate(descriptor, FALLOC_FL_KEEP_SIZE, offset, length);
}
