//! Raw manifest → typed [`Manifest`], collecting every problem at once.

use foldhash::{HashSet, HashSetExt};
use std::ops::Range;

use globset::GlobBuilder;
use toml::Spanned;

pub use super::files::{FileState, check_files};
use super::raw::{RawInstance, RawInvariant, RawManifest, RawZone};
pub use super::source::{ConfigError, Problem, Source};
use super::{Instance, Invariant, LineRange, Manifest, PathSpec, Policy, Zone};

/// Parse and validate manifest text. File-dependent checks (ranges past the end of
/// their file) are [`check_files`]'s, since they need a tree to look at.
pub fn parse(text: &str, label: &str) -> Result<Manifest, ConfigError> {
    // One command reads the same manifest text several times (the base, the
    // staged one, each evaluator): parsed once per text (a manifest does not
    // depend on its label; only errors name it, and errors are not kept).
    // The last few are never dropped: a thread ends (the process, for
    // the main one) without freeing manifests of thousands of zones.
    thread_local! {
        static PARSED: std::cell::RefCell<std::mem::ManuallyDrop<Vec<(String, Manifest)>>> =
            const { std::cell::RefCell::new(std::mem::ManuallyDrop::new(Vec::new())) };
    }
    if let Some(m) = PARSED.with(|p| {
        p.borrow()
            .iter()
            .find(|(t, _)| t == text)
            .map(|(_, m)| m.clone())
    }) {
        return Ok(m);
    }
    let parsed = parse_uncached(text, label)?;
    PARSED.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() >= 4 {
            p.remove(0);
        }
        p.push((text.to_string(), parsed.clone()));
    });
    Ok(parsed)
}

fn parse_uncached(text: &str, label: &str) -> Result<Manifest, ConfigError> {
    crate::work::add(crate::work::Counter::Manifests, 1);
    let src = Source::new(text);
    let fail = |problems| ConfigError {
        label: label.to_string(),
        problems,
    };
    // The quick reader takes the plain manifests; toml everything else,
    // and every error.
    let raw: RawManifest = match super::quick::read(text).map_or_else(|| toml::from_str(text), Ok) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let message = e.message().trim().replace('\n', " ");
            return Err(fail(vec![src.problem(span, message)]));
        }
    };
    let mut v = Validator {
        src: &src,
        problems: Vec::new(),
    };
    let manifest = v.manifest(raw);
    if v.problems.is_empty() {
        Ok(manifest)
    } else {
        v.problems.sort_by_key(|p| (p.pos.line, p.pos.col));
        Err(fail(v.problems))
    }
}

pub(super) struct Validator<'a> {
    pub(super) src: &'a Source<'a>,
    pub(super) problems: Vec<Problem>,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

