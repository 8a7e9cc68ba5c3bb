//! Control groups: each run's processes in a cgroup of their own, so that
//! nothing a run starts (setsid, double fork, daemons) escapes a stop, and so
//! that its peak memory and CPU time can be read and its memory limited.
//!
//! The daemon decides once where runs' cgroups go (`discover`): under its own
//! cgroup v2 directory when that is writable (the v2 hierarchy is found in
//! /proc/self/mountinfo: on hybrid hosts it is /sys/fs/cgroup/unified). When
//! v2 offers no memory controller there (hybrid hosts bind it to cgroup v1),
//! a writable v1 memory cgroup carries the memory limit and peak instead.
//! Each supervisor then makes, fills and removes its run's cgroups.

use std::fs;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where runs' cgroups are made; decided by the daemon, passed to supervisors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CgroupPlan {
    /// A writable cgroup v2 directory; each run gets `agentgate-<run-id>` in it.
    pub v2_parent: Option<PathBuf>,
    /// Whether runs' v2 cgroups get the memory controller (limit, peak).
    pub v2_memory: bool,
    /// A writable cgroup v1 memory directory, used where v2 has no memory
    /// controller for runs.
    pub v1_memory_parent: Option<PathBuf>,
}

impl CgroupPlan {
    /// One line for the log and `queue health`.
    pub fn describe(&self) -> String {
        match (&self.v2_parent, self.v2_memory, &self.v1_memory_parent) {
            (None, _, None) => "none (runs are tracked as the supervisor's descendants)".into(),
            (Some(p), true, _) => format!("cgroup v2 under {}", p.display()),
            (Some(p), false, Some(m)) => format!(
                "cgroup v2 under {}; memory_max via cgroup v1 under {}",
                p.display(),
                m.display()
            ),
            (Some(p), false, None) => {
                format!("cgroup v2 under {} (no memory controller)", p.display())
            }
            (None, _, Some(m)) => format!("memory_max via cgroup v1 under {}", m.display()),
        }
    }

    pub fn is_none(&self) -> bool {
        self.v2_parent.is_none() && self.v1_memory_parent.is_none()
    }
}

/// One mount of /proc/self/mountinfo that matters here.
struct Mount {
    root: String,
    point: PathBuf,
    fstype: String,
    super_opts: String,
}

fn mounts() -> Vec<Mount> {
    let Ok(text) = fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| {
            // id parent maj:min root point opts [optional...] - fstype source superopts
            let (left, right) = line.split_once(" - ")?;
            let l: Vec<&str> = left.split(' ').collect();
            let r: Vec<&str> = right.split(' ').collect();
            Some(Mount {
                root: unescape(l.get(3)?),
                point: PathBuf::from(unescape(l.get(4)?)),
                fstype: r.first()?.to_string(),
                super_opts: r.get(2).unwrap_or(&"").to_string(),
            })
        })
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as octal.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(u8::is_ascii_digit) {
            let n = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(n);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// This process's cgroup paths: (v2 path, v1 memory path).
fn own_cgroups() -> (Option<String>, Option<String>) {
    let Ok(text) = fs::read_to_string("/proc/self/cgroup") else {
        return (None, None);
    };
    let mut v2 = None;
    let mut mem = None;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(ctrls), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if id == "0" && ctrls.is_empty() {
            v2 = Some(path.to_string());
        } else if ctrls.split(',').any(|c| c == "memory") {
            mem = Some(path.to_string());
        }
    }
    (v2, mem)
}

/// The directory of cgroup `path` (as /proc/self/cgroup names it) on `mount`.
fn dir_on(mount: &Mount, path: &str) -> PathBuf {
    let rel = path
        .strip_prefix(mount.root.as_str())
        .unwrap_or(path)
        .trim_start_matches('/');
    if rel.is_empty() {
        mount.point.clone()
    } else {
        mount.point.join(rel)
    }
}

