//! Who runs a journaled job: the lease an engine holds on its job (process id, host, the process's
//! start time where the OS tells it, a random token, a heartbeat) and whether a recorded owner is
//! still alive. One engine per job: a second engine refuses a job whose owner is alive and takes
//! over the lease of a dead one. Knows the local process table (Linux `/proc`) and the clock;
//! nothing of jobs, clouds or the app.

use serde::Serialize;
use std::time::{SystemTime, UNIX_EPOCH};

/// How often a running engine renews its lease.
pub const HEARTBEAT_SECS: i64 = 5;

/// A lease whose heartbeat is older than this is dead whatever the process table says (a hung or
/// stopped process, or an owner on another host): its engine can no longer write to the journal
/// once another takes over, because every write checks the lease token.
pub const LEASE_TTL_SECS: i64 = 30;

/// The engine that holds (or held) a job's lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaseOwner {
    /// Process id.
    pub pid: u32,
    /// Host name.
    pub host: String,
    /// The process's start time (Linux: clock ticks since boot, `/proc/PID/stat` field 22), so a
    /// reused process id is not mistaken for the owner.
    pub started: Option<String>,
    /// UNIX seconds of the last heartbeat.
    pub heartbeat: i64,
}

impl LeaseOwner {
    /// This process, now.
    pub fn this_process() -> LeaseOwner {
        let pid = std::process::id();
        LeaseOwner {
            pid,
            host: host_name(),
            started: process_start(pid),
            heartbeat: now_secs(),
        }
    }

    /// Whether the owner may still be running the job: its heartbeat is fresh and, on this host
    /// when the process table can be read, the same process still exists.
    pub fn is_alive(&self) -> bool {
        if now_secs() - self.heartbeat > LEASE_TTL_SECS {
            return false;
        }
        if self.host != host_name() || !std::path::Path::new("/proc/self/stat").exists() {
            return true;
        }
        match process_start(self.pid) {
            None => false,
            Some(started) => self.started.as_deref().is_none_or(|s| s == started),
        }
    }

    /// `pid 1234 on host h (heartbeat 3 s ago)`.
    pub fn describe(&self) -> String {
        format!(
            "process {} on host {} (heartbeat {} s ago)",
            self.pid,
            self.host,
            (now_secs() - self.heartbeat).max(0)
        )
    }
}

/// This machine's name (`unknown` when the OS does not say).
pub fn host_name() -> String {
    let name = gethostname::gethostname()
        .to_string_lossy()
        .trim()
        .to_string();
    if name.is_empty() {
        "unknown".into()
    } else {
        name
    }
}

/// The user this process runs as, from the environment the OS login sets (`USER`, `LOGNAME`,
/// `USERNAME`); `unknown` when none is set.
pub fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// The start time of process `pid` (Linux), `None` when it does not exist or the OS does not say.
fn process_start(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces: split after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    // Field 3 is the first after the name; the start time is field 22.
    rest.split_whitespace().nth(19).map(str::to_string)
}

/// UNIX seconds now.
pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_dead_or_silent_one_is_not() {
        let me = LeaseOwner::this_process();
        assert!(me.is_alive(), "{me:?}");
        if std::path::Path::new("/proc/self/stat").exists() {
            assert!(me.started.is_some());
            // A process id that does not exist.
            let gone = LeaseOwner {
                pid: u32::MAX - 7,
                ..me.clone()
            };
            assert!(!gone.is_alive());
            // Our pid, but another start time: a reused id.
            let reused = LeaseOwner {
                started: Some("1".into()),
                ..me.clone()
            };
            assert!(!reused.is_alive());
        }
        let silent = LeaseOwner {
            heartbeat: now_secs() - LEASE_TTL_SECS - 1,
            ..me.clone()
        };
        assert!(!silent.is_alive());
        let elsewhere = LeaseOwner {
            host: "another-host".into(),
            pid: u32::MAX - 7,
            ..me
        };
        assert!(elsewhere.is_alive(), "a fresh heartbeat from another host");
        assert!(elsewhere.describe().contains("another-host"));
    }
}
