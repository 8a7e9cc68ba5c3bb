//! Applying a `Plan` where the run executes: the Landlock ruleset and
//! everything else that can fail is prepared in the supervisor (`prepare`),
//! so that between fork and exec the child only makes system calls
//! (`Prepared::enter`).

use std::ffi::CString;
use std::io;

use landlock::{
    ABI, Access, AccessFs, CompatLevel, Compatible, RulesetAttr, RulesetCreated,
    RulesetCreatedAttr, path_beneath_rules,
};

use super::{MIN_ABI, Plan};

/// The newest ABI whose rights we use: 5 adds device ioctls; later ones
/// (abstract and pathname Unix sockets) would cut agents off their own
/// helpers, such as `agentgate mcp` talking to the daemon.
pub const TARGET_ABI: u32 = 5;

/// The running kernel's Landlock ABI, if it has Landlock.
pub fn landlock_abi() -> Option<u32> {
    // SAFETY: landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)
    // only returns a number.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            1u32,
        )
    };
    (v > 0).then_some(v as u32)
}

/// Whether a child can get a network namespace of its own.
pub fn probe_netns() -> bool {
    use std::os::unix::process::CommandExt;
    let euid = nix::unistd::geteuid().as_raw();
    let egid = nix::unistd::getegid().as_raw();
    let Ok(maps) = IdMaps::new(euid, egid) else {
        return false;
    };
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.args(["-c", "exit 0"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: only system calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            maps.unshare_net(euid == 0)
                .map_err(io::Error::from_raw_os_error)
        });
    }
    cmd.status().is_ok_and(|s| s.success())
}

/// The uid and gid maps of a user namespace that keeps our ids.
struct IdMaps {
    uid: CString,
    gid: CString,
}

impl IdMaps {
    fn new(euid: u32, egid: u32) -> Result<IdMaps, std::ffi::NulError> {
        Ok(IdMaps {
            uid: CString::new(format!("{euid} {euid} 1\n"))?,
            gid: CString::new(format!("{egid} {egid} 1\n"))?,
        })
    }

    /// A network namespace with only loopback, up. Not root: inside a user
    /// namespace mapping our own ids (which gives the right to make one).
    ///
    /// # Safety
    /// Between fork and exec: system calls only.
    unsafe fn unshare_net(&self, root: bool) -> Result<(), i32> {
        unsafe {
            let errno = || *libc::__errno_location();
            if root {
                if libc::unshare(libc::CLONE_NEWNET) != 0 {
                    return Err(errno());
                }
            } else {
                if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET) != 0 {
                    return Err(errno());
                }
                write_file(c"/proc/self/setgroups", b"deny")?;
                write_file(c"/proc/self/uid_map", self.uid.as_bytes())?;
                write_file(c"/proc/self/gid_map", self.gid.as_bytes())?;
            }
            loopback_up()
        }
    }
}

/// # Safety
/// Between fork and exec: system calls only.
unsafe fn write_file(path: &std::ffi::CStr, data: &[u8]) -> Result<(), i32> {
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(*libc::__errno_location());
        }
        let n = libc::write(fd, data.as_ptr().cast(), data.len());
        let e = *libc::__errno_location();
        libc::close(fd);
        if n < 0 { Err(e) } else { Ok(()) }
    }
}

/// Brings `lo` up in the current network namespace.
///
/// # Safety
/// Between fork and exec: system calls only.
unsafe fn loopback_up() -> Result<(), i32> {
    unsafe {
        let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if s < 0 {
            return Err(*libc::__errno_location());
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (i, b) in b"lo\0".iter().enumerate() {
            req.ifr_name[i] = *b as libc::c_char;
        }
        let mut r = libc::ioctl(s, libc::SIOCGIFFLAGS as _, &mut req);
        if r == 0 {
            req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
            r = libc::ioctl(s, libc::SIOCSIFFLAGS as _, &mut req);
        }
        let e = *libc::__errno_location();
        libc::close(s);
        if r != 0 { Err(e) } else { Ok(()) }
    }
}

/// A plan made ready for one child.
pub struct Prepared {
    ruleset: RulesetCreated,
    net: Option<(IdMaps, bool)>,
    pub abi: u32,
}

impl Prepared {
    /// Confines the calling process (and whatever it execs).
    ///
    /// # Safety
    /// Between fork and exec of a single-threaded process.
    pub unsafe fn enter(&self) -> Result<(), i32> {
        if let Some((maps, root)) = &self.net {
            // SAFETY: as this function's.
            unsafe { maps.unshare_net(*root)? };
        }
        let ruleset = self
            .ruleset
            .try_clone()
            .map_err(|e| e.raw_os_error().unwrap_or(libc::EPERM))?;
        match ruleset.restrict_self() {
            Ok(s) if s.ruleset == landlock::RulesetStatus::FullyEnforced => Ok(()),
            _ => Err(libc::EPERM),
        }
    }
}

/// Everything that can fail, done before the fork; a message naming what is
/// missing and the way out when the host cannot confine as asked.
pub fn prepare(plan: &Plan) -> Result<Prepared, String> {
    let opt_out =
        "run it unconfined with `--sandbox off` (or `sandbox = \"off\"` for its agent type)";
    let abi = if plan.landlock { landlock_abi() } else { None };
    let abi = match abi {
        // As `Support::applied_abi`.
        Some(v) if v >= MIN_ABI => v.min(TARGET_ABI),
        Some(v) => {
            return Err(format!(
                "cannot confine the run: the kernel's Landlock is ABI v{v}, and the workspace sandbox needs v{MIN_ABI} (Linux 5.19) or newer; {opt_out}"
            ));
        }
        None => {
            return Err(format!(
                "cannot confine the run: this host has no Landlock (the kernel lacks it, it is not enabled at boot, or `sandbox_landlock = false` in the config); {opt_out}"
            ));
        }
    };
    for dir in std::iter::once(&plan.tmpdir).chain(&plan.make_dirs) {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    }
    // A writable path holding a hidden one would give it away.
    for w in &plan.writable {
        if let Some(h) = plan.hidden.iter().find(|h| h.starts_with(w)) {
            return Err(format!(
                "cannot confine the run: {} may be written, and it holds {}, which a confined run must not read; work in a narrower directory, or {opt_out}",
                w.display(),
                h.display()
            ));
        }
    }
    let v = ABI::from(abi as i32);
    let built = || -> Result<RulesetCreated, landlock::RulesetError> {
        landlock::Ruleset::default()
            .set_compatibility(CompatLevel::HardRequirement)
            .handle_access(AccessFs::from_all(v))?
            .create()?
            .add_rules(path_beneath_rules(
                super::plan::readable(&plan.hidden),
                AccessFs::from_read(v),
            ))?
            .add_rules(path_beneath_rules(
                super::plan::listable(&plan.hidden),
                AccessFs::ReadDir,
            ))?
            .add_rules(path_beneath_rules(&plan.writable, AccessFs::from_all(v)))
    };
    let ruleset =
        built().map_err(|e| format!("cannot confine the run: Landlock: {e}; {opt_out}"))?;
    let net = if plan.network {
        None
    } else {
        // Whether the host allows it was probed when the daemon started
        // (`Support`); a failure here still fails the start, with its errno.
        let euid = nix::unistd::geteuid().as_raw();
        let egid = nix::unistd::getegid().as_raw();
        let maps = IdMaps::new(euid, egid).map_err(|e| e.to_string())?;
        Some((maps, euid == 0))
    };
    Ok(Prepared { ruleset, net, abi })
}