/// Whether a child cgroup can be made (and removed) in `dir`.
fn writable(dir: &Path) -> bool {
    let probe = dir.join(format!("agentgate-probe-{}", std::process::id()));
    match fs::create_dir(&probe) {
        Ok(()) => {
            let _ = fs::remove_dir(&probe);
            true
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => fs::remove_dir(&probe).is_ok(),
        Err(_) => false,
    }
}

fn has_word(path: &Path, word: &str) -> bool {
    fs::read_to_string(path).is_ok_and(|t| t.split_whitespace().any(|w| w == word))
}

/// Decides where runs' cgroups go. Call before other threads exist: making
/// the memory controller available may move this process into a leaf cgroup
/// of its own (the "no internal processes" rule of cgroup v2).
pub fn discover() -> CgroupPlan {
    let mounts = mounts();
    let (own_v2, own_mem) = own_cgroups();
    let mut plan = CgroupPlan::default();
    if let (Some(m), Some(path)) = (mounts.iter().find(|m| m.fstype == "cgroup2"), &own_v2) {
        let base = dir_on(m, path);
        if writable(&base) {
            plan.v2_memory = enable_memory(&base, base == m.point);
            plan.v2_parent = Some(base);
        }
    }
    if !plan.v2_memory
        && let (Some(m), Some(path)) = (
            mounts
                .iter()
                .find(|m| m.fstype == "cgroup" && m.super_opts.split(',').any(|o| o == "memory")),
            &own_mem,
        )
    {
        let base = dir_on(m, path);
        if writable(&base) {
            plan.v1_memory_parent = Some(base);
        }
    }
    plan
}

/// Makes the v2 memory controller available to `base`'s children, if it can
/// be done inside our own subtree. The hierarchy's root is left as the system
/// configured it.
fn enable_memory(base: &Path, is_root: bool) -> bool {
    let subtree = base.join("cgroup.subtree_control");
    if has_word(&subtree, "memory") {
        return true;
    }
    if is_root || !has_word(&base.join("cgroup.controllers"), "memory") {
        return false;
    }
    let enable = || fs::write(&subtree, "+memory").is_ok();
    if enable() {
        return true;
    }
    // Refused because processes live in `base` (as in a delegated systemd
    // unit): move this process into a leaf of its own, then enable.
    let leaf = base.join("agentgate-daemon");
    if fs::create_dir(&leaf).is_err() && !leaf.is_dir() {
        return false;
    }
    if fs::write(leaf.join("cgroup.procs"), "0").is_err() {
        return false;
    }
    enable()
}

/// What a run's cgroups measured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CgroupStats {
    pub peak_memory: Option<u64>,
    pub cpu_usec: Option<u64>,
    pub oom_kills: u64,
}

/// A run's cgroups, made by its supervisor.
#[derive(Debug)]
pub struct RunCgroups {
    pub v2: Option<PathBuf>,
    pub v1_memory: Option<PathBuf>,
    /// The v2 directory, for clone3(CLONE_INTO_CGROUP).
    v2_dir: Option<OwnedFd>,
    /// `cgroup.procs` of each, opened before any fork: a child writes "0" to
    /// them between fork and exec to join (nothing it runs is ever outside).
    v2_procs: Option<OwnedFd>,
    v1_procs: Option<OwnedFd>,
}

