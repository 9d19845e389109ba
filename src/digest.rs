//! The digest a signed sign-off signs (contract section 7), format v2: pure,
//! on bytes. docs/reference.md documents it byte by byte, with test vectors
//! that `tests/digest_vectors.rs` recomputes.
//!
//! The preimage is a sequence of fields `<name> <length>:<bytes>\n` (the
//! length in decimal bytes, the bytes raw), starting with the line
//! `guard-digest-v2\n`, then one group of fields per touched zone and file in
//! (zone, path, kind) byte order. What is signed is the line
//! `guard-digest-v2 sha256:<hex of SHA-256(preimage)>\n`.
//!
//! Nothing here comes from report wording or `Debug` output: codes are fixed
//! strings, text is the file's raw bytes.

use sha2::{Digest, Sha256};

/// What a file held on one side of a touch, for touches judged on the whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// SHA-256 of a blob's bytes (a regular file, or a symlink's target).
    Blob([u8; 32]),
    /// A gitlink: the submodule's commit id (hex), never read as a blob.
    Commit(String),
}

impl Content {
    pub fn of_blob(data: &[u8]) -> Content {
        Content::Blob(Sha256::digest(data).into())
    }

    fn encode(&self) -> Vec<u8> {
        match self {
            Content::Blob(h) => format!("sha256:{}", hex(h)).into_bytes(),
            Content::Commit(id) => format!("commit:{id}").into_bytes(),
        }
    }
}

/// One hunk of a `lines` touch: where it starts relative to the zone's first
/// line (a whole-file zone starts at line 1) and its raw old and new lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HunkBytes {
    /// The hunk's old start (git's numbering: a pure insertion names the line
    /// it follows) minus the zone's first line.
    pub at: i64,
    /// The old lines, each with its line ending as stored (raw bytes).
    pub old: Vec<u8>,
    pub new: Vec<u8>,
}

/// A weakening of the manifest as a signature binds it: a stable code, what
/// it is about, and the entry's canonical value before and after.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Weakened {
    pub code: &'static str,
    pub subject: String,
    pub was: String,
    pub now: String,
}

/// Everything a signature over one touched zone in one file approves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Part {
    pub zone: String,
    pub path: String,
    /// Where a renamed file went.
    pub to: Option<String>,
    /// The kind of touch: one of [`KINDS`].
    pub kind: &'static str,
    /// Octal modes as git writes them ("100644", "100755", "120000", "160000");
    /// empty where the file does not exist.
    pub old_mode: String,
    pub new_mode: String,
    /// The whole old and new content, for touches judged on the whole file.
    pub old: Option<Content>,
    pub new: Option<Content>,
    /// For `lines`: the whole old text of the zone (its lines in the old
    /// file), so that a hunk's position means one place: moving the zone's
    /// start (widening it needs no sign-off) changes this text.
    pub zone_old: Option<Content>,
    /// For `lines`: the hunks that touch the zone.
    pub hunks: Vec<HunkBytes>,
    /// For `manifest-weakened`: every weakening, with its full old and new value.
    pub weakenings: Vec<Weakened>,
    /// What the version 1 digest hashed, to recognise a v1 signature.
    pub v1: V1,
}

/// The kinds of touch, as the digest names them.
pub const KINDS: &[&str] = &[
    "lines",
    "binary",
    "added",
    "deleted",
    "renamed",
    "type-changed",
    "mode-changed",
    "submodule",
    "manifest-deleted",
    "manifest-weakened",
];

