//! Starting a run's leader (the clone, then the agent): the leader of a
//! process group of its own, with a clean signal state, born inside the run's
//! cgroup.
//!
//! Where the run has a cgroup v2 directory, the child is created directly in
//! it with `clone3(CLONE_INTO_CGROUP)`: moving a process between cgroups
//! waits for an RCU grace period (often 10-20 ms), which would otherwise sit
//! between a submit and the agent's first instruction. Without clone3 (old
//! kernels, seccomp filters that refuse it) the child joins by writing to
//! `cgroup.procs` between fork and exec, as it does for a v1 memory cgroup.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use crate::sys::cgroup::RunCgroups;

/// What the leader's stdout/stderr are.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stdio {
    Null,
    Pipe,
}

pub struct Leader<'a> {
    pub program: &'a str,
    pub args: &'a [String],
    /// Added to (or replacing in) this process's environment.
    pub env: &'a [(String, String)],
    /// This process's variables the leader does not get (with the daemon's
    /// secrets, always withheld; see `executor::env`).
    pub env_remove: &'a [String],
    pub cwd: &'a Path,
    /// A file to read as stdin [default: /dev/null].
    pub stdin: Option<&'a Path>,
    pub stdout: Stdio,
    pub stderr: Stdio,
    /// Confinement entered between fork and exec (`crate::sandbox`).
    pub confine: Option<&'a crate::sandbox::apply::Prepared>,
}

pub struct Spawned {
    pub pid: i32,
    pub stdout: Option<OwnedFd>,
    pub stderr: Option<OwnedFd>,
}

/// `struct clone_args` of clone3(2), up to `cgroup` (CLONE_ARGS_SIZE_VER2).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

fn cstring(s: &OsStr) -> io::Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{s:?} contains a NUL byte"),
        )
    })
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(io::Error::from)
}

/// Starts `leader` in the run's cgroups; see the module documentation.
pub fn spawn(leader: &Leader<'_>, cgroups: &RunCgroups) -> io::Result<Spawned> {
    if let Some(dir) = cgroups.v2_dir_fd() {
        match spawn_clone3(leader, dir, cgroups.v1_join_fd()) {
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ENOSYS | libc::EPERM | libc::EINVAL | libc::E2BIG)
                ) => {}
            other => return other,
        }
    }
    spawn_std(leader, cgroups.join_fds())
}

/// The environment the leader gets: ours less what is withheld, with `env`
/// laid over it.
fn environment(env: &[(String, String)], remove: &[String]) -> Vec<(OsString, OsString)> {
    let mut vars: Vec<(OsString, OsString)> = crate::executor::env::passed_on(remove)
        .into_iter()
        .filter(|(k, _)| !env.iter().any(|(e, _)| OsStr::new(e) == k))
        .collect();
    vars.extend(env.iter().map(|(k, v)| (k.into(), v.into())));
    vars
}

/// Where `program` is, like execvp: as given if it has a slash, else each
/// directory of PATH (of the leader's own environment) in turn.
fn candidates(program: &str, vars: &[(OsString, OsString)]) -> Vec<OsString> {
    if program.contains('/') {
        return vec![program.into()];
    }
    let path = vars
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| {
            let dir = if dir.as_os_str().is_empty() {
                ".".into()
            } else {
                dir
            };
            dir.join(program).into_os_string()
        })
        .collect()
}

fn spawn_clone3(
    leader: &Leader<'_>,
    cgroup_dir: RawFd,
    v1_join: Option<RawFd>,
) -> io::Result<Spawned> {
    // Everything the child needs is made before the clone: after it, the
    // child only makes system calls.
    let vars = environment(leader.env, leader.env_remove);
    let programs: Vec<CString> = candidates(leader.program, &vars)
        .iter()
        .map(|p| cstring(p))
        .collect::<io::Result<_>>()?;
    let mut argv: Vec<CString> = vec![cstring(OsStr::new(leader.program))?];
    for a in leader.args {
        argv.push(cstring(OsStr::new(a))?);
    }
    let mut envp = Vec::with_capacity(vars.len());
    for (k, v) in &vars {
        let mut kv = k.clone();
        kv.push("=");
        kv.push(v);
        envp.push(cstring(&kv)?);
    }
    let argv_ptrs: Vec<*const libc::c_char> = argv
        .iter()
        .map(|c| c.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let envp_ptrs: Vec<*const libc::c_char> = envp
        .iter()
        .map(|c| c.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    let cwd = cstring(leader.cwd.as_os_str())?;
    let null = std::fs::File::options()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    let input = match leader.stdin {
        Some(p) => Some(std::fs::File::open(p)?),
        None => None,
    };
    let out = match leader.stdout {
        Stdio::Pipe => Some(pipe()?),
        Stdio::Null => None,
    };
    let err = match leader.stderr {
        Stdio::Pipe => Some(pipe()?),
        Stdio::Null => None,
    };
    let (report_r, report_w) = pipe()?;
    let null_fd = null.as_raw_fd();
    let in_fd = input.as_ref().map_or(null_fd, |f| f.as_raw_fd());
    let out_w = out.as_ref().map_or(null_fd, |(_, w)| w.as_raw_fd());
    let err_w = err.as_ref().map_or(null_fd, |(_, w)| w.as_raw_fd());
    let report_fd = report_w.as_raw_fd();
    let mut args = CloneArgs {
        flags: CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: cgroup_dir as u64,
        ..CloneArgs::default()
    };
    // SAFETY: clone3 without a new stack behaves like fork; this process is
    // single-threaded, and the child only makes system calls before exec
    // (or _exit) on memory prepared above.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: the child: system calls only, then exec or _exit.
        unsafe {
            child(
                in_fd,
                out_w,
                err_w,
                report_fd,
                cwd.as_ptr(),
                v1_join,
                leader.confine,
                &programs,
                argv_ptrs.as_ptr(),
                envp_ptrs.as_ptr(),
            )
        }
    }
    drop(report_w);
    let pid = pid as i32;
    // The report pipe closes on a successful exec (CLOEXEC); an errno on it
    // means the exec failed.
    let mut code = [0u8; 4];
    let n = loop {
        match nix::unistd::read(&report_r, &mut code) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => break other.unwrap_or(0),
        }
    };
    if n == 4 {
        let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
        return Err(io::Error::from_raw_os_error(i32::from_ne_bytes(code)));
    }
    Ok(Spawned {
        pid,
        stdout: out.map(|(r, _)| r),
        stderr: err.map(|(r, _)| r),
    })
}

