#include "lowbit_kernels.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void lb_tune_allocator(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  /* glibc's maximum; larger buffers still use mmap */
    mallopt(M_TRIM_THRESHOLD, 0x7fffffff);
    mallopt(M_TOP_PAD, 64 << 20);
#endif
}
