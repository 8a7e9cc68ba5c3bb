//! The submit journal: a new work order is durable once one small record is
//! written into a preallocated file and `fdatasync`ed, so a submit is answered
//! after one data flush (about 0.4 ms here) instead of creating its own file
//! (temp file, fsync, rename, fsync dir: two commits of the file system's
//! journal, which also flush every other file's pending data, about 2 ms).
//! The work order's own file is written right after the answer; at start,
//! before loading, every record whose file is missing is written out
//! (`Store::replay_journal`), then the journal is emptied.
//!
//! Layout: `<root>/journal`, `CAPACITY` bytes written once (zeros), so a
//! record overwrites blocks that already exist and its flush changes no
//! file-system metadata. Records follow each other from offset 0:
//! `magic "AGJ1" | generation u64 | seq u32 | len u32 | crc32 u32 | payload`
//! (little endian; the CRC covers generation, seq, len and payload; the
//! payload is the work order's JSON). Emptying writes a zero header at 0; a
//! new generation (random) starts there, so what follows from an older one
//! (lower seq, other generation) ends the scan, as does a torn record.
//!
//! A record must not outlive its work order's file being deleted (a purge):
//! the queue empties the journal before it deletes one (`Journal::reset`).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::atomic::sync_dir;
use super::private::FILE_MODE;
use super::{Store, StoreError};
use crate::model::{WorkOrder, validate_id};

/// File name under the root.
pub const FILE_NAME: &str = "journal";
/// Size of the journal file. About 1,500 ordinary work orders fit before it
/// is emptied (which the queue does once their files are written).
pub const CAPACITY: u64 = 1 << 20;
const MAGIC: [u8; 4] = *b"AGJ1";
/// Bytes before each record's payload.
pub const RECORD_HEADER: usize = 4 + 8 + 4 + 4 + 4;

/// The journal, open for appending.
#[derive(Debug)]
pub struct Journal {
    file: File,
    offset: u64,
    generation: u64,
    seq: u32,
}

impl Journal {
    /// Opens `<root>/journal`, creating it at full size (durably) if missing
    /// or short. Starts empty: replay it first (`Store::replay_journal`).
    pub fn open(root: &Path) -> Result<Journal, StoreError> {
        let path = root.join(FILE_NAME);
        let write = |source| StoreError::Write {
            path: path.clone(),
            source,
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(FILE_MODE)
            .open(&path)
            .map_err(write)?;
        let len = file.metadata().map_err(write)?.len();
        if len < CAPACITY {
            // Real zeros, not a hole: a record then overwrites allocated
            // blocks, and its flush is data only. In pieces: the daemon
            // should not hold a megabyte for it.
            let zeros = [0u8; 64 * 1024];
            let mut at = len;
            while at < CAPACITY {
                let n = (CAPACITY - at).min(zeros.len() as u64) as usize;
                file.write_all_at(&zeros[..n], at).map_err(write)?;
                at += n as u64;
            }
            file.sync_all().map_err(write)?;
            sync_dir(root).map_err(write)?;
        }
        let mut journal = Journal {
            file,
            offset: 0,
            generation: 0,
            seq: 0,
        };
        journal.reset().map_err(write)?;
        Ok(journal)
    }

    /// Whether nothing was appended since the last reset.
    pub fn is_empty(&self) -> bool {
        self.seq == 0
    }

    /// How full the journal is, in bytes.
    pub fn used(&self) -> u64 {
        self.offset
    }

    /// Appends one record and makes it durable. `Ok(false)`: it does not fit
    /// (the caller writes the work order's file instead).
    pub fn append(&mut self, payload: &[u8]) -> io::Result<bool> {
        let Ok(len) = u32::try_from(payload.len()) else {
            return Ok(false);
        };
        let total = (RECORD_HEADER + payload.len()) as u64;
        if self.offset + total > CAPACITY {
            return Ok(false);
        }
        let mut record = Vec::with_capacity(total as usize);
        record.extend_from_slice(&MAGIC);
        record.extend_from_slice(&self.generation.to_le_bytes());
        record.extend_from_slice(&self.seq.to_le_bytes());
        record.extend_from_slice(&len.to_le_bytes());
        record.extend_from_slice(&checksum(self.generation, self.seq, payload).to_le_bytes());
        record.extend_from_slice(payload);
        self.file.write_all_at(&record, self.offset)?;
        self.file.sync_data()?;
        self.offset += total;
        self.seq += 1;
        Ok(true)
    }

    /// Empties the journal: every record's work order must have its own file
    /// by now. One zero header at offset 0, flushed; a new generation.
    pub fn reset(&mut self) -> io::Result<()> {
        self.file.write_all_at(&[0u8; RECORD_HEADER], 0)?;
        self.file.sync_data()?;
        self.offset = 0;
        self.seq = 0;
        self.generation = new_generation(self.generation);
        Ok(())
    }
}

/// A random generation other than the last one: records of an older one
/// left past the new ones must never read as their continuation.
fn new_generation(last: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    loop {
        // std's per-process random keys: enough to tell generations apart.
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(last);
        let g = h.finish();
        if g != last {
            return g;
        }
    }
}

fn checksum(generation: u64, seq: u32, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&generation.to_le_bytes());
    h.update(&seq.to_le_bytes());
    h.update(&(payload.len() as u32).to_le_bytes());
    h.update(payload);
    h.finalize()
}