/// Kinds judged on the whole file: their digest holds both contents.
pub fn whole_file(kind: &str) -> bool {
    !matches!(kind, "lines" | "manifest-weakened")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The preimage's fields after its first line, in order.
pub fn fields(parts: &[Part]) -> Vec<(&'static str, Vec<u8>)> {
    let mut items: Vec<&Part> = parts.iter().collect();
    items.sort_by(|a, b| {
        (a.zone.as_bytes(), a.path.as_bytes(), a.kind).cmp(&(
            b.zone.as_bytes(),
            b.path.as_bytes(),
            b.kind,
        ))
    });
    let mut out: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let mut field = |name: &'static str, value: &[u8]| out.push((name, value.to_vec()));
    for p in items {
        field("zone", p.zone.as_bytes());
        field("path", p.path.as_bytes());
        if let Some(to) = &p.to {
            field("to", to.as_bytes());
        }
        field("kind", p.kind.as_bytes());
        field("old-mode", p.old_mode.as_bytes());
        field("new-mode", p.new_mode.as_bytes());
        if whole_file(p.kind) {
            let enc = |c: &Option<Content>| c.as_ref().map(Content::encode).unwrap_or_default();
            field("old-content", &enc(&p.old));
            field("new-content", &enc(&p.new));
        }
        if p.kind == "lines" {
            let enc = p.zone_old.as_ref().map(Content::encode).unwrap_or_default();
            field("zone-old", &enc);
        }
        for h in &p.hunks {
            field("hunk-at", h.at.to_string().as_bytes());
            field("old", &h.old);
            field("new", &h.new);
        }
        let mut ws: Vec<&Weakened> = p.weakenings.iter().collect();
        ws.sort_by(|a, b| {
            (a.code, &a.subject, &a.was, &a.now).cmp(&(b.code, &b.subject, &b.was, &b.now))
        });
        for w in ws {
            field("weakening", w.code.as_bytes());
            field("subject", w.subject.as_bytes());
            field("was", w.was.as_bytes());
            field("now", w.now.as_bytes());
        }
        field("end", b"");
    }
    out
}

const HEADER: &[u8] = b"guard-digest-v2\n";

fn encode(name: &str, value: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
    out.extend_from_slice(value.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(value);
    out.push(b'\n');
}

/// The preimage: the bytes whose SHA-256 the signed line names.
pub fn preimage(parts: &[Part]) -> Vec<u8> {
    let mut out = HEADER.to_vec();
    for (name, value) in fields(parts) {
        encode(name, &value, &mut out);
    }
    out
}

/// The preimage shown one field per line, every byte outside printable ASCII
/// (and `\`) escaped (`\n`, `\xNN`): how docs/reference.md shows vectors.
pub fn escaped(parts: &[Part]) -> String {
    let mut lines = vec![escape(HEADER)];
    for (name, value) in fields(parts) {
        let mut one = Vec::new();
        encode(name, &value, &mut one);
        lines.push(escape(&one));
    }
    lines.join("\n")
}

fn escape(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// The line a signed sign-off signs (what `guard digest` prints).
pub fn signed_line(parts: &[Part]) -> Vec<u8> {
    let h = Sha256::digest(preimage(parts));
    format!("guard-digest-v2 sha256:{}\n", hex(&h)).into_bytes()
}

/// What format 1 hashed for a touch (kept only to tell a v1 signature apart,
/// so that its signer is told to re-sign rather than that it is forged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct V1 {
    pub how: String,
    pub objects: String,
    pub details: Vec<String>,
}

fn v1_field(h: &mut Sha256, name: &str, value: &str) {
    for part in [name, value] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
}

/// Format 1 decoded lines lossily and stripped their endings.
fn v1_lines(raw: &[u8]) -> Vec<String> {
    let n = crate::change::count_lines(raw) as u32;
    crate::change::line_text(raw, 1, n)
}

/// The line a format 1 signature signed over the same touches.
pub fn signed_line_v1(parts: &[Part]) -> Vec<u8> {
    let mut items: Vec<&Part> = parts.iter().collect();
    items.sort_by(|a, b| (&a.zone, &a.path).cmp(&(&b.zone, &b.path)));
    let mut h = Sha256::new();
    v1_field(&mut h, "guard-digest", "1");
    for p in items {
        v1_field(&mut h, "zone", &p.zone);
        v1_field(&mut h, "file", &p.path);
        v1_field(&mut h, "how", &p.v1.how);
        v1_field(&mut h, "objects", &p.v1.objects);
        for d in &p.v1.details {
            v1_field(&mut h, "detail", d);
        }
        for hunk in &p.hunks {
            let mut t = Sha256::new();
            for (tag, raw) in [("old", &hunk.old), ("new", &hunk.new)] {
                let lines = v1_lines(raw);
                v1_field(&mut t, tag, &lines.len().to_string());
                for l in &lines {
                    v1_field(&mut t, "line", l);
                }
            }
            v1_field(&mut h, "lines", &hex(&t.finalize()));
        }
    }
    format!("guard-digest-v1 sha256:{}\n", hex(&h.finalize())).into_bytes()
}

/// What signatures are checked against: the current line, and the v1 line
/// (only to say why a signature does not count).
#[derive(Debug, Clone, Default)]
pub struct Signed {
    pub current: Vec<u8>,
    pub v1: Vec<u8>,
}

impl Signed {
    pub fn of(parts: &[Part]) -> Signed {
        Signed {
            current: signed_line(parts),
            v1: signed_line_v1(parts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vectors of docs/reference.md, recomputed.
    pub(crate) fn vectors() -> Vec<(&'static str, Vec<Part>)> {
        let mode = || "100644".to_string();
        vec![
            (
                "lines",
                vec![Part {
                    zone: "z".into(),
                    path: "f.txt".into(),
                    kind: "lines",
                    old_mode: mode(),
                    new_mode: mode(),
                    zone_old: Some(Content::of_blob(
                        b"line 5\nline 6\nline 7\nline 8\nline 9\nline 10\n",
                    )),
                    hunks: vec![HunkBytes {
                        at: 2,
                        old: b"line 7\n".to_vec(),
                        new: b"seven\r\n".to_vec(),
                    }],
                    ..Default::default()
                }],
            ),
            (
                "rename",
                vec![Part {
                    zone: "auth".into(),
                    path: "backend/auth.py".into(),
                    to: Some("backend/security.py".into()),
                    kind: "renamed",
                    old_mode: mode(),
                    new_mode: mode(),
                    old: Some(Content::of_blob(b"def check():\n    return False\n")),
                    new: Some(Content::of_blob(b"def check():\n    return True\n")),
                    ..Default::default()
                }],
            ),
            (
                "manifest",
                vec![Part {
                    zone: "manifest".into(),
                    path: "guard.toml".into(),
                    kind: "manifest-weakened",
                    weakenings: vec![Weakened {
                        code: "instance-added",
                        subject: "delta".into(),
                        was: String::new(),
                        now: "id delta\nemails delta@jarvis.example\nkey ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBeSJ+Q1HPOEBP6jCIYXlH0vHUK2avkyrM0GW3zn2/Ct delta\n".into(),
                    }],
                    ..Default::default()
                }],
            ),
        ]
    }

    #[test]
    fn the_documented_vectors_are_what_guard_computes() {
        let doc = include_str!("../docs/reference.md");
        for (name, parts) in vectors() {
            let pre = escaped(&parts);
            let line = String::from_utf8(signed_line(&parts)).unwrap_or_default();
            assert!(
                doc.contains(&pre),
                "vector {name}: docs/reference.md lacks the preimage\n{pre}"
            );
            assert!(
                doc.contains(line.trim_end()),
                "vector {name}: docs/reference.md lacks {line}"
            );
        }
    }

    /// `cargo test --lib print_vectors -- --ignored --nocapture` prints the
    /// vectors for docs/reference.md.
    #[test]
    #[ignore]
    #[allow(clippy::print_stdout)]
    fn print_vectors() {
        for (name, parts) in vectors() {
            let line = String::from_utf8(signed_line(&parts)).unwrap_or_default();
            println!("== {name}\n```\n{}\n```\n{line}", escaped(&parts));
        }
    }

    #[test]
    fn escaping_is_reversible_enough_to_check_by_hand() {
        assert_eq!(escape(b"a\\b\n\xff"), "a\\\\b\\n\\xff");
    }
}
