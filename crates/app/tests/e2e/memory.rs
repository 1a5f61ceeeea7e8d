//! The allocator settings the server runs with, as the running server
//! reports them.

use std::process::Stdio;

use garage_app::memory::TUNABLES;
use garage_infra::testing::TestDb;
use serde_json::Value;

use crate::helpers::{spawn_binary, stop_and_read};

/// The `GLIBC_TUNABLES` the server started with `env` says it runs with.
/// (Not /proc's copy of its environment: glibc writes into that while
/// reading it.)
async fn tunables_in_force(db: &TestDb, env: &[(&str, &str)]) -> String {
    let mut env = env.to_vec();
    env.extend([
        ("APP__LOG__FORMAT", "json"),
        ("APP__SERVER__DRAIN_SECONDS", "0"),
    ]);
    let mut server = spawn_binary(db, &env, Stdio::piped()).await;
    let lines = stop_and_read(&mut server.child).await;
    let line = lines
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line["message"] == "allocator")
        .unwrap_or_else(|| panic!("no allocator line in {lines:#?}"));
    line["glibc_tunables"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn the_server_runs_without_per_thread_malloc_caches_unless_told_otherwise() {
    let db = TestDb::sqlite();
    // Started plainly, it restarts itself in place with the tunables on.
    assert_eq!(tunables_in_force(&db, &[]).await, TUNABLES);
    // An operator's own cache setting is kept as it is; other tunables of
    // theirs get the cache's beside them.
    let theirs = "glibc.malloc.tcache_count=3";
    assert_eq!(
        tunables_in_force(&db, &[("GLIBC_TUNABLES", theirs)]).await,
        theirs
    );
    assert_eq!(
        tunables_in_force(&db, &[("GLIBC_TUNABLES", "glibc.pthread.rseq=0")]).await,
        format!("glibc.pthread.rseq=0:{TUNABLES}")
    );
}
