//! Judging a range of commits: every commit of A..B, on two threads when
//! the range is long, then the ratifications among them.

use crate::ancestry::Ancestry;
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::policy::{Evaluator, Verdict};
use crate::report::{Entry, Report};

use super::judge_commit;

/// Called with (commits checked, commits in the range) as a range is checked.
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// Counts checked commits across threads and reports every 100th.
struct Counter<'a> {
    done: std::sync::atomic::AtomicUsize,
    total: usize,
    progress: Progress<'a>,
}

impl Counter<'_> {
    fn tick(&self) {
        let n = self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if n.is_multiple_of(100) || n == self.total {
            (self.progress)(n, self.total);
        }
    }
}

/// One commit's report entry: its verdict, or why it could not be evaluated.
pub fn judge_entry(eval: &Evaluator<'_>, id: &str) -> Entry {
    match judge_commit(eval, id) {
        Ok(v) => Entry::Judged(Box::new(v)),
        Err(e) => Entry::Failed {
            commit: Some(id.to_string()),
            error: e.to_string(),
        },
    }
}

fn judge_all(eval: &Evaluator<'_>, ids: &[String], counter: &Counter<'_>) -> Vec<Entry> {
    ids.iter()
        .map(|id| {
            let mut entry = judge_entry(eval, id);
            if let Entry::Judged(v) = &mut entry {
                settle(v);
            }
            counter.tick();
            entry
        })
        .collect()
}

/// Drop what only judging needed, once a range's commit is judged: the
/// message, unless it can ratify (see [`crate::policy::ratify::asks`]).
/// A 10,000-commit range keeps 8 MiB less.
fn settle(v: &mut Verdict) {
    if !crate::policy::ratify::asks(&v.subject.message) {
        v.subject.message = String::new();
    }
}

/// Ranges up to this long are held in memory (see [`crate::ancestry`]):
/// about 100 bytes a commit.
const MAX_ANCESTRY: usize = 200_000;

/// Ranges at least this long are split between two threads.
const PARALLEL_FROM: usize = 200;

/// Consecutive commits a checking thread takes at a time, at most.
const RUN: usize = 512;

/// ... and at least, unless fewer are left.
const MIN_RUN: usize = 16;

/// The next run of commits a checking thread takes, from `*next` on: a
/// quarter of what is left, between [`MIN_RUN`] and [`RUN`]. Runs shrink
/// towards the end, so that one thread does not judge a long last run
/// alone while the other waits (512 commits were a tenth of a range's time).
fn next_run(next: &std::sync::Mutex<usize>, len: usize) -> Option<std::ops::Range<usize>> {
    let mut at = next
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let start = *at;
    if start >= len {
        return None;
    }
    let left = len - start;
    let end = start + (left / 4).clamp(MIN_RUN, RUN).min(left);
    *at = end;
    Some(start..end)
}

/// The range's commits in memory, read by two threads when the range is long.
fn read_ancestry(repo: &Repo, from: &str, ids: &[String]) -> Result<Ancestry> {
    if ids.len() < PARALLEL_FROM || crate::threads() < 2 {
        return Ancestry::read(repo, from, ids);
    }
    let (first, second) = ids.split_at(ids.len() / 2);
    let budget = Ancestry::budget();
    let budget = &budget;
    let commits = std::thread::scope(|scope| -> Result<Vec<_>> {
        let helper = scope.spawn(|| -> Result<Vec<_>> {
            let own = Repo::open()?;
            second
                .iter()
                .map(|id| Ancestry::read_one(&own, id, budget))
                .collect()
        });
        let mut commits: Vec<_> = first
            .iter()
            .map(|id| Ancestry::read_one(repo, id, budget))
            .collect::<Result<_>>()?;
        commits.extend(
            helper
                .join()
                .map_err(|_| Error::new("internal error in a reading thread"))??,
        );
        Ok(commits)
    })?;
    Ancestry::of_commits(from, ids, commits)
}

