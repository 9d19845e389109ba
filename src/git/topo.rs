//! Walks of the history in libgit2's topological order, oldest first,
//! without libgit2's lost commits.
//!
//! The walk is libgit2's (`revwalk.c`: `git_revwalk__push_commit`,
//! `prepare_walk`, `limit_list`, `sort_in_topological_order` for
//! `GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE`), step for step, so that it
//! lists the commits libgit2's walk lists in the same order, but for one
//! thing: libgit2 counts a commit's children in 16 bits, and a commit with
//! 65,535 children in the walk (one commit naming it 65,535 times as a
//! parent is enough) wraps that count to 0 and is never listed, nor are its
//! ancestors. Here the count does not wrap: such a commit is listed and judged.
//!
//! It reads only a commit's parents and committer time (see [`Header`]);
//! the caller reads them as libgit2 does.

use std::collections::{HashMap, VecDeque};

use git2::Oid;

/// What a walk reads of a commit: its committer time and its parents.
pub type Header = (i64, Vec<Oid>);

/// How a walk reads a commit's header; `Err` ends the walk with that error.
pub type Read<'r> = &'r mut dyn FnMut(Oid) -> Result<Header, String>;

/// How many uninteresting commits the walk looks at after it runs out of
/// interesting ones (libgit2's `SLOP`).
const SLOP: u32 = 5;

struct Node {
    id: Oid,
    time: i64,
    /// `None` until the commit is read.
    parents: Option<Vec<u32>>,
    seen: bool,
    uninteresting: bool,
    added: bool,
    in_degree: u32,
}

/// A walk: commits pushed (listed with their ancestors) and hidden (not
/// listed, nor their ancestors).
pub struct Walk<'r> {
    nodes: Vec<Node>,
    index: HashMap<Oid, u32>,
    read: Read<'r>,
    first_parent: bool,
    /// Pushed and hidden commits, in the order given (libgit2 puts each in
    /// front of its list: it takes them last first).
    input: Vec<u32>,
    pushed: bool,
}