impl Validator<'_> {
    pub(super) fn err(&mut self, span: Range<usize>, message: impl Into<String>) {
        let p = self.src.problem(span, message);
        self.problems.push(p);
    }

    fn manifest(&mut self, raw: RawManifest<'_>) -> Manifest {
        let version = match raw.version {
            None => {
                self.err(0..0, "missing required key `version` (add `version = 1`)");
                1
            }
            Some(v) if *v.get_ref() != 1 => {
                self.err(
                    v.span(),
                    format!(
                        "unsupported version {}: this guard reads version 1",
                        v.get_ref()
                    ),
                );
                1
            }
            Some(v) => v.into_inner(),
        };
        let instances = self.instances(raw.instances);
        let instance_ids: HashSet<String> = instances.iter().map(|i| i.id.clone()).collect();
        let groups = self.groups(raw.groups, &instance_ids);
        let group_ids: HashSet<String> = groups.iter().map(|g| g.id.clone()).collect();
        let mut policy = Policy::default();
        if let Some(p) = raw.policy {
            if let Some(s) = p.signoffs {
                policy.signoffs = self.threshold(&s);
            }
            if let Some(t) = p.trailers {
                policy.trailers = self.trailer_keys(t, "trailers");
            }
            if let Some(a) = p.author_counts {
                policy.author_counts = a;
            }
            if let Some(t) = p.audit_trailers {
                policy.audit_trailers = self.trailer_keys(t, "audit_trailers");
            }
            if let Some(o) = p.override_ {
                policy.override_ = self.quota(o, "[policy] override", &group_ids);
            }
            if let Some(f) = p.freeze {
                let zone_ids: HashSet<String> = raw
                    .zones
                    .iter()
                    .filter_map(|z| z.get_ref().id.as_ref().map(|i| i.get_ref().clone()))
                    .collect();
                policy.freeze = Some(self.freeze(f, &zone_ids));
            }
        }
        let known: HashSet<String> = instance_ids.union(&group_ids).cloned().collect();
        let zones = self.zones(raw.zones, &known, &group_ids);
        let invariants = raw
            .invariants
            .into_iter()
            // One that is dropped was recorded as a problem: parsing fails.
            .filter_map(|i| self.invariant(i))
            .collect();
        let manifest = Manifest {
            version,
            policy,
            instances,
            zones: std::sync::Arc::new(super::Zones::new(zones)),
            invariants,
            groups,
        };
        if self.problems.is_empty() {
            self.meetable(&manifest);
        }
        manifest
    }

    pub(super) fn threshold(&mut self, s: &Spanned<i64>) -> u32 {
        match u32::try_from(*s.get_ref()) {
            Ok(n) if n >= 1 => n,
            _ => {
                self.err(
                    s.span(),
                    format!("`signoffs` must be at least 1, found {}", s.get_ref()),
                );
                1
            }
        }
    }

    fn trailer_keys(&mut self, keys: Vec<Spanned<String>>, what: &str) -> Vec<String> {
        let mut out = Vec::new();
        for k in keys {
            let ok = !k.get_ref().is_empty()
                && k.get_ref()
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if ok {
                out.push(k.into_inner());
            } else {
                self.err(
                    k.span(),
                    format!(
                        "`{what}` entry {:?} is not a trailer key (letters, digits and `-`)",
                        k.get_ref()
                    ),
                );
            }
        }
        out
    }

    /// A required, well-formed id, not seen before among `seen`.
    pub(super) fn id(
        &mut self,
        id: Option<Spanned<String>>,
        table: Range<usize>,
        what: &str,
        seen: &mut HashSet<String>,
    ) -> String {
        let duplicate = id
            .as_ref()
            .is_some_and(|i| valid_id(i.get_ref()) && !seen.insert(i.get_ref().clone()));
        self.id_known(id, table, what, duplicate)
    }

    /// An id whose repetition is already known (valid ids only count).
    fn id_known(
        &mut self,
        id: Option<Spanned<String>>,
        table: Range<usize>,
        what: &str,
        duplicate: bool,
    ) -> String {
        match id {
            None => {
                self.err(table, format!("{what} is missing required key `id`"));
                String::new()
            }
            Some(id) => {
                if !valid_id(id.get_ref()) {
                    self.err(
                        id.span(),
                        format!("{what} id {:?} must match [a-z0-9._-]+", id.get_ref()),
                    );
                } else if duplicate {
                    self.err(id.span(), format!("duplicate {what} id {:?}", id.get_ref()));
                }
                id.into_inner()
            }
        }
    }

    fn instances(&mut self, raw: Vec<Spanned<RawInstance>>) -> Vec<Instance> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for item in raw {
            let span = item.span();
            let r = item.into_inner();
            let id = self.id(r.id, span.clone(), "instance", &mut seen);
            let mut emails = Vec::new();
            for e in r.emails {
                let email = e.get_ref().trim();
                if email.is_empty()
                    || email.contains(['<', '>'])
                    || email.contains(char::is_whitespace)
                {
                    self.err(
                        e.span(),
                        format!(
                            "{:?} is not an email address (write it without <>)",
                            e.get_ref()
                        ),
                    );
                } else {
                    emails.push(email.to_ascii_lowercase());
                }
            }
            let key = r.key.map(|k| {
                let text = k.get_ref().trim().to_string();
                if let Err(e) = crate::signature::parse_public_key(&text) {
                    self.err(
                        k.span(),
                        format!("`key` {e} (write it as in a .pub file: \"ssh-ed25519 AAAA... comment\")"),
                    );
                }
                text
            });
            out.push(Instance { id, emails, key });
        }
        out
    }

    pub(super) fn path(&mut self, p: Spanned<String>, what: &str) -> Option<PathSpec> {
        let (bad, glob) = path_shape(p.get_ref());
        if bad {
            self.err(
                p.span(),
                format!(
                    "{what} path {:?} must be relative to the repository root, without `..`, `.` or empty components",
                    p.get_ref()
                ),
            );
            return None;
        }
        if glob {
            match GlobBuilder::new(p.get_ref())
                .literal_separator(true)
                .build()
            {
                Ok(g) => Some(PathSpec::Glob {
                    matcher: Box::new(g.compile_matcher()),
                    pattern: p.into_inner(),
                }),
                Err(e) => {
                    self.err(
                        p.span(),
                        format!("invalid glob {:?}: {}", p.get_ref(), e.kind()),
                    );
                    None
                }
            }
        } else {
            Some(PathSpec::Literal(p.into_inner()))
        }
    }

    fn zones(
        &mut self,
        raw: Vec<Spanned<RawZone<'_>>>,
        known: &HashSet<String>,
        groups: &HashSet<String>,
    ) -> Vec<Zone> {
        // Which zones repeat an earlier zone's (valid) id, found before the
        // ids are moved into the zones.
        let duplicate: Vec<bool> = {
            let mut seen = HashSet::with_capacity(raw.len());
            raw.iter()
                .map(|z| {
                    z.get_ref().id.as_ref().is_some_and(|i| {
                        valid_id(i.get_ref()) && !seen.insert(i.get_ref().as_str())
                    })
                })
                .collect()
        };
        // The zone ids `also_change` may name: none to gather when no zone has it.
        let zone_ids: HashSet<String> = if raw.iter().any(|z| z.get_ref().also_change.is_some()) {
            raw.iter()
                .filter_map(|z| z.get_ref().id.as_ref().map(|i| i.get_ref().clone()))
                .collect()
        } else {
            HashSet::new()
        };
        let mut out = Vec::with_capacity(raw.len());
        for (item, duplicate) in raw.into_iter().zip(duplicate) {
            out.extend(self.zone(item, duplicate, known, groups, &zone_ids));
        }
        out
    }

    fn zone(
        &mut self,
        item: Spanned<RawZone<'_>>,
        duplicate: bool,
        known: &HashSet<String>,
        groups: &HashSet<String>,
        zone_ids: &HashSet<String>,
    ) -> Option<Zone> {
        let span = item.span();
        let r = item.into_inner();
        let id_span = r.id.as_ref().map_or(span.clone(), |i| i.span());
        let id = self.id_known(r.id, span.clone(), "zone", duplicate);
        if id == super::MANIFEST_ZONE {
            self.err(
                id_span,
                "zone id \"manifest\" is reserved for the manifest itself",
            );
        }
        let path = match r.path {
            None => {
                self.err(
                    span.clone(),
                    format!("zone {id:?} is missing required key `path`"),
                );
                None
            }
            Some(p) => self.path(p, "zone"),
        };
        // Where the zone is: its `lines`, or else its table.
        let at = r.lines.as_ref().map_or(span.start, |l| l.span().start);
        let lines = r.lines.as_ref().and_then(|l| {
            let range = parse_range(l.get_ref());
            if range.is_none() {
                self.err(
                    l.span(),
                    format!(
                        "`lines` must be \"A-B\" with 1 <= A <= B, found {:?}",
                        l.get_ref()
                    ),
                );
            }
            if matches!(path, Some(PathSpec::Glob { .. })) {
                self.err(l.span(), "`lines` needs a single file, not a glob");
            }
            range
        });
        let signoffs = r.signoffs.as_ref().map(|s| self.threshold(s));
        let approvers = r.approvers.map(|a| self.approvers(a, &id, known));
        let also_change = self.also_change(r.also_change, &id, zone_ids);
        let require = self.requires(r.require, &id, groups);
        Some(Zone {
            id,
            path: path?,
            lines,
            reason: r.reason.unwrap_or_default(),
            signoffs,
            approvers,
            require,
            also_change,
            at,
        })
    }

    fn invariant(&mut self, item: Spanned<RawInvariant>) -> Option<Invariant> {
        let span = item.span();
        let r = item.into_inner();
        let path = match r.path {
            None => {
                self.err(span.clone(), "invariant is missing required key `path`");
                None
            }
            Some(p) => self.path(p, "invariant"),
        };
        if r.must_contain.is_none() && r.must_not_contain.is_none() {
            self.err(
                span,
                "invariant needs a pattern: `must_contain` or `must_not_contain`",
            );
        }
        let mut regex = |p: &Option<Spanned<String>>, key: &str| {
            p.as_ref()
                .and_then(|p| match super::pattern::Pattern::new(p.get_ref()) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        let detail = e
                            .to_string()
                            .lines()
                            .last()
                            .unwrap_or("")
                            .trim()
                            .to_string();
                        self.err(p.span(), format!("`{key}` is not a valid regex: {detail}"));
                        None
                    }
                })
        };
        let must_contain = regex(&r.must_contain, "must_contain");
        let must_not_contain = regex(&r.must_not_contain, "must_not_contain");
        Some(Invariant {
            path: path?,
            must_contain,
            must_not_contain,
            reason: r.reason.unwrap_or_default(),
        })
    }
}

