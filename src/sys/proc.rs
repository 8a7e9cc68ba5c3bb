//! What /proc tells about processes, and the signals sent to them.

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use procfs::Current;

/// One process as /proc/PID/stat shows it.
#[derive(Debug, Clone, Copy)]
pub struct ProcStat {
    pub pid: i32,
    pub ppid: i32,
    pub pgrp: i32,
    pub zombie: bool,
    /// utime + stime, in clock ticks.
    pub cpu_ticks: u64,
    /// Clock ticks since boot (field 22): with the pid, identifies a process.
    pub start_time: u64,
}

fn stat_of(s: &procfs::process::Stat) -> ProcStat {
    ProcStat {
        pid: s.pid,
        ppid: s.ppid,
        pgrp: s.pgrp,
        zombie: matches!(s.state, 'Z' | 'X'),
        cpu_ticks: s.utime + s.stime,
        start_time: s.starttime,
    }
}

/// One process's stat, if it exists.
pub fn stat(pid: i32) -> Option<ProcStat> {
    let p = procfs::process::Process::new(pid).ok()?;
    Some(stat_of(&p.stat().ok()?))
}

/// Every process's stat (those that vanish while reading are skipped).
pub fn all() -> Vec<ProcStat> {
    let Ok(all) = procfs::process::all_processes() else {
        return Vec::new();
    };
    all.flatten()
        .filter_map(|p| p.stat().ok())
        .map(|s| stat_of(&s))
        .collect()
}

/// Start time of `pid` (clock ticks since boot), or `None` if it is gone.
pub fn start_time(pid: u32) -> Option<u64> {
    let s = stat(pid as i32)?;
    (!s.zombie).then_some(s.start_time)
}

/// True when `pid` is alive and is the same process that started at `start`.
pub fn same_process(pid: u32, start: u64) -> bool {
    start_time(pid) == Some(start)
}

/// Live (non-zombie) processes of process group `pgid`.
pub fn group_members(pgid: i32) -> Vec<ProcStat> {
    all()
        .into_iter()
        .filter(|s| s.pgrp == pgid && !s.zombie)
        .collect()
}

/// Live descendants of `root` (children, their children, ...), not `root`.
pub fn descendants(root: i32) -> Vec<ProcStat> {
    let procs = all();
    let mut out: Vec<ProcStat> = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for p in procs.iter().filter(|p| p.ppid == parent) {
            frontier.push(p.pid);
            if !p.zombie {
                out.push(*p);
            }
        }
    }
    out
}

/// Bytes read and written by `pid` through any kind of I/O (rchar + wchar of
/// /proc/PID/io): a network wait that ends shows here before any output does.
pub fn io_bytes(pid: i32) -> Option<u64> {
    let io = procfs::process::Process::new(pid).ok()?.io().ok()?;
    Some(io.rchar.saturating_add(io.wchar))
}

/// Sends `sig` to one process; a process already gone is not an error.
pub fn signal_pid(pid: i32, sig: Signal) {
    if pid <= 1 {
        return;
    }
    if let Err(e) = kill(Pid::from_raw(pid), sig)
        && e != nix::errno::Errno::ESRCH
    {
        tracing::warn!(pid, signal = ?sig, error = %e, "kill failed");
    }
}

/// Sends `sig` to a whole process group; ESRCH (already gone) is not an error.
pub fn signal_group(pgid: i32, sig: Signal) {
    if pgid <= 1 {
        return; // never signal init's group or "every process"
    }
    if let Err(e) = killpg(Pid::from_raw(pgid), sig)
        && e != nix::errno::Errno::ESRCH
    {
        tracing::warn!(pgid, signal = ?sig, error = %e, "killpg failed");
    }
}

/// MemAvailable in bytes, if /proc/meminfo can be read.
pub fn mem_available() -> Option<u64> {
    procfs::Meminfo::current().ok()?.mem_available
}

/// Clock ticks per second (for CPU times from /proc/PID/stat).
pub fn ticks_per_second() -> u64 {
    procfs::ticks_per_second().max(1)
}

pub fn signal_name(sig: i32) -> String {
    Signal::try_from(sig)
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|_| format!("signal {sig}"))
}
