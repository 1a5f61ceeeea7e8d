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
//! noise (two arenas: 50 MiB, but lists 15–20 % slower). Each thread also
//! keeps a cache of freed chunks that no trim returns: the server runs
//! without it (see [`TUNABLES`]). See docs/performance.md.

/// glibc's malloc setting the server runs with, added to the operator's
/// `GLIBC_TUNABLES` unless those set it already: no per-thread cache of
/// freed chunks. Each thread's cache keeps up to seven chunks of each small
/// size (up to about 230 KiB a thread) that no trim returns; across the
/// hundred-odd threads of a loaded server they filled up for as long as the
/// load ran (+8 MiB over a 30-minute soak, with a flat live heap). Without
/// them, memory stays flat and throughput is unchanged within noise
/// (docs/performance.md, "Soak").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub const TUNABLES: &str = "glibc.malloc.tcache_count=0";

/// In the environment of the restarted server, so it restarts once at most
/// (even where glibc drops `GLIBC_TUNABLES`, as for a program given file
/// capabilities).
pub const RESTARTED: &str = "GARAGE_MALLOC_TUNED";

/// Starts this program again in place (the same process, id and
/// arguments) with [`TUNABLES`] in its environment, since glibc reads them
/// only at start-up. Call it first thing, before any thread starts. Does
/// nothing once restarted, when the operator's `GLIBC_TUNABLES` sets the
/// cache already, or where the allocator is not glibc's; if the restart
/// fails, it says so on stderr and the program goes on as it is.
pub fn restart_with_allocator_tunables() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        if std::env::var_os(RESTARTED).is_some() {
            return;
        }
        let tunables = match std::env::var("GLIBC_TUNABLES") {
            Err(std::env::VarError::NotPresent) => TUNABLES.to_owned(),
            Ok(theirs) if theirs.contains("glibc.malloc.tcache_count") => return,
            Ok(theirs) => format!("{theirs}:{TUNABLES}"),
            Err(std::env::VarError::NotUnicode(_)) => return,
        };
        let fail = |err: &dyn std::fmt::Display| {
            eprintln!("cannot restart with {TUNABLES} (memory may creep under load): {err}");
        };
        let program = match std::env::current_exe() {
            Ok(program) => program,
            Err(err) => return fail(&err),
        };
        let mut args = std::env::args_os();
        let mut command = std::process::Command::new(program);
        if let Some(name) = args.next() {
            command.arg0(name);
        }
        // Returns only on failure.
        let err = command
            .args(args)
            .env("GLIBC_TUNABLES", tunables)
            .env(RESTARTED, "1")
            .exec();
        fail(&err);
    }
}

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
        // What glibc runs with, as this process reads it (glibc rewrites the
        // copy /proc shows).
        tracing::info!(
            glibc_tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_default(),
            "allocator"
        );
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