fn read_u64(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The value of `key` in a flat-keyed file (`cpu.stat`, `memory.events`, ...).
fn keyed(path: &Path, key: &str) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

impl RunCgroups {
    /// Makes `name` under each directory of `plan` and applies `memory_max`.
    /// A v1 memory cgroup (hybrid hosts) is used only for a memory limit:
    /// joining one costs a cgroup migration at every start. What cannot be
    /// made is reported in the returned warnings and left out: a run never
    /// fails for want of a cgroup.
    pub fn create(
        plan: &CgroupPlan,
        name: &str,
        memory_max: Option<u64>,
    ) -> (RunCgroups, Vec<String>) {
        let mut warnings = Vec::new();
        let mut cg = RunCgroups {
            v2: None,
            v1_memory: None,
            v2_dir: None,
            v2_procs: None,
            v1_procs: None,
        };
        let mut make = |parent: &Path| -> Option<(PathBuf, OwnedFd)> {
            let dir = parent.join(name);
            if let Err(e) = fs::create_dir(&dir)
                && e.kind() != io::ErrorKind::AlreadyExists
            {
                warnings.push(format!("cannot create cgroup {}: {e}", dir.display()));
                return None;
            }
            match fs::OpenOptions::new()
                .write(true)
                .open(dir.join("cgroup.procs"))
            {
                Ok(f) => Some((dir, OwnedFd::from(f))),
                Err(e) => {
                    warnings.push(format!("cannot open {}/cgroup.procs: {e}", dir.display()));
                    let _ = fs::remove_dir(&dir);
                    None
                }
            }
        };
        if let Some(p) = &plan.v2_parent
            && let Some((dir, fd)) = make(p)
        {
            cg.v2_dir = fs::File::open(&dir).ok().map(OwnedFd::from);
            cg.v2 = Some(dir);
            cg.v2_procs = Some(fd);
        }
        if !plan.v2_memory
            && memory_max.is_some()
            && let Some(p) = &plan.v1_memory_parent
            && let Some((dir, fd)) = make(p)
        {
            cg.v1_memory = Some(dir);
            cg.v1_procs = Some(fd);
        }
        if let Some(max) = memory_max {
            let limited = match (&cg.v2, plan.v2_memory, &cg.v1_memory) {
                (Some(d), true, _) => {
                    let ok = fs::write(d.join("memory.max"), max.to_string());
                    // No swapping around the limit where swap exists.
                    let _ = fs::write(d.join("memory.swap.max"), "0");
                    ok.map_err(|e| e.to_string())
                }
                (_, _, Some(d)) => {
                    let ok = fs::write(d.join("memory.limit_in_bytes"), max.to_string());
                    let _ = fs::write(d.join("memory.memsw.limit_in_bytes"), max.to_string());
                    ok.map_err(|e| e.to_string())
                }
                _ => Err("no memory cgroup is available on this host".to_string()),
            };
            if let Err(e) = limited {
                warnings.push(format!("memory_max {max} bytes not applied: {e}"));
            }
        }
        (cg, warnings)
    }

    /// Raw fds of the `cgroup.procs` files, for a child to join between fork
    /// and exec (writing "0" moves the writer).
    pub fn join_fds(&self) -> Vec<RawFd> {
        [&self.v2_procs, &self.v1_procs]
            .into_iter()
            .flatten()
            .map(|f| f.as_raw_fd())
            .collect()
    }

    /// The v2 directory's fd, for a child born inside it.
    pub fn v2_dir_fd(&self) -> Option<RawFd> {
        self.v2_dir.as_ref().map(|f| f.as_raw_fd())
    }

    /// The v1 memory cgroup's `cgroup.procs`, for a child to join.
    pub fn v1_join_fd(&self) -> Option<RawFd> {
        self.v1_procs.as_ref().map(|f| f.as_raw_fd())
    }

    /// Whether any cgroup holds the run.
    pub fn active(&self) -> bool {
        self.v2.is_some() || self.v1_memory.is_some()
    }

    /// Every process in the run's cgroup.
    pub fn pids(&self) -> Vec<i32> {
        let Some(dir) = self.v2.as_ref().or(self.v1_memory.as_ref()) else {
            return Vec::new();
        };
        pids_of(dir)
    }

    /// SIGKILLs every process in the v2 cgroup at once (`cgroup.kill`, which
    /// also catches forks in flight). False where that is not available.
    pub fn kill(&self) -> bool {
        match &self.v2 {
            Some(d) => fs::OpenOptions::new()
                .write(true)
                .open(d.join("cgroup.kill"))
                .and_then(|mut f| f.write_all(b"1"))
                .is_ok(),
            None => false,
        }
    }

    pub fn stats(&self) -> CgroupStats {
        let mut s = CgroupStats::default();
        if let Some(d) = &self.v2 {
            s.cpu_usec = keyed(&d.join("cpu.stat"), "usage_usec");
            s.peak_memory = read_u64(&d.join("memory.peak"));
            s.oom_kills = keyed(&d.join("memory.events"), "oom_kill").unwrap_or(0);
        }
        if let Some(d) = &self.v1_memory {
            s.peak_memory = s
                .peak_memory
                .or_else(|| read_u64(&d.join("memory.max_usage_in_bytes")));
            s.oom_kills = s
                .oom_kills
                .max(keyed(&d.join("memory.oom_control"), "oom_kill").unwrap_or(0));
        }
        s
    }

    /// Removes the (empty) cgroups. A cgroup whose last process was just
    /// reaped can be busy for a moment: retried briefly.
    pub fn remove(&mut self) {
        self.v2_dir = None;
        self.v2_procs = None;
        self.v1_procs = None;
        for dir in [self.v2.take(), self.v1_memory.take()]
            .into_iter()
            .flatten()
        {
            for attempt in 0..50 {
                match fs::remove_dir(&dir) {
                    Ok(()) => break,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                    Err(e) if attempt == 49 => {
                        eprintln!("cannot remove cgroup {}: {e}", dir.display());
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(2)),
                }
            }
        }
    }
}

/// The processes listed in `dir/cgroup.procs`.
pub fn pids_of(dir: &Path) -> Vec<i32> {
    fs::read_to_string(dir.join("cgroup.procs"))
        .map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}

/// CPU time used by everything in the v2 cgroup `dir`, in microseconds.
pub fn cpu_usec(dir: &Path) -> Option<u64> {
    keyed(&dir.join("cpu.stat"), "usage_usec")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_paths_unescape() {
        assert_eq!(unescape(r"/a\040b"), "/a b");
        assert_eq!(unescape(r"/plain"), "/plain");
        assert_eq!(unescape(r"\"), r"\");
    }

    #[test]
    fn cgroup_dirs_follow_the_mount_root() {
        let m = Mount {
            root: "/".into(),
            point: "/sys/fs/cgroup/unified".into(),
            fstype: "cgroup2".into(),
            super_opts: String::new(),
        };
        assert_eq!(dir_on(&m, "/"), PathBuf::from("/sys/fs/cgroup/unified"));
        assert_eq!(
            dir_on(&m, "/user.slice/x.service"),
            PathBuf::from("/sys/fs/cgroup/unified/user.slice/x.service")
        );
        let nested = Mount {
            root: "/outer".into(),
            ..m
        };
        assert_eq!(
            dir_on(&nested, "/outer/inner"),
            PathBuf::from("/sys/fs/cgroup/unified/inner")
        );
    }
}