/// The payloads of the journal's records, in order: the run of whole,
/// intact records of one generation from offset 0 (seq 0, 1, 2, ...). Stops
/// at the first zero header, torn or foreign record, or end of data.
pub fn records(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0usize;
    let mut generation = None;
    while let Some(header) = bytes.get(at..at + RECORD_HEADER) {
        if header[0..4] != MAGIC {
            break;
        }
        let le8 = |r: std::ops::Range<usize>| {
            let mut b = [0u8; 8];
            b[..r.len()].copy_from_slice(&header[r]);
            u64::from_le_bytes(b)
        };
        let gen_ = le8(4..12);
        let seq = le8(12..16);
        let len = le8(16..20) as usize;
        let crc = le8(20..24) as u32;
        if *generation.get_or_insert(gen_) != gen_ || seq != out.len() as u64 {
            break;
        }
        let Some(payload) = bytes.get(at + RECORD_HEADER..at + RECORD_HEADER + len) else {
            break;
        };
        if checksum(gen_, seq as u32, payload) != crc {
            break;
        }
        out.push(payload);
        at += RECORD_HEADER + len;
    }
    out
}

/// What replaying the journal did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Work orders whose file was missing and has been written.
    pub written: u32,
    /// Records that could not be read as a work order (kept in quarantine).
    pub quarantined: u32,
}

/// Free space below which new work orders skip the journal.
const MIN_FREE_BYTES: u64 = 1 << 20;

impl Store {
    /// Whether the root's file system has room for what a journaled work
    /// order's file and run need next (1 MiB; unknown: yes).
    pub fn has_room(&self) -> bool {
        match nix::sys::statvfs::statvfs(&self.root) {
            Ok(st) => st.blocks_available().saturating_mul(st.fragment_size()) >= MIN_FREE_BYTES,
            Err(_) => true,
        }
    }

    /// The journal's path.
    pub fn journal_path(&self) -> PathBuf {
        self.root.join(FILE_NAME)
    }