/// Whether a manifest path is refused (empty, absolute, a drive, a NUL, a
/// `..` component between `/` or `\\`, a `.` or empty component between
/// `/`), and whether it is a glob; one pass over its bytes.
fn path_shape(text: &str) -> (bool, bool) {
    let b = text.as_bytes();
    let mut bad = b.is_empty() || b[0] == b'/' || b[0] == b'\\' || b.get(1) == Some(&b':');
    let mut glob = false;
    // Where the current `/` component starts, and the current part of it
    // between `/` or `\\`: each is checked at its end.
    let (mut component, mut part) = (0, 0);
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'/' | b'\\' => {
                bad |= &b[part..i] == b"..";
                if c == b'/' {
                    bad |= matches!(&b[component..i], b"" | b".");
                    component = i + 1;
                }
                part = i + 1;
            }
            0 => bad = true,
            b'*' | b'?' | b'[' | b'{' => glob = true,
            _ => {}
        }
    }
    bad |= &b[part..] == b".." || matches!(&b[component..], b"" | b".");
    (bad, glob)
}

/// `"A-B"` with `1 <= A <= B` (spaces around the numbers allowed).
pub fn parse_range(s: &str) -> Option<LineRange> {
    // Nearly every range is digits, a dash, digits: read in one pass.
    if let Some(r) = plain_range(s.as_bytes()) {
        return r;
    }
    let (a, b) = s.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() || b.is_empty() || !a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    LineRange::new(a.parse().ok()?, b.parse().ok()?)
}

