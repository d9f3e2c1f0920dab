import CLowBitKernels

/// Process-wide allocator tuning for training workloads.
///
/// Training allocates and frees activation-sized buffers (up to tens of MB) at every layer of every
/// step. With glibc's defaults those come from fresh `mmap`s or trimmed heap pages, and the kernel
/// zero-fills every page again on first touch: measured at ~10% of a ResNet-20 training step here
/// (docs/BENCHMARKS.md). Raising the mmap and trim thresholds keeps freed buffers in the process for
/// reuse. Call once at start-up; a no-op off glibc.
public enum Memory {
    public static func tuneAllocatorForTraining() {
        lb_tune_allocator()
    }
}