impl<'r> Walk<'r> {
    /// A walk that follows every parent, or (`first_parent`) only the first
    /// parent of each listed commit.
    pub fn new(first_parent: bool, read: Read<'r>) -> Walk<'r> {
        Walk {
            nodes: Vec::new(),
            index: HashMap::new(),
            read,
            first_parent,
            input: Vec::new(),
            pushed: false,
        }
    }

    /// git_revwalk_push
    pub fn push(&mut self, id: Oid) {
        let n = self.lookup(id);
        if !self.node(n).uninteresting {
            self.pushed = true;
            self.input.push(n);
        }
    }

    /// git_revwalk_hide
    pub fn hide(&mut self, id: Oid) {
        let n = self.lookup(id);
        if !self.node(n).uninteresting {
            self.nodes[n as usize].uninteresting = true;
            self.input.push(n);
        }
    }

    /// The walk's commits, oldest first.
    pub fn run(mut self) -> Result<Vec<Oid>, String> {
        if !self.pushed {
            return Ok(Vec::new());
        }
        // prepare_walk
        let mut commits = VecDeque::new();
        for c in std::mem::take(&mut self.input).into_iter().rev() {
            self.parse(c)?;
            if self.node(c).uninteresting {
                self.mark_parents_uninteresting(c);
            }
            if !self.node(c).seen {
                self.nodes[c as usize].seen = true;
                commits.push_back(c);
            }
        }
        let listed = self.limit_list(commits)?;
        let sorted = self.topological(&listed);
        // Every listed commit comes out of the sort, unless a count of
        // children overflowed (libgit2's did at 65,536) or the history
        // loops: then the walk is not trusted.
        if sorted.len() != listed.len() {
            return Err(format!(
                "the walk listed {} commits but ordered only {}: the history cannot be ordered",
                listed.len(),
                sorted.len()
            ));
        }
        // The toposort iterator skips what became uninteresting; REVERSE
        // lists what it gives backwards.
        Ok(sorted
            .into_iter()
            .rev()
            .filter(|&c| !self.node(c).uninteresting)
            .map(|c| self.node(c).id)
            .collect())
    }

    fn node(&self, n: u32) -> &Node {
        &self.nodes[n as usize]
    }

    fn parents(&self, n: u32) -> &[u32] {
        self.node(n).parents.as_deref().unwrap_or(&[])
    }

    /// git_revwalk__commit_lookup
    fn lookup(&mut self, id: Oid) -> u32 {
        if let Some(&n) = self.index.get(&id) {
            return n;
        }
        let n = self.nodes.len() as u32;
        self.nodes.push(Node {
            id,
            time: 0,
            parents: None,
            seen: false,
            uninteresting: false,
            added: false,
            in_degree: 0,
        });
        self.index.insert(id, n);
        n
    }

    /// git_commit_list_parse
    fn parse(&mut self, n: u32) -> Result<(), String> {
        if self.node(n).parents.is_some() {
            return Ok(());
        }
        let id = self.node(n).id;
        let (time, parents) = (self.read)(id)?;
        if parents.len() > usize::from(u16::MAX) {
            return Err(format!("commit {id} has more than 2^16 parents"));
        }
        let parents = parents.into_iter().map(|p| self.lookup(p)).collect();
        let node = &mut self.nodes[n as usize];
        node.time = time;
        node.parents = Some(parents);
        Ok(())
    }

    /// mark_parents_uninteresting: through the commits already read.
    fn mark_parents_uninteresting(&mut self, n: u32) {
        // libgit2 puts each parent in front of a list and takes from the
        // front: a stack.
        let mut stack: Vec<u32> = self.parents(n).to_vec();
        while let Some(top) = stack.pop() {
            let mut at = Some(top);
            while let Some(c) = at {
                if self.node(c).uninteresting {
                    break;
                }
                self.nodes[c as usize].uninteresting = true;
                let Some(parents) = self.node(c).parents.as_ref() else {
                    break;
                };
                stack.extend_from_slice(parents);
                at = parents.first().copied();
            }
        }
    }

    /// git_commit_list_insert_by_date: before the first commit of `list`
    /// older than `n`.
    fn insert_by_date(&self, n: u32, list: &mut VecDeque<u32>) {
        let time = self.node(n).time;
        let at = list
            .iter()
            .position(|&c| self.node(c).time < time)
            .unwrap_or(list.len());
        list.insert(at, n);
    }

    /// add_parents_to_list
    fn add_parents_to_list(&mut self, n: u32, list: &mut VecDeque<u32>) -> Result<(), String> {
        if self.node(n).added {
            return Ok(());
        }
        self.nodes[n as usize].added = true;
        let parents = self.parents(n).to_vec();
        if self.node(n).uninteresting {
            for p in parents {
                self.nodes[p as usize].uninteresting = true;
                self.parse(p)?;
                self.mark_parents_uninteresting(p);
                self.nodes[p as usize].seen = true;
                self.insert_by_date(p, list);
            }
            return Ok(());
        }
        for p in parents {
            self.parse(p)?;
            if !self.node(p).seen {
                self.nodes[p as usize].seen = true;
                self.insert_by_date(p, list);
            }
            if self.first_parent {
                break;
            }
        }
        Ok(())
    }

    /// still_interesting
    fn still_interesting(&self, list: &VecDeque<u32>, time: i64, slop: u32) -> u32 {
        let Some(&first) = list.front() else {
            return 0;
        };
        if time <= self.node(first).time {
            return SLOP;
        }
        if list.iter().any(|&c| {
            let c = self.node(c);
            !c.uninteresting || c.time > time
        }) {
            return SLOP;
        }
        slop - 1
    }

    /// limit_list: the interesting commits, newest first by the walk's order.
    fn limit_list(&mut self, mut list: VecDeque<u32>) -> Result<Vec<u32>, String> {
        let mut slop = SLOP;
        let mut time = i64::MAX;
        let mut listed = Vec::new();
        while let Some(c) = list.pop_front() {
            self.add_parents_to_list(c, &mut list)?;
            if self.node(c).uninteresting {
                self.mark_parents_uninteresting(c);
                slop = self.still_interesting(&list, time, slop);
                if slop > 0 {
                    continue;
                }
                break;
            }
            time = self.node(c).time;
            listed.push(c);
        }
        Ok(listed)
    }

    /// sort_in_topological_order, without time sorting: its queue is a stack.
    fn topological(&mut self, list: &[u32]) -> Vec<u32> {
        for &c in list {
            self.nodes[c as usize].in_degree = 1;
        }
        for &c in list {
            for i in 0..self.parents(c).len() {
                let p = self.parents(c)[i] as usize;
                if self.nodes[p].in_degree > 0 {
                    // Saturated, the commit is never ordered: `run` says so.
                    self.nodes[p].in_degree = self.nodes[p].in_degree.saturating_add(1);
                }
            }
        }
        let mut stack: Vec<u32> = list
            .iter()
            .copied()
            .filter(|&c| self.node(c).in_degree == 1)
            .collect();
        stack.reverse();
        let mut sorted = Vec::with_capacity(list.len());
        while let Some(next) = stack.pop() {
            for i in 0..self.parents(next).len() {
                let p = self.parents(next)[i];
                let parent = &mut self.nodes[p as usize];
                if parent.in_degree == 0 {
                    continue;
                }
                parent.in_degree -= 1;
                if parent.in_degree == 1 {
                    stack.push(p);
                }
            }
            self.nodes[next as usize].in_degree = 0;
            sorted.push(next);
        }
        sorted
    }
}

/// The committer time and parents of a commit as stored, as libgit2's quick
/// parse reads them (`commit_parse` with `GIT_COMMIT_PARSE_QUICK`), when the
/// commit is in the form git writes: a `tree` line, `parent` lines of 40
/// lowercase hex digits, `author` lines and a `committer` line each ending
/// in `<…> SECONDS ±HHMM`. `None` for anything else (the caller then asks
/// libgit2).
pub fn quick_header(raw: &[u8]) -> Option<Header> {
    let mut lines = raw.split_inclusive(|&b| b == b'\n');
    let tree = lines.next()?;
    if !(tree.len() == 46 && tree.starts_with(b"tree ") && is_hex_line(&tree[5..])) {
        return None;
    }
    let mut parents = Vec::new();
    let mut line = lines.next()?;
    while let Some(rest) = line.strip_prefix(b"parent ") {
        if !(line.len() == 48 && is_hex_line(rest)) {
            return None;
        }
        parents.push(Oid::from_str(std::str::from_utf8(&rest[..40]).ok()?).ok()?);
        line = lines.next()?;
    }
    while let Some(rest) = line.strip_prefix(b"author ") {
        signature_time(rest)?;
        line = lines.next()?;
    }
    let time = signature_time(line.strip_prefix(b"committer ")?)?;
    Some((time, parents))
}

/// 40 lowercase hex digits and a newline.
fn is_hex_line(s: &[u8]) -> bool {
    s.len() == 41
        && s[40] == b'\n'
        && s[..40]
            .iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The time of a signature line (after its `author ` or `committer `) of
/// the form `NAME <EMAIL> SECONDS ±HHMM\n`, where the last `>` is the one
/// before the time and a `<` comes before it: what libgit2's
/// `git_signature__parse` reads as that time.
fn signature_time(line: &[u8]) -> Option<i64> {
    let line = line.strip_suffix(b"\n")?;
    let close = line.iter().rposition(|&b| b == b'>')?;
    if !line[..close].contains(&b'<') {
        return None;
    }
    let rest = line[close + 1..].strip_prefix(b" ")?;
    let (seconds, zone) = rest.split_at(rest.iter().position(|&b| b == b' ')?);
    let zone = &zone[1..];
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    if seconds.is_empty() || seconds.len() > 18 || !digits(seconds) {
        return None;
    }
    if !(zone.len() == 5 && matches!(zone[0], b'+' | b'-') && digits(&zone[1..])) {
        return None;
    }
    std::str::from_utf8(seconds).ok()?.parse().ok()
}

#[cfg(test)]
#[path = "topo_tests.rs"]
mod tests;
