//! Privacy of what the daemon keeps on disk: its directories are 0700 and its
//! files 0600 whatever the umask; a secret file (the API key) is used only if
//! no one else could have read or replaced it, as ssh treats private keys.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode of every file the daemon writes.
pub const FILE_MODE: u32 = 0o600;
/// Mode of every directory the daemon makes.
pub const DIR_MODE: u32 = 0o700;

/// Makes `dir` (and missing parents) private from birth. A directory that
/// already exists is left as it is: see `tighten` for the root's own ones.
pub fn ensure_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    // A umask that takes bits from the owner would leave it unusable; it is
    // ours, just made, so setting its mode is ours to do.
    let meta = fs::metadata(dir)?;
    if meta.mode() & 0o777 != DIR_MODE {
        fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))?;
    }
    Ok(())
}

/// Takes group and other permissions away from one of the daemon's own
/// directories (a root made by an older version was 0755). Only a directory
/// owned by this user is touched; returns the old mode when it changed.
pub fn tighten(dir: &Path) -> io::Result<Option<u32>> {
    let meta = fs::symlink_metadata(dir)?;
    let mode = meta.mode() & 0o7777;
    if !meta.is_dir() || meta.uid() != nix::unistd::geteuid().as_raw() || mode & 0o077 == 0 {
        return Ok(None);
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(mode & !0o077))?;
    Ok(Some(mode))
}

/// Takes group and other permissions away from everything the daemon keeps
/// under `root` (work orders, run records and logs, its own files), for a
/// root an older version left readable: a private root with 0644 files
/// inside is one `chmod` away from open. Symlinks are not followed, entries
/// owned by another user are left alone, and `workspaces/` (the agents'
/// clones and worktrees, whose files the agents made) is not entered.
/// Returns how many entries changed.
pub fn tighten_tree(root: &Path) -> io::Result<u64> {
    let me = nix::unistd::geteuid().as_raw();
    let mut changed = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            let meta = fs::symlink_metadata(&path)?;
            if meta.file_type().is_symlink() || meta.uid() != me {
                continue;
            }
            if meta.is_dir() {
                if dir == root && entry.file_name() == "workspaces" {
                    continue;
                }
                stack.push(path.clone());
            } else if !meta.is_file() {
                continue;
            }
            let mode = meta.mode() & 0o7777;
            if mode & 0o077 != 0 {
                fs::set_permissions(&path, fs::Permissions::from_mode(mode & !0o077))?;
                changed += 1;
            }
        }
    }
    Ok(changed)
}

/// Why a secret file is refused, with the fix in the message.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "{path} is a symlink; refusing to read a secret through it (point the setting at the file itself)"
    )]
    Symlink { path: String },
    #[error("{path} is not a regular file")]
    NotAFile { path: String },
    #[error(
        "{path} is owned by uid {owner}, not by this user (uid {me}); refusing it (make your own copy with mode 0600)"
    )]
    Owner { path: String, owner: u32, me: u32 },
    #[error(
        "{path} is accessible by other users (mode {mode:04o}); refusing it (run `chmod 600 {path}`)"
    )]
    TooOpen { path: String, mode: u32 },
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: io::Error },
}

/// Reads a secret file that only this user can read or replace: not a
/// symlink (opened with O_NOFOLLOW, so none can be swapped in between the
/// check and the read), owned by this user, no group or other permissions.
/// Nothing is ever chmodded here: a file the user made is theirs to fix.
pub fn read_secret(path: &Path) -> Result<String, SecretError> {
    use std::io::Read;
    let shown = path.display().to_string();
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|source| match source.raw_os_error() {
            Some(libc::ELOOP) => SecretError::Symlink {
                path: shown.clone(),
            },
            _ => SecretError::Read {
                path: shown.clone(),
                source,
            },
        })?;
    let meta = file.metadata().map_err(|source| SecretError::Read {
        path: shown.clone(),
        source,
    })?;
    if !meta.is_file() {
        return Err(SecretError::NotAFile { path: shown });
    }
    let me = nix::unistd::geteuid().as_raw();
    if meta.uid() != me {
        return Err(SecretError::Owner {
            path: shown,
            owner: meta.uid(),
            me,
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(SecretError::TooOpen { path: shown, mode });
    }
    let mut text = String::new();
    // A key is short: more than 64 KiB is not a key file.
    file.take(64 * 1024)
        .read_to_string(&mut text)
        .map_err(|source| SecretError::Read {
            path: shown,
            source,
        })?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_checked_like_ssh_keys() {
        let d = tempfile::tempdir().unwrap();
        let key = d.path().join("key");
        fs::write(&key, "k1\n").unwrap();
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_secret(&key).unwrap(), "k1\n");
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_secret(&key).unwrap_err().to_string();
        assert!(e.contains("mode 0644") && e.contains("chmod 600"), "{e}");
        // Refused, and left as it was.
        assert_eq!(fs::metadata(&key).unwrap().mode() & 0o777, 0o644);
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&key, &link).unwrap();
        let e = read_secret(&link).unwrap_err().to_string();
        assert!(e.contains("symlink"), "{e}");
        let e = read_secret(d.path()).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        assert!(read_secret(&d.path().join("missing")).is_err());
    }

    #[test]
    fn dirs_are_made_private_and_roots_tightened() {
        let d = tempfile::tempdir().unwrap();
        let deep = d.path().join("a").join("b");
        ensure_dir(&deep).unwrap();
        assert_eq!(fs::metadata(&deep).unwrap().mode() & 0o777, 0o700);
        let old = d.path().join("old");
        fs::create_dir(&old).unwrap();
        fs::set_permissions(&old, fs::Permissions::from_mode(0o755)).unwrap();
        ensure_dir(&old).unwrap();
        assert_eq!(fs::metadata(&old).unwrap().mode() & 0o777, 0o755);
        assert_eq!(tighten(&old).unwrap(), Some(0o755));
        assert_eq!(fs::metadata(&old).unwrap().mode() & 0o777, 0o700);
        assert_eq!(tighten(&old).unwrap(), None);
    }
}
