//! An invariant's pattern, run under a stated budget.
//!
//! The `regex` crate's searches are linear, but the constant is the size of
//! the compiled pattern: its worst case is about one step per byte of the file
//! per state of the pattern's automaton (a Thompson NFA). A branch under
//! review may add invariants without sign-offs (adding one tightens), so a
//! pattern like `[\w\s]{1,200}\d{7}` (63,653 states) over a 10 MB file would
//! be minutes of work. Before each search guard multiplies the two; above
//! [`BUDGET`] the search is not run and the check cannot be evaluated (exit 2,
//! naming the invariant), never a pass.

use std::sync::OnceLock;

use regex::bytes::Regex;
use regex_automata::nfa::thompson;
use regex_automata::util::syntax;

/// The most file bytes × pattern states one search may cost: about 4 × 10⁹
/// steps, a few seconds at the worst case measured here (0.2-1.2 ns a step).
/// A 30-state pattern runs on files up to 140 MB under it.
pub const BUDGET: u64 = 1 << 32;

#[derive(Debug, Clone)]
pub struct Pattern {
    regex: Regex,
    /// States of the pattern's NFA, computed on the first search.
    states: OnceLock<u64>,
}

/// A search that would exceed [`BUDGET`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverBudget {
    pub bytes: u64,
    pub states: u64,
}

impl std::fmt::Display for OverBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the file is {} bytes and the pattern compiles to {} states; a search's worst \
             case ({} steps) exceeds guard's budget of {BUDGET}: simplify the pattern \
             (ASCII classes such as (?-u:\\w) are far smaller) or narrow the invariant's path",
            self.bytes,
            self.states,
            self.bytes.saturating_mul(self.states)
        )
    }
}

impl Pattern {
    /// Compiles as `regex::bytes::Regex::new` does (the error is its message).
    pub fn new(source: &str) -> Result<Pattern, regex::Error> {
        Ok(Pattern {
            regex: Regex::new(source)?,
            states: OnceLock::new(),
        })
    }

    pub fn as_str(&self) -> &str {
        self.regex.as_str()
    }

    fn states(&self) -> u64 {
        *self.states.get_or_init(|| {
            // The syntax of `regex::bytes`: Unicode on, UTF-8 not required.
            thompson::NFA::compiler()
                .syntax(syntax::Config::new().utf8(false))
                .configure(thompson::Config::new().utf8(false))
                .build(self.regex.as_str())
                .map_or(u64::MAX, |nfa| nfa.states().len() as u64)
        })
    }

    fn within(&self, data: &[u8]) -> Result<(), OverBudget> {
        let bytes = data.len() as u64;
        // Below 4 KiB no pattern the regex crate accepts can exceed the
        // budget: its compiled size is limited to 10 MiB, under 2^20 states.
        if bytes.saturating_mul(1 << 20) > BUDGET {
            let states = self.states();
            if bytes.saturating_mul(states) > BUDGET {
                return Err(OverBudget { bytes, states });
            }
        }
        crate::work::add(crate::work::Counter::Regex, data.len());
        Ok(())
    }

    pub fn is_match(&self, data: &[u8]) -> Result<bool, OverBudget> {
        self.within(data)?;
        Ok(self.regex.is_match(data))
    }

    /// Where the leftmost-first match starts, if any.
    pub fn find(&self, data: &[u8]) -> Result<Option<usize>, OverBudget> {
        self.within(data)?;
        Ok(self.regex.find(data).map(|m| m.start()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Every kind of pattern `regex::bytes` accepts has a state count (a
    /// pattern the counter could not compile would be refused on every file
    /// over 4 KiB).
    #[test]
    fn patterns_regex_accepts_are_counted() {
        for p in [
            "TrustedHostMiddleware",
            r"(?-u)\xFF\x00",
            r"\bverify\s*=\s*False\b",
            r"(?i)straße",
            r"(?s)const speakMessage.*const connectWebSocket",
            r"^\s*#\s*include",
            r"(?m)^$",
        ] {
            let pat = Pattern::new(p).unwrap();
            assert!(pat.states() < 10_000, "{p}: {}", pat.states());
            let data = vec![b'x'; 100_000];
            assert_eq!(pat.is_match(&data), Ok(false), "{p}");
        }
    }

    /// Below 4 KiB the largest pattern the regex crate accepts stays within
    /// the budget, so no state count is needed there.
    #[test]
    fn small_files_need_no_count() {
        let big = Pattern::new(r"[\w\s]{1,200}\d{7}").unwrap();
        assert_eq!(big.is_match(&[b'a'; 4096]), Ok(false));
        assert!(big.states.get().is_none());
        assert_eq!(
            big.is_match(&[b'a'; 100_000]),
            Err(OverBudget {
                bytes: 100_000,
                states: 63_653
            })
        );
    }
}
