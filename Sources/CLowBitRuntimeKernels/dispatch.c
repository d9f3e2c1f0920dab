// Run-time choice of the kernel path (docs/RUNTIME.md, "Dispatch").
#include "internal.h"
#include <stdlib.h>

int lbr_isa_supported(lbr_isa isa) {
    if (isa == LBR_ISA_PORTABLE) return 1;
#if LBR_HAVE_AVX2
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("bmi2");
#else
    return 0;
#endif
}

static lbr_isa detect(void) {
    const char *force = getenv("LOWBIT_FORCE_PORTABLE");
    if (force != NULL && strcmp(force, "0") != 0 && force[0] != '\0') return LBR_ISA_PORTABLE;
    return lbr_isa_supported(LBR_ISA_AVX2) ? LBR_ISA_AVX2 : LBR_ISA_PORTABLE;
}

lbr_isa lbr_best_isa(void) {
    // A benign race: every thread computes the same value.
    static int cached = -1;
    int value = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (value < 0) {
        value = (int)detect();
        __atomic_store_n(&cached, value, __ATOMIC_RELAXED);
    }
    return (lbr_isa)value;
}
