//! `<root>/.trash/`: where purged directories go. A purge renames a run's
//! directory or a clone in here (atomic and instant, whatever it holds) and
//! one low-priority background thread deletes it; the queue never waits on
//! a `remove_dir_all` of a clone with 20,000 files. Whatever a previous
//! daemon left in here is deleted at start, in the background too.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use super::private;

pub const TRASH_DIR: &str = ".trash";

pub struct Trash {
    dir: PathBuf,
    tx: mpsc::Sender<PathBuf>,
}

impl Trash {
    /// Starts the background deleter; the trash's current contents go first.
    pub fn start(root: &Path) -> Trash {
        let dir = root.join(TRASH_DIR);
        if let Err(e) = private::ensure_dir(&dir) {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot create the trash directory; purged directories are deleted in place");
        }
        let (tx, rx) = mpsc::channel::<PathBuf>();
        let leftovers: Vec<PathBuf> = fs::read_dir(&dir)
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        let spawned = std::thread::Builder::new()
            .name("trash".into())
            .spawn(move || {
                lower_priority();
                if !leftovers.is_empty() {
                    tracing::info!(
                        entries = leftovers.len(),
                        "emptying the trash left by an earlier daemon"
                    );
                }
                for path in leftovers {
                    delete(&path);
                }
                // Ends when the daemon drops its `Trash`.
                for path in rx {
                    delete(&path);
                    crate::sys::mem::return_freed_memory();
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the trash thread; purged directories stay in the trash until the next start");
        }
        Trash { dir, tx }
    }

    /// Moves `path` (a directory or file, if it exists) out of the way at
    /// once and has it deleted in the background.
    pub fn put(&self, path: &Path) -> io::Result<()> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target = self.dir.join(format!("{name}-{}", nanoid::nanoid!(8)));
        let doomed = match fs::rename(path, &target) {
            Ok(()) => target,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            // Another filesystem (a mount at the clone), no trash: deleted
            // where it is, still in the background (a purged id is never
            // used again).
            Err(e) => {
                tracing::debug!(path = %path.display(), error = %e, "cannot move into the trash; deleting in place");
                path.to_path_buf()
            }
        };
        self.tx
            .send(doomed)
            .map_err(|_| io::Error::other("the trash thread has stopped"))
    }
}

fn delete(path: &Path) {
    let result = match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::warn!(path = %path.display(), error = %e, "cannot delete purged files");
    }
}

/// The trash yields to everything else (nice 10 for this thread only).
fn lower_priority() {
    // SAFETY: gettid and setpriority on this very thread.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_moves_at_once_and_deletes_in_the_background() {
        let d = tempfile::tempdir().unwrap();
        // Left by an earlier daemon: emptied at start.
        fs::create_dir_all(d.path().join(TRASH_DIR).join("old").join("x")).unwrap();
        let trash = Trash::start(d.path());
        let victim = d.path().join("clone");
        fs::create_dir_all(victim.join("a/b")).unwrap();
        fs::write(victim.join("a/b/f"), "x").unwrap();
        trash.put(&victim).unwrap();
        assert!(!victim.exists());
        trash.put(&d.path().join("missing")).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while fs::read_dir(d.path().join(TRASH_DIR)).unwrap().count() > 0 {
            assert!(std::time::Instant::now() < deadline, "trash not emptied");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}
