//! PostgreSQL servers of a test's own, for what a shared server must not
//! suffer: being frozen, stopped, or given a streaming standby. Each
//! [`Cluster`] is made by `initdb` (or `pg_basebackup` for a standby) in a
//! temporary folder, listens on a free loopback port, and is stopped and
//! removed with its guard.
//!
//! The server binaries are found in `PG_BIN`, else in the newest
//! `/usr/lib/postgresql/*/bin`. Run as root, the server runs as the
//! `postgres` user (PostgreSQL refuses root).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A running PostgreSQL server in a temporary folder.
#[derive(Debug)]
pub struct Cluster {
    dir: PathBuf,
    port: u16,
    bin: PathBuf,
    as_postgres: bool,
}

impl Cluster {
    /// A new primary: `initdb`, then started.
    ///
    /// # Panics
    /// When the server binaries are not installed, or the server does not start.
    pub fn primary() -> Self {
        let mut cluster = Self::new();
        cluster.initdb();
        cluster.first_start();
        cluster
    }

    fn initdb(&self) {
        self.run(
            "initdb",
            &[
                "-D",
                &self.data(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
        );
    }

    /// A hot standby of `primary`, streaming from it (`pg_basebackup -R`).
    ///
    /// # Panics
    /// When the copy or the start fails.
    pub fn standby_of(primary: &Cluster) -> Self {
        let mut cluster = Self::new();
        cluster.run(
            "pg_basebackup",
            &[
                "-D",
                &cluster.data(),
                "-h",
                "127.0.0.1",
                "-p",
                &primary.port.to_string(),
                "-U",
                "postgres",
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            ],
        );
        cluster.first_start();
        cluster
    }

    fn new() -> Self {
        let bin = server_binaries();
        let as_postgres = is_root();
        let dir = std::env::temp_dir().join(format!("garage-cluster-{}", super::unique_suffix()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        let data = dir.join("data");
        if as_postgres {
            // The folder is the postgres user's, and private, as initdb wants.
            set_mode(&dir, 0o755);
            let made = Command::new("install")
                .args(["-d", "-o", "postgres", "-m", "700"])
                .arg(&data)
                .status()
                .expect("install runs");
            assert!(made.success(), "cannot make {}", data.display());
        } else {
            std::fs::create_dir(&data).expect("the data folder");
            set_mode(&data, 0o700);
        }
        Self {
            dir,
            port: free_port(),
            bin,
            as_postgres,
        }
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    /// Runs one of the server's programs, as the postgres user when root.
    fn run(&self, program: &str, args: &[&str]) {
        if let Err(failure) = self.try_run(program, args) {
            panic!("{failure}");
        }
    }

    /// Runs one of the server's programs; what it said when it failed.
    fn try_run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let output = command
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|err| panic!("cannot run {}: {err}", path.display()));
        if output.status.success() {
            return Ok(());
        }
        Err(format!(
            "{program} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }

    /// Starts the server (again) on its port.
    ///
    /// # Panics
    /// When it does not start; the panic quotes the end of its log.
    pub fn start(&self) {
        if let Err(Start::PortTaken(said) | Start::Failed(said)) = self.try_start() {
            panic!("{said}");
        }
    }

    /// Starts a new server, moving to another port when its own was taken
    /// between choosing it and binding it.
    fn first_start(&mut self) {
        let mut failure = String::new();
        for _ in 0..5 {
            match self.try_start() {
                Ok(()) => return,
                Err(Start::PortTaken(said)) => {
                    failure = said;
                    self.port = free_port();
                }
                Err(Start::Failed(said)) => panic!("{said}"),
            }
        }
        panic!("no free port for a throwaway PostgreSQL after five tries; the last:\n{failure}");
    }

    fn try_start(&self) -> Result<(), Start> {
        let data = self.data();
        // Messages in English, whatever the machine's locale, so that a
        // port taken reads as such.
        let options = format!(
            "-p {} -k {data} -c listen_addresses=127.0.0.1 -c lc_messages=C -c fsync=off \
             -c max_connections=100",
            self.port
        );
        // pg_ctl appends to the log: what this attempt said starts here.
        let log = format!("{data}/server.log");
        let before = std::fs::metadata(&log).map_or(0, |m| m.len());
        self.try_run(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-w", "-t", "60", "-o", &options, "start",
            ],
        )
        .map_err(|failure| {
            let all = std::fs::read(&log).unwrap_or_default();
            let said = String::from_utf8_lossy(all.get(before as usize..).unwrap_or_default());
            let tail: Vec<&str> = said.lines().rev().take(20).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            let report = format!("{failure}\nits log ends:\n{}", tail.join("\n"));
            // Only a server that never listened may move: one that timed out
            // may still be starting on this port.
            if said.contains("could not bind") && !said.contains("ready to accept connections") {
                Start::PortTaken(report)
            } else {
                Start::Failed(report)
            }
        })
    }

    /// Stops the server, letting it shut down cleanly.
    pub fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Freezes the server and every backend (SIGSTOP): the kernel still
    /// takes connections and data, nothing answers, as with a hung host.
    ///
    /// # Panics
    /// When the server is not running.
    pub fn freeze(&self) {
        assert!(self.signal("STOP"), "the server is not running");
    }

    /// Lets a frozen server go on (SIGCONT).
    pub fn thaw(&self) {
        self.signal("CONT");
    }

    /// Sends `name` to the server, then to each backend (one that has just
    /// ended is no matter); false when the server itself did not get it.
    fn signal(&self, name: &str) -> bool {
        let Some(postmaster) = self.postmaster() else {
            return false;
        };
        let send = |pid: u32| {
            Command::new("kill")
                .arg(format!("-{name}"))
                .arg(pid.to_string())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        let delivered = send(postmaster);
        for child in children_of(postmaster) {
            send(child);
        }
        delivered
    }

    /// The server's process id, while it runs.
    fn postmaster(&self) -> Option<u32> {
        let pid = std::fs::read_to_string(Path::new(&self.data()).join("postmaster.pid")).ok()?;
        pid.lines().next()?.trim().parse().ok()
    }

    /// What `sql` prints, run through `psql` on the `postgres` database.
    ///
    /// # Panics
    /// When psql fails.
    pub fn sql(&self, sql: &str) -> String {
        let output = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                &self.url(),
                "-c",
                sql,
            ])
            .output()
            .expect("psql runs");
        assert!(
            output.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }
}

/// Why a server did not start, with what it said.
enum Start {
    /// Its port was taken before it could bind it.
    PortTaken(String),
    Failed(String),
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // A frozen server would never stop.
        if self.postmaster().is_some() {
            self.signal("CONT");
            let data = self.data();
            let mut command = if self.as_postgres {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"])
                    .arg(self.bin.join("pg_ctl"));
                c
            } else {
                Command::new(self.bin.join("pg_ctl"))
            };
            let _ = command
                .args(["-D", &data, "-m", "immediate", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `PG_BIN`, else the newest `/usr/lib/postgresql/*/bin` that has `initdb`.
fn server_binaries() -> PathBuf {
    if let Some(bin) = std::env::var_os("PG_BIN") {
        return PathBuf::from(bin);
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!(
            "PostgreSQL's server binaries are not installed (no /usr/lib/postgresql/*/bin/initdb). \
             Install them (as root): apt-get install -y postgresql, or set PG_BIN."
        )
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Where throwaway servers listen: below Linux's ephemeral range (32768 and
/// up), from which the kernel also picks outgoing connections' own ports, so
/// a port chosen there could be a client socket's by the time the server
/// binds it.
const PORTS: std::ops::Range<u16> = 20_000..32_000;

/// A port no one listens on now, tried at random in [`PORTS`].
fn free_port() -> u16 {
    use std::hash::{BuildHasher, RandomState};
    let random = RandomState::new();
    let span = u64::from(PORTS.end - PORTS.start);
    (0..1000u64)
        .map(|n| PORTS.start + (random.hash_one(n) % span) as u16)
        .find(|&port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        .expect("a free port")
}

/// Every process whose parent is `pid` (the server's backends).
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let child: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // pid (comm) state ppid …: comm may hold spaces, so read after its ')'.
            let ppid: u32 = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            (ppid == pid).then_some(child)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Cluster;

    #[test]
    fn a_first_start_whose_port_was_taken_moves_to_another() {
        let mut cluster = Cluster::new();
        cluster.initdb();
        let taken = std::net::TcpListener::bind(("127.0.0.1", cluster.port)).expect("the port");
        cluster.first_start();
        assert_ne!(cluster.port, taken.local_addr().unwrap().port());
        assert_eq!(cluster.sql("SELECT 1"), "1");
    }
}
