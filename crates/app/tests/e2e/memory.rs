//! The allocator settings the server runs with, read from the running
//! process itself.

use std::process::Stdio;

use garage_app::memory::TUNABLES;
use garage_infra::testing::TestDb;

use crate::helpers::spawn_binary;

/// The `GLIBC_TUNABLES` a process was started with, if any.
fn tunables(pid: u32) -> Option<String> {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("the process runs");
    environ
        .split(|byte| *byte == 0)
        .filter_map(|entry| std::str::from_utf8(entry).ok())
        .find_map(|entry| entry.strip_prefix("GLIBC_TUNABLES=").map(str::to_owned))
}

#[actix_web::test]
async fn the_server_runs_without_per_thread_malloc_caches_unless_told_otherwise() {
    // Started plainly, it restarts itself in place with the tunables on:
    // the process that answers is the one spawned.
    let db = TestDb::sqlite();
    let plain = spawn_binary(&db, &[], Stdio::null()).await;
    assert_eq!(tunables(plain.child.id()).as_deref(), Some(TUNABLES));
    drop(plain);

    // An operator's own setting is kept as it is.
    let theirs = "glibc.malloc.tcache_count=3";
    let told = spawn_binary(&db, &[("GLIBC_TUNABLES", theirs)], Stdio::null()).await;
    assert_eq!(tunables(told.child.id()).as_deref(), Some(theirs));
}
