//! Keeping a long-lived small process small.

/// Drops this process's resident pages of read-only file mappings (program
/// text, read-only data) that are identical to the file — those are
/// re-read from the page cache if touched again — and stops the kernel from
/// mapping 64 KiB around each later fault in them. A supervisor that lives
/// for hours then holds only the pages its wait loop uses, not the several
/// MiB that start-up touched. Mappings with any private (relocated) page are
/// left alone, so nothing that differs from the file is ever dropped.
pub fn release_clean_file_pages() {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    let mut current: Option<(usize, usize, bool)> = None;
    let mut candidates = Vec::new();
    for line in smaps.lines() {
        let mut parts = line.split_whitespace();
        let Some(first) = parts.next() else { continue };
        if let Some((lo, hi)) = first.split_once('-')
            && let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
        {
            let perms = parts.next().unwrap_or("");
            // private, not writable, backed by a file (a path in the 6th column)
            let path = parts.nth(3);
            let eligible = perms.starts_with('r')
                && !perms.contains('w')
                && perms.ends_with('p')
                && path.is_some_and(|p| p.starts_with('/'));
            current = Some((lo, hi, eligible));
            continue;
        }
        if first == "Anonymous:"
            && let Some((lo, hi, true)) = current
            && parts.next() == Some("0")
        {
            candidates.push((lo, hi));
        }
    }
    for (lo, hi) in candidates {
        // SAFETY: a mapping of this process, read-only and with no private
        // page: advice cannot change what the program reads there.
        unsafe {
            let addr = lo as *mut libc::c_void;
            libc::madvise(addr, hi - lo, libc::MADV_RANDOM);
            libc::madvise(addr, hi - lo, libc::MADV_DONTNEED);
        }
    }
}

/// Makes the allocator serve large blocks (a big RPC frame, a long listing)
/// from their own mappings, returned to the system when freed. glibc would
/// otherwise raise its threshold after the first such block and keep later
/// ones in its heaps: 60 connections of 15 MiB frames left ~500 MiB resident
/// after they closed.
pub fn tune_allocator() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only changes allocator parameters.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        // Few arenas: each of the loader's many threads would otherwise get
        // its own, each left fragmented by the parse (~20 MiB at 100,000
        // work orders); the daemon's allocations are not contended.
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Gives the allocator's free memory back to the system (after a burst of
/// large work: a big frame, a purge, loading the store). Rate-limited: at
/// most once a second.
pub fn return_freed_memory() {
    use std::sync::Mutex;
    use std::time::{Duration, Instant};
    static LAST: Mutex<Option<Instant>> = Mutex::new(None);
    if let Ok(mut last) = LAST.lock() {
        if last.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
            return;
        }
        *last = Some(Instant::now());
    }
    trim();
}

/// Gives the allocator's free memory back to the system now.
pub fn trim() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only releases free memory.
    unsafe {
        libc::malloc_trim(0);
    }
}