/// The child side of `spawn_clone3`.
///
/// # Safety
/// Only in the child of a clone of a single-threaded process, with every
/// pointer valid (they point into the parent's memory, copied).
#[allow(clippy::too_many_arguments)]
unsafe fn child(
    in_fd: RawFd,
    out_w: RawFd,
    err_w: RawFd,
    report_fd: RawFd,
    cwd: *const libc::c_char,
    v1_join: Option<RawFd>,
    confine: Option<&crate::sandbox::apply::Prepared>,
    programs: &[CString],
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
) -> ! {
    unsafe {
        let fail = |report_fd: RawFd| -> ! {
            let errno = *libc::__errno_location();
            libc::write(report_fd, errno.to_ne_bytes().as_ptr().cast(), 4);
            libc::_exit(127)
        };
        if libc::setpgid(0, 0) != 0
            || libc::dup2(in_fd, 0) < 0
            || libc::dup2(out_w, 1) < 0
            || libc::dup2(err_w, 2) < 0
            || libc::chdir(cwd) != 0
        {
            fail(report_fd);
        }
        if let Some(fd) = v1_join {
            libc::write(fd, b"0".as_ptr().cast(), 1);
        }
        reset_signals();
        if let Some(c) = confine
            && let Err(e) = c.enter()
        {
            *libc::__errno_location() = e;
            fail(report_fd);
        }
        // Like execvp: a missing candidate means "try the next", one that is
        // not executable is remembered, anything else is the answer.
        let mut errno = libc::ENOENT;
        for p in programs {
            libc::execve(p.as_ptr(), argv, envp);
            match *libc::__errno_location() {
                libc::ENOENT | libc::ENOTDIR => {}
                libc::EACCES => errno = libc::EACCES,
                other => {
                    errno = other;
                    break;
                }
            }
        }
        *libc::__errno_location() = errno;
        fail(report_fd)
    }
}

/// A fresh signal state for a leader: nothing blocked (the supervisor blocks
/// SIGTERM and SIGCHLD for its signalfd), nothing ignored that a terminal or
/// a shell's job control set up above us. Raw rt_sigaction: a zeroed kernel
/// sigaction is SIG_DFL with no flags and no mask, and glibc would refuse its
/// own internal signals.
///
/// # Safety
/// Between fork and exec only (it is async-signal-safe).
unsafe fn reset_signals() {
    unsafe {
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
        let dfl = [0u64; 4];
        for sig in 1..=64 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    sig,
                    dfl.as_ptr(),
                    std::ptr::null_mut::<u64>(),
                    8usize,
                );
            }
        }
    }
}

/// Fork and exec through std, joining the cgroups between them.
fn spawn_std(leader: &Leader<'_>, join: Vec<RawFd>) -> io::Result<Spawned> {
    // `pre_exec` wants 'static; the pointer is used only in the child,
    // before `spawn` below returns (it waits for the exec).
    let confine = leader
        .confine
        .map(|c| c as *const crate::sandbox::apply::Prepared as usize);
    let mut cmd = Command::new(leader.program);
    let stdio = |o: Stdio| match o {
        Stdio::Null => std::process::Stdio::null(),
        Stdio::Pipe => std::process::Stdio::piped(),
    };
    let stdin = match leader.stdin {
        Some(p) => std::process::Stdio::from(std::fs::File::open(p)?),
        None => std::process::Stdio::null(),
    };
    cmd.args(leader.args)
        .current_dir(leader.cwd)
        .env_clear()
        .envs(environment(leader.env, leader.env_remove))
        .stdin(stdin)
        .stdout(stdio(leader.stdout))
        .stderr(stdio(leader.stderr))
        .process_group(0);
    // SAFETY: only async-signal-safe calls (write, sigprocmask, rt_sigaction)
    // between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            for fd in &join {
                libc::write(*fd, b"0".as_ptr().cast(), 1);
            }
            reset_signals();
            if let Some(c) = confine {
                let c = &*(c as *const crate::sandbox::apply::Prepared);
                c.enter().map_err(io::Error::from_raw_os_error)?;
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn()?;
    Ok(Spawned {
        pid: child.id() as i32,
        stdout: child.stdout.take().map(OwnedFd::from),
        stderr: child.stderr.take().map(OwnedFd::from),
    })
}
