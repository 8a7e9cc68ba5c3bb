//! Process file descriptors: a handle on one process that can never refer to
//! another one after a PID is reused. Readable once the process has exited.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::sys::signal::Signal;

#[derive(Debug)]
pub struct PidFd {
    fd: OwnedFd,
    pid: u32,
}

impl PidFd {
    /// Opens a pidfd for `pid` (close-on-exec). ESRCH: no such process.
    pub fn open(pid: u32) -> io::Result<PidFd> {
        // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel just returned this fd to us; nobody else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
        Ok(PidFd { fd, pid })
    }

    /// Opens a pidfd for `pid` only if it is still the process that started
    /// at `start_time`: opening first and checking after means the pidfd
    /// refers to that very process, never to a later one with the same PID.
    pub fn open_checked(pid: u32, start_time: u64) -> Option<PidFd> {
        let fd = PidFd::open(pid).ok()?;
        super::proc::same_process(pid, start_time).then_some(fd)
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Sends `sig` to the process; an exited process is not an error.
    pub fn signal(&self, sig: Signal) -> io::Result<()> {
        // SAFETY: a valid pidfd, a valid signal number, no siginfo, no flags.
        let r = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.fd.as_raw_fd(),
                sig as libc::c_int,
                std::ptr::null::<libc::siginfo_t>(),
                0u32,
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::ESRCH) {
                return Ok(());
            }
            return Err(e);
        }
        Ok(())
    }

    /// True once the process has exited (the pidfd polls readable).
    pub fn exited(&self) -> bool {
        let mut fds = [nix::poll::PollFd::new(
            self.fd.as_fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        matches!(nix::poll::poll(&mut fds, 0u16), Ok(n) if n > 0)
    }

    /// Reaps the process if it is a child of this one (no-op otherwise).
    pub fn reap(&self) {
        let _ = nix::sys::wait::waitpid(
            nix::unistd::Pid::from_raw(self.pid as i32),
            Some(nix::sys::wait::WaitPidFlag::WNOHANG),
        );
    }
}

impl AsFd for PidFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for PidFd {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}
