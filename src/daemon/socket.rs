//! Binding the RPC socket with no window in which another user can connect,
//! and without changing the mode of a directory the daemon did not create:
//! the socket is bound inside a fresh 0700 directory, made 0600 there, and
//! renamed into place (replacing a stale socket atomically; the caller holds
//! the root's lock). A socket directory other users could write is refused:
//! they could replace the socket with their own.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use crate::store::private;

/// Prefix of the private directories the socket is bound in.
const BIND_DIR_PREFIX: &str = ".agentgate-bind-";

#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error("cannot prepare socket directory {path}: {source}")]
    Dir { path: PathBuf, source: io::Error },
    #[error(
        "refusing socket directory {path}: it is writable by other users (mode {mode:04o}), who could replace the socket; use a private directory (e.g. --socket $XDG_RUNTIME_DIR/agentgate/agentgate.sock) or `chmod go-w {path}`"
    )]
    Writable { path: PathBuf, mode: u32 },
    #[error(
        "refusing socket directory {path}: it belongs to uid {owner}, not to this user (uid {me}) or root; use a directory of your own (--socket)"
    )]
    Owner { path: PathBuf, owner: u32, me: u32 },
    #[error("cannot bind socket {path}: {source}")]
    Bind { path: PathBuf, source: io::Error },
}

/// Binds `path`; see the module documentation. The socket ends up 0600.
pub fn bind(path: &Path) -> Result<UnixListener, SocketError> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    let dir_err = |source| SocketError::Dir {
        path: dir.to_path_buf(),
        source,
    };
    private::ensure_dir(dir).map_err(dir_err)?;
    check_dir(dir)?;
    remove_stale_bind_dirs(dir);
    let bind_err = |source| SocketError::Bind {
        path: path.to_path_buf(),
        source,
    };
    let tmp = dir.join(format!("{BIND_DIR_PREFIX}{}", nanoid::nanoid!(8)));
    fs::DirBuilder::new()
        .mode(private::DIR_MODE)
        .create(&tmp)
        .map_err(bind_err)?;
    let result = (|| {
        fs::set_permissions(&tmp, fs::Permissions::from_mode(private::DIR_MODE))?;
        let inner = tmp.join("s");
        let listener = bind_at(&tmp, &inner)?;
        // Nobody else can reach it in here: make it 0600 before it is visible.
        fs::set_permissions(&inner, fs::Permissions::from_mode(private::FILE_MODE))?;
        fs::rename(&inner, path)?;
        Ok(listener)
    })();
    let _ = fs::remove_dir_all(&tmp);
    result.map_err(bind_err)
}

/// The directory must be this user's (or root's, like /run/user) and not
/// writable by anyone else.
fn check_dir(dir: &Path) -> Result<(), SocketError> {
    let meta = fs::metadata(dir).map_err(|source| SocketError::Dir {
        path: dir.to_path_buf(),
        source,
    })?;
    let me = nix::unistd::geteuid().as_raw();
    if meta.uid() != me && meta.uid() != 0 {
        return Err(SocketError::Owner {
            path: dir.to_path_buf(),
            owner: meta.uid(),
            me,
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(SocketError::Writable {
            path: dir.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// A bind directory left by a daemon that died between making and removing it.
fn remove_stale_bind_dirs(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let me = nix::unistd::geteuid().as_raw();
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(BIND_DIR_PREFIX)
            && e.metadata().is_ok_and(|m| m.is_dir() && m.uid() == me)
        {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// Binds `inner` (in the private directory `tmp`); a path too long for a
/// socket address is reached through the directory's descriptor instead.
fn bind_at(tmp: &Path, inner: &Path) -> io::Result<UnixListener> {
    match UnixListener::bind(inner) {
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
            let fd = fs::File::open(tmp)?;
            use std::os::fd::AsRawFd;
            UnixListener::bind(format!("/proc/self/fd/{}/s", fd.as_raw_fd()))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn existing_directory_keeps_its_mode_and_the_socket_is_private() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("dir");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let sock = dir.join("s.sock");
        fs::write(&sock, b"stale").unwrap();
        let l = bind(&sock).unwrap();
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o7777, 0o755);
        let meta = fs::symlink_metadata(&sock).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o600);
        assert!(std::os::unix::fs::FileTypeExt::is_socket(&meta.file_type()));
        assert!(std::os::unix::net::UnixStream::connect(&sock).is_ok());
        drop(l);
        // Nothing of the private bind directory is left.
        let names: Vec<_> = fs::read_dir(&dir).unwrap().flatten().collect();
        assert_eq!(names.len(), 1);

        fs::set_permissions(&dir, fs::Permissions::from_mode(0o1777)).unwrap();
        let e = bind(&sock).unwrap_err().to_string();
        assert!(
            e.contains("writable by other users") && e.contains("1777"),
            "{e}"
        );

        // A new directory is made private.
        let fresh = d.path().join("new").join("s.sock");
        bind(&fresh).unwrap();
        assert_eq!(
            fs::metadata(d.path().join("new")).unwrap().mode() & 0o777,
            0o700
        );
    }

    #[test]
    fn long_paths_bind_through_the_directory() {
        let d = tempfile::tempdir().unwrap();
        let mut dir = d.path().to_path_buf();
        while dir.as_os_str().len() < 100 {
            dir = dir.join("long-directory-name");
        }
        fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("s");
        // The final name fits; the bind directory's longer path would not.
        if sock.as_os_str().len() < 108 {
            bind(&sock).unwrap();
            assert!(std::os::unix::net::UnixStream::connect(&sock).is_ok());
        }
    }
}
