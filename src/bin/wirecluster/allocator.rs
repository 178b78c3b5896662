//! The allocator's settings for a run of the program.
//!
//! A run allocates per-document state that grows to gigabytes (about 15 KB
//! an article with stories) and frees and re-allocates large buffers from
//! stage to stage. By default glibc hands large blocks to `mmap` and trims
//! the heap's freed top back to the system, so memory freed by one stage
//! is page-faulted and zeroed again by the kernel in the next:
//! `clear_page_erms` was 15% of a `perf` profile of `cluster` on 200k
//! articles. Keeping freed memory in the process gives the same peak
//! resident memory and runs 3-8% faster on 20k articles and about 10% on
//! 200k (BENCHMARKS.md, 2026-12-04).

/// Keeps freed memory in the process for reuse: blocks under 32 MiB come
/// from the heap, and its freed top is not returned to the system.
///
/// Call it first thing in `main`, before any other thread exists.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn keep_freed_memory() {
    // glibc's own ceiling for the threshold on 64-bit targets.
    const MMAP_THRESHOLD: libc::c_int = 32 << 20;
    // SAFETY: `mallopt` only sets parameters of glibc's allocator, and
    // no other thread is allocating yet. A setting it refuses (return 0)
    // leaves that default in place, which is still correct.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

/// Elsewhere the system allocator's defaults stand.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn keep_freed_memory() {}