/// "A-B" of 1 to 9 digits each (no overflow to check): the range it names,
/// if any; `None` for anything else, which [`parse_range`] reads the long way.
fn plain_range(s: &[u8]) -> Option<Option<LineRange>> {
    let dash = memchr::memchr(b'-', s)?;
    let number = |d: &[u8]| -> Option<u32> {
        if d.is_empty() || d.len() > 9 {
            return None;
        }
        d.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let (a, b) = (number(&s[..dash])?, number(&s[dash + 1..])?);
    Some(LineRange::new(a, b))
}

#[cfg(test)]
mod path_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Spaces around the numbers are allowed; past `u32::MAX` is no range.
        #[test]
        fn ranges_read_as_parse_reads_them(a in "[0-9]{1,11}", b in "[0-9]{1,11}", pad in "[ ]{0,2}") {
            let text = format!("{pad}{a}{pad}-{pad}{b}");
            let expected = match (a.parse::<u32>(), b.parse::<u32>()) {
                (Ok(x), Ok(y)) => LineRange::new(x, y),
                _ => None,
            };
            prop_assert_eq!(parse_range(&text), expected);
        }

        /// The one-pass reading of plain ranges is the long way's.
        #[test]
        fn plain_ranges_read_as_the_long_way(text in "[0-9 +-]{0,12}|[0-9]{1,10}-[0-9]{1,10}") {
            let long = |s: &str| {
                let (a, b) = s.split_once('-')?;
                let (a, b) = (a.trim(), b.trim());
                if a.is_empty() || b.is_empty() || !a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit()) {
                    return None;
                }
                LineRange::new(a.parse().ok()?, b.parse().ok()?)
            };
            prop_assert_eq!(parse_range(&text), long(&text), "{:?}", text);
        }

        /// The one-pass path check is the checks written one by one.
        #[test]
        fn path_shape_is_the_plain_checks(text in "[a./\\\\:*?\\[{\0]{0,12}") {
            let bad = text.is_empty()
                || text.starts_with('/')
                || text.starts_with('\\')
                || (text.len() > 1 && text.as_bytes()[1] == b':')
                || text.split(['/', '\\']).any(|c| c == "..")
                || text.split('/').any(|c| c == "." || c.is_empty())
                || text.contains('\0');
            let glob = text.contains(['*', '?', '[', '{']);
            prop_assert_eq!(path_shape(&text), (bad, glob), "{:?}", text);
        }
    }
}
