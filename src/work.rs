//! Counts of the work guard does on untrusted input, so that tests can bound
//! it without a clock: `GUARD_TRACE_WORK=1` prints them to stderr at exit as
//! one line, `guard: work: diffed=N tree-entries=N regex=N worktree=N
//! manifests=N commits=N peak-kib=N`.
//!
//! - `diffed`: bytes handed to the line diff (both sides);
//! - `tree-entries`: entries read from tree objects and the index while
//!   listing what a change holds under a zone's roots;
//! - `regex`: bytes an invariant's pattern was run over;
//! - `worktree`: bytes of work-tree files read in place of staged blobs;
//! - `manifests`: manifest texts parsed (a manifest blob read again is
//!   parsed again once out of the cache);
//! - `commits`: commit objects guard read itself (libgit2's revision walk
//!   reads its own);
//! - `peak-kib`: the process's peak resident memory so far, in KiB (Linux's
//!   `VmHWM`; 0 where the system does not say).
//!
//! Counting is one relaxed atomic add per diff, tree or search, never per byte.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy)]
pub enum Counter {
    Diffed,
    TreeEntries,
    Regex,
    Worktree,
    Manifests,
    Commits,
    /// Objects read by guard's own pack reader, and pack entries it inflated.
    Packed,
    Inflated,
}

static COUNTS: [AtomicU64; 8] = [
    AtomicU64::new(0),
    AtomicU64::new(0),
    AtomicU64::new(0),
    AtomicU64::new(0),
    AtomicU64::new(0),
    AtomicU64::new(0),
    AtomicU64::new(0),
    AtomicU64::new(0),
];

pub fn add(counter: Counter, n: usize) {
    COUNTS[counter as usize].fetch_add(n as u64, Ordering::Relaxed);
}

pub fn get(counter: Counter) -> u64 {
    COUNTS[counter as usize].load(Ordering::Relaxed)
}

/// The line `GUARD_TRACE_WORK` prints, or `None` when it is not asked for.
pub fn trace() -> Option<String> {
    let asked = std::env::var_os("GUARD_TRACE_WORK").is_some_and(|v| !v.is_empty() && v != "0");
    asked.then(|| {
        format!(
            "guard: work: diffed={} tree-entries={} regex={} worktree={} manifests={} \
             commits={} packed={} inflated={} peak-kib={}\n",
            get(Counter::Diffed),
            get(Counter::TreeEntries),
            get(Counter::Regex),
            get(Counter::Worktree),
            get(Counter::Manifests),
            get(Counter::Commits),
            get(Counter::Packed),
            get(Counter::Inflated),
            peak_kib()
        )
    })
}

/// Peak resident memory of this process in KiB (`VmHWM` of
/// `/proc/self/status`), or 0 where there is none.
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