    /// Writes the file of every journaled work order that has none (a daemon
    /// that stopped between answering a submit and writing its file), then
    /// empties the journal. Run before `load`, which would otherwise treat
    /// such a work order's run directory as an orphan.
    pub fn replay_journal(&self) -> Result<Replayed, StoreError> {
        let path = self.journal_path();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Replayed::default()),
            Err(source) => return Err(StoreError::Read { path, source }),
        };
        let mut done = Replayed::default();
        for (seq, payload) in records(&bytes).into_iter().enumerate() {
            match WorkOrder::from_json_slice(payload) {
                Ok((wo, extra)) if validate_id(&wo.id).is_ok() => {
                    if self.work_order_path(&wo.id).exists() {
                        continue; // written after the answer, as usual
                    }
                    self.save_work_order(&wo, &extra)?;
                    tracing::info!(work_order = %wo.id, "work order written from the journal");
                    done.written += 1;
                }
                Ok(_) | Err(_) => {
                    let dir = self.quarantine_dir();
                    let kept =
                        dir.join(format!("journal-record-{seq}-{}.json", nanoid::nanoid!(6)));
                    super::private::ensure_dir(&dir).map_err(|source| StoreError::CreateDir {
                        path: dir.clone(),
                        source,
                    })?;
                    super::atomic::write_atomic(&kept, payload, FILE_MODE).map_err(|source| {
                        StoreError::Write {
                            path: kept.clone(),
                            source,
                        }
                    })?;
                    tracing::error!(kept = %kept.display(), "a journal record is not a work order; kept in quarantine");
                    done.quarantined += 1;
                }
            }
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::WorkOrder;

    fn order(id: &str) -> WorkOrder {
        WorkOrder::new_queued(
            id.into(),
            format!("prompt of {id}"),
            "shell".into(),
            crate::model::WorkspaceSource::Local { path: "/".into() },
            60,
            1,
            crate::model::Timestamp(1_767_323_045_678),
        )
    }

    fn payload(wo: &WorkOrder) -> Vec<u8> {
        wo.to_json_pretty_with(&serde_json::Map::new())
    }

    #[test]
    fn replay_writes_missing_files_and_skips_present_ones() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::open(d.path()).unwrap();
        let mut j = Journal::open(d.path()).unwrap();
        let (a, b) = (order("aaaaaaaaaaaa"), order("bbbbbbbbbbbb"));
        assert!(j.append(&payload(&a)).unwrap());
        assert!(j.append(&payload(&b)).unwrap());
        // b's file was written after its answer; a's was not (a crash).
        let mut b_later = b.clone();
        b_later.task_prompt = "newer".into();
        store
            .save_work_order(&b_later, &Default::default())
            .unwrap();
        drop(j);
        let done = store.replay_journal().unwrap();
        assert_eq!(
            done,
            Replayed {
                written: 1,
                quarantined: 0
            }
        );
        let read = |id: &str| {
            let bytes = std::fs::read(store.work_order_path(id)).unwrap();
            WorkOrder::from_json_slice(&bytes).unwrap().0
        };
        assert_eq!(read("aaaaaaaaaaaa").task_prompt, "prompt of aaaaaaaaaaaa");
        assert_eq!(
            read("bbbbbbbbbbbb").task_prompt,
            "newer",
            "a newer file wins"
        );
        // Opening empties it: nothing is replayed twice.
        let _j = Journal::open(d.path()).unwrap();
        std::fs::remove_file(store.work_order_path("aaaaaaaaaaaa")).unwrap();
        assert_eq!(store.replay_journal().unwrap(), Replayed::default());
        assert!(!store.work_order_path("aaaaaaaaaaaa").exists());
    }

    #[test]
    fn a_reset_or_a_new_generation_hides_older_records() {
        let d = tempfile::tempdir().unwrap();
        let mut j = Journal::open(d.path()).unwrap();
        for id in ["aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc"] {
            assert!(j.append(&payload(&order(id))).unwrap());
        }
        let bytes = std::fs::read(d.path().join(FILE_NAME)).unwrap();
        assert_eq!(records(&bytes).len(), 3);
        j.reset().unwrap();
        let bytes = std::fs::read(d.path().join(FILE_NAME)).unwrap();
        assert!(records(&bytes).is_empty());
        // A shorter record of the new generation lands over the old first
        // one; the old second one after it must not count.
        assert!(j.append(b"{}").unwrap());
        let bytes = std::fs::read(d.path().join(FILE_NAME)).unwrap();
        assert_eq!(records(&bytes), vec![&b"{}"[..]]);
    }

    #[test]
    fn torn_or_corrupt_records_end_the_scan() {
        let d = tempfile::tempdir().unwrap();
        let mut j = Journal::open(d.path()).unwrap();
        assert!(j.append(b"{\"one\":1}").unwrap());
        assert!(j.append(b"{\"two\":2}").unwrap());
        let path = d.path().join(FILE_NAME);
        let mut bytes = std::fs::read(&path).unwrap();
        assert_eq!(records(&bytes).len(), 2);
        // A flipped byte in the second payload: only the first is whole.
        let second = RECORD_HEADER + 9 + RECORD_HEADER + 3;
        bytes[second] ^= 0x55;
        assert_eq!(records(&bytes), vec![&b"{\"one\":1}"[..]]);
        // A length past the end, garbage, nothing.
        bytes[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(records(&bytes).is_empty());
        assert!(records(b"AGJ1").is_empty());
        assert!(records(&[]).is_empty());
    }

    #[test]
    fn a_record_that_does_not_fit_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let mut j = Journal::open(d.path()).unwrap();
        let big = vec![b' '; CAPACITY as usize];
        assert!(!j.append(&big).unwrap());
        assert!(j.is_empty());
        let half = vec![b' '; CAPACITY as usize / 2];
        assert!(j.append(&half).unwrap());
        assert!(
            !j.append(&half).unwrap(),
            "the second half has no room for its header"
        );
        assert_eq!(j.used(), (RECORD_HEADER + half.len()) as u64);
    }

    #[test]
    fn a_record_that_is_not_a_work_order_is_quarantined() {
        let d = tempfile::tempdir().unwrap();
        let store = Store::open(d.path()).unwrap();
        let mut j = Journal::open(d.path()).unwrap();
        assert!(j.append(b"{\"id\":\"../../etc\"}").unwrap());
        drop(j);
        let done = store.replay_journal().unwrap();
        assert_eq!(
            done,
            Replayed {
                written: 0,
                quarantined: 1
            }
        );
        assert_eq!(
            std::fs::read_dir(store.quarantine_dir()).unwrap().count(),
            1
        );
    }
}