/// Evaluate a range A..B into a report: every commit, errors recorded, not fatal.
/// Long ranges use two threads, each with its own repository handle.
pub fn judge_range(
    repo: &Repo,
    rel: String,
    from: &str,
    to: &str,
    progress: Progress<'_>,
) -> Result<Report> {
    let from = repo.resolve(if from.is_empty() { "HEAD" } else { from })?;
    let to = repo.resolve(if to.is_empty() { "HEAD" } else { to })?;
    let ids = repo.range(&from, &to)?;
    if ids.len() >= PARALLEL_FROM {
        crate::git::for_long_walks();
    }
    // The range's commits in memory: what a merge's side brings is found there.
    let ancestry = if ids.len() <= MAX_ANCESTRY {
        Some(std::sync::Arc::new(read_ancestry(repo, &from, &ids)?))
    } else {
        None
    };
    let counter = Counter {
        done: std::sync::atomic::AtomicUsize::new(0),
        total: ids.len(),
        progress,
    };
    let counter = &counter;
    let threads = crate::threads();
    if ids.len() < PARALLEL_FROM || threads < 2 {
        let eval = Evaluator::new(repo, rel).with_ancestry(ancestry);
        let mut entries = judge_all(&eval, &ids, counter);
        ratify(&eval, &mut entries)?;
        return Ok(Report { entries });
    }
    // The two threads take consecutive runs of commits in turn, shorter
    // towards the end ([`next_run`]); within a run, each commit's trees are
    // its predecessor's, which the thread's caches still hold.
    let next = std::sync::Mutex::new(0);
    let take = |eval: &Evaluator<'_>| -> Vec<(usize, Vec<Entry>)> {
        let mut done = Vec::new();
        while let Some(run) = next_run(&next, ids.len()) {
            done.push((run.start, judge_all(eval, &ids[run], counter)));
        }
        done
    };
    let rel3 = rel.clone();
    let mut entries = std::thread::scope(|scope| -> Result<Vec<Entry>> {
        let rel2 = rel.clone();
        let ancestry2 = ancestry.clone();
        let take = &take;
        let helper = scope.spawn(move || -> Result<Vec<(usize, Vec<Entry>)>> {
            let own = Repo::open()?;
            let eval = Evaluator::new(&own, rel2).with_ancestry(ancestry2);
            Ok(take(&eval))
        });
        let eval = Evaluator::new(repo, rel).with_ancestry(ancestry);
        let mut done = take(&eval);
        done.extend(
            helper
                .join()
                .map_err(|_| Error::new("internal error in a checking thread"))??,
        );
        done.sort_by_key(|(i, _)| *i);
        Ok(done.into_iter().flat_map(|(_, e)| e).collect())
    })?;
    ratify(&Evaluator::new(repo, rel3), &mut entries)?;
    Ok(Report { entries })
}

/// Apply the `Guard-Ratify` trailers among a range's judged commits (see
/// [`crate::policy::ratify`]).
pub fn ratify(eval: &Evaluator<'_>, entries: &mut [Entry]) -> Result<()> {
    let asks = |v: &Verdict| crate::policy::ratify::asks(&v.subject.message);
    if !entries
        .iter()
        .any(|e| matches!(e, Entry::Judged(v) if asks(v)))
    {
        return Ok(());
    }
    let mut verdicts: Vec<&mut Verdict> = entries
        .iter_mut()
        .filter_map(|e| match e {
            Entry::Judged(v) => Some(&mut **v),
            Entry::Failed { .. } => None,
        })
        .collect();
    eval.ratify(&mut verdicts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runs cover the range once, in order, each within its bounds; the
    /// last runs are short, so the threads end within a short run of each
    /// other.
    #[test]
    fn runs_cover_the_range_and_shrink_towards_its_end() {
        for len in [0, 1, 15, 16, 17, 200, 513, 2048, 10_000, 100_003] {
            let next = std::sync::Mutex::new(0);
            let mut runs = Vec::new();
            while let Some(r) = next_run(&next, len) {
                runs.push(r);
            }
            let mut at = 0;
            for r in &runs {
                assert_eq!(r.start, at, "len {len}: {runs:?}");
                assert!(!r.is_empty() && r.len() <= RUN, "len {len}: {r:?}");
                assert!(r.len() >= MIN_RUN || r.end == len, "len {len}: {r:?}");
                at = r.end;
            }
            assert_eq!(at, len);
            if let Some(last) = runs.last() {
                assert!(last.len() <= MIN_RUN, "len {len}: last run {last:?}");
            }
            if len >= 4 * RUN {
                assert_eq!(runs[0].len(), RUN);
            }
        }
    }
}
