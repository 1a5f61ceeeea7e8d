//! Keeps the server's resident memory close to what it uses.
//!
//! glibc's malloc gives threads arenas of their own (up to eight per core)
//! and keeps what is freed in each for reuse; it returns pages to the
//! system only from the top of the main heap. The server runs a blocking
//! thread per database call in flight, which tokio starts and retires as
//! load comes and goes, so freed pages pile up across arenas. Measured with
//! `make bench` on SQLite: a heap profile (heaptrack) of the bulk import
//! shows a live heap of 11 MiB at its peak while the resident size reached
//! 72 MiB; with four arenas it peaked at 53 MiB, lists within run-to-run
//! noise (two arenas: 50 MiB, but lists 15–20 % slower). See
//! docs/performance.md.

/// Arenas malloc may create, unless `MALLOC_ARENA_MAX` says otherwise.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENAS: i32 = 4;

/// How often the allocator's free pages are handed back.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Bounds malloc's arenas and, on a thread of its own for the life of the
/// process, hands free pages back every few seconds (`malloc_trim`, which
/// releases them in every arena). Call it early, before the server's
/// threads start (after logging, which reports a failure). A no-op where
/// the allocator is not glibc's.
///
/// The project's only `unsafe`: two calls into the C library.
#[allow(unsafe_code)]
pub fn keep_resident_memory_bounded() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            // SAFETY: mallopt only sets the allocator's parameters; arenas
            // already made are kept.
            unsafe { libc::mallopt(libc::M_ARENA_MAX, ARENAS) };
        }
        let started = std::thread::Builder::new()
            .name("malloc-trim".into())
            .spawn(|| loop {
                std::thread::sleep(TRIM_EVERY);
                // SAFETY: malloc_trim takes only the allocator's own locks and
                // may be called from any thread at any time.
                unsafe { libc::malloc_trim(0) };
            });
        if let Err(err) = started {
            tracing::warn!(error = %err, "cannot start the thread that returns freed memory");
        }
    }
}
