//! The migrations are embedded in the binary (`embed_migrations!`): a new
//! migration folder must rebuild this crate, which Cargo does not see from
//! the source alone.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
    println!("cargo:rerun-if-changed=../../migrations/postgres");
    println!("cargo:rerun-if-changed=../../migrations/sqlite");
}
