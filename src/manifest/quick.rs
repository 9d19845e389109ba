//! A quick reader for the manifests people write: the plain TOML of the
//! contract's example, read straight into [`RawManifest`] without building a
//! TOML document first (toml took 12 M instructions for 1,000 zones, three
//! times the rest of a pre-commit hook).
//!
//! It reads a strict subset of TOML and gives up (`None`) on anything else:
//! then `toml` reads the text, and every error message is toml's and serde's.
//! The subset: comments; `version` before any table; `[policy]` once;
//! `[[instance]]`, `[[zone]]`, `[[invariant]]`, `[[group]]` written exactly so;
//! bare keys of the schema, each at most once per table, in the table where
//! the schema has them; single-line basic strings (escapes `\\ \" \n \t \r \b
//! \f` only) and literal strings; decimal integers without sign or `_`;
//! `true`/`false`; arrays of strings over any number of lines; LF or CRLF line
//! ends. Unknown keys, inline tables, dotted or quoted keys, multi-line
//! strings, dates, floats, wrong types, a second `[policy]`: all toml's.
//!
//! What it returns must be exactly what `toml::from_str` returns, spans
//! included (tests/manifest_quick.rs holds it to that on generated and
//! mutated manifests, and `fuzz/` on arbitrary bytes).

use std::borrow::Cow;

use toml::Spanned;

use super::raw::{RawFreeze, RawGroup, RawInstance, RawInvariant, RawManifest, RawPolicy, RawZone};

/// The manifest in `text`, or `None` when it is not in the quick subset.
pub fn read(text: &str) -> Option<RawManifest<'_>> {
    let mut r = Reader {
        s: text.as_bytes(),
        text,
        i: 0,
    };
    let mut m = RawManifest::default();
    // Zones are most of a large manifest: their room is made once, not
    // grown by copies into fresh memory (each new page a fault). A header
    // inside a comment or a string only reserves room never touched.
    m.zones
        .reserve(memchr::memmem::find_iter(text.as_bytes(), b"[[zone]]").count());
    let mut table = Table::Root;
    // The keys already set in the current table, one bit each.
    let mut seen: u32 = 0;
    loop {
        r.skip_ws();
        match r.peek() {
            None => break,
            Some(b'#' | b'\n' | b'\r') => r.end_of_line()?,
            Some(b'[') => {
                table = r.header(&mut m)?;
                seen = 0;
                r.end_of_line()?;
            }
            Some(_) => {
                let key = field_of(table, r.key()?)?;
                let bit = 1u32 << key as u32;
                if seen & bit != 0 {
                    return None;
                }
                seen |= bit;
                r.skip_ws();
                r.eat(b'=')?;
                r.skip_ws();
                r.value(&mut m, table, key)?;
                r.end_of_line()?;
            }
        }
    }
    Some(m)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Root,
    Policy,
    Instance,
    Zone,
    Invariant,
    Group,
}

/// The keys of the schema, each in the tables that have it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Version,
    Signoffs,
    Trailers,
    AuthorCounts,
    AuditTrailers,
    Freeze,
    Id,
    Emails,
    Key,
    Path,
    Lines,
    Reason,
    Approvers,
    AlsoChange,
    MustContain,
    MustNotContain,
    Members,
}

/// The field key `key` names in `table`, if the schema has it there (one match:
/// every key of every table is compared once).
fn field_of(table: Table, key: &str) -> Option<Field> {
    use Table::*;
    Some(match (table, key) {
        (Root, "version") => Field::Version,
        (Policy | Zone, "signoffs") => Field::Signoffs,
        (Policy, "trailers") => Field::Trailers,
        (Policy, "author_counts") => Field::AuthorCounts,
        (Policy, "audit_trailers") => Field::AuditTrailers,
        (Policy, "freeze") => Field::Freeze,
        (Instance | Zone | Group, "id") => Field::Id,
        (Instance, "emails") => Field::Emails,
        (Instance, "key") => Field::Key,
        (Zone | Invariant, "path") => Field::Path,
        (Zone, "lines") => Field::Lines,
        (Zone | Invariant, "reason") => Field::Reason,
        (Zone, "approvers") => Field::Approvers,
        (Zone, "also_change") => Field::AlsoChange,
        (Invariant, "must_contain") => Field::MustContain,
        (Invariant, "must_not_contain") => Field::MustNotContain,
        (Group, "members") => Field::Members,
        _ => return None,
    })
}

/// A byte TOML allows in a comment or a string: tab, printable ASCII, and
/// any byte of a non-ASCII character (no other control byte, no DEL).
const fn allowed(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b < 0x7f) || b >= 0x80
}

/// What a byte may be, per class, looked up once per byte.
#[derive(Clone, Copy)]
enum Class {
    /// On a basic string's run: allowed, not its quote, not an escape.
    BasicRun,
    /// On a literal string: allowed, not its quote.
    LiteralRun,
    /// In a bare key.
    Bare,
}

const fn table(class: Class) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = match class {
            Class::BasicRun => allowed(b) && b != b'"' && b != b'\\',
            Class::LiteralRun => allowed(b) && b != b'\'',
            Class::Bare => b.is_ascii_alphanumeric() || b == b'_' || b == b'-',
        };
        i += 1;
    }
    t
}

const BASIC_RUN: [bool; 256] = table(Class::BasicRun);
const LITERAL_RUN: [bool; 256] = table(Class::LiteralRun);
const BARE: [bool; 256] = table(Class::Bare);

struct Reader<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.i += 1)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    /// Optional comment, then a newline or the end of the text.
    fn end_of_line(&mut self) -> Option<()> {
        self.skip_ws();
        if self.peek() == Some(b'#') {
            self.i += 1;
            while self.peek().is_some_and(allowed) {
                self.i += 1;
            }
        }
        self.newline()
    }

    fn newline(&mut self) -> Option<()> {
        match self.peek() {
            None => Some(()),
            Some(b'\n') => {
                self.i += 1;
                Some(())
            }
            Some(b'\r') if self.s.get(self.i + 1) == Some(&b'\n') => {
                self.i += 2;
                Some(())
            }
            Some(_) => None,
        }
    }

    /// `[policy]` or `[[name]]`, exactly so.
    fn header(&mut self, m: &mut RawManifest<'a>) -> Option<Table> {
        let start = self.i;
        let rest = &self.s[start..];
        if rest.starts_with(b"[policy]") {
            if m.policy.is_some() {
                return None;
            }
            self.i += b"[policy]".len();
            m.policy = Some(RawPolicy::default());
            return Some(Table::Policy);
        }
        let name_end = rest.iter().position(|&b| b == b']')?;
        let table = match &rest[..name_end] {
            b"[[instance" => Table::Instance,
            b"[[zone" => Table::Zone,
            b"[[invariant" => Table::Invariant,
            b"[[group" => Table::Group,
            _ => return None,
        };
        if rest.get(name_end + 1) != Some(&b']') {
            return None;
        }
        self.i += name_end + 2;
        let span = start..self.i;
        match table {
            Table::Instance => m.instances.push(Spanned::new(span, RawInstance::default())),
            Table::Zone => m.zones.push(Spanned::new(span, RawZone::default())),
            Table::Invariant => m
                .invariants
                .push(Spanned::new(span, RawInvariant::default())),
            Table::Group => m.groups.push(Spanned::new(span, RawGroup::default())),
            Table::Root | Table::Policy => return None,
        }
        Some(table)
    }

    /// A bare key (`A-Za-z0-9_-`).
    fn key(&mut self) -> Option<&'a str> {
        let start = self.i;
        self.i += self.s[start..]
            .iter()
            .take_while(|&&b| BARE[b as usize])
            .count();
        (self.i > start).then(|| &self.text[start..self.i])
    }

    fn value(&mut self, m: &mut RawManifest<'a>, table: Table, key: Field) -> Option<()> {
        match table {
            Table::Root => m.version = Some(self.integer()?),
            Table::Policy => {
                let p = m.policy.as_mut()?;
                match key {
                    Field::Signoffs => p.signoffs = Some(self.integer()?),
                    Field::Trailers => p.trailers = Some(self.array()?.into_inner()),
                    Field::AuthorCounts => p.author_counts = Some(self.boolean()?),
                    Field::AuditTrailers => p.audit_trailers = Some(self.array()?.into_inner()),
                    Field::Freeze => {
                        let reason = self.string()?;
                        p.freeze = Some(Spanned::new(
                            reason.span(),
                            RawFreeze::Reason(reason.into_inner()),
                        ));
                    }
                    _ => return None,
                }
            }
            Table::Instance => {
                let i = m.instances.last_mut()?.get_mut();
                match key {
                    Field::Id => i.id = Some(self.string()?),
                    Field::Emails => i.emails = self.array()?.into_inner(),
                    Field::Key => i.key = Some(self.string()?),
                    _ => return None,
                }
            }
            Table::Zone => {
                let z = m.zones.last_mut()?.get_mut();
                match key {
                    Field::Id => z.id = Some(self.string()?),
                    Field::Path => z.path = Some(self.string()?),
                    Field::Lines => z.lines = Some(self.text()?),
                    Field::Reason => z.reason = Some(self.string()?.into_inner()),
                    Field::Signoffs => z.signoffs = Some(self.integer()?),
                    Field::Approvers => z.approvers = Some(self.array()?),
                    Field::AlsoChange => z.also_change = Some(self.array()?.into_inner()),
                    _ => return None,
                }
            }
            Table::Invariant => {
                let v = m.invariants.last_mut()?.get_mut();
                match key {
                    Field::Path => v.path = Some(self.string()?),
                    Field::MustContain => v.must_contain = Some(self.string()?),
                    Field::MustNotContain => v.must_not_contain = Some(self.string()?),
                    Field::Reason => v.reason = Some(self.string()?.into_inner()),
                    _ => return None,
                }
            }
            Table::Group => {
                let g = m.groups.last_mut()?.get_mut();
                match key {
                    Field::Id => g.id = Some(self.string()?),
                    Field::Members => g.members = self.array()?.into_inner(),
                    _ => return None,
                }
            }
        }
        Some(())
    }

    /// `0`, or 1 to 18 digits not starting with `0`: always an i64.
    fn integer(&mut self) -> Option<Spanned<i64>> {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        let digits = &self.text[start..self.i];
        let plain =
            digits == "0" || (!digits.is_empty() && digits.len() <= 18 && !digits.starts_with('0'));
        if !plain {
            return None;
        }
        // What follows (`.5`, `e3`, `-05-27`) is left to the line's end.
        Some(Spanned::new(start..self.i, digits.parse().ok()?))
    }

    fn boolean(&mut self) -> Option<bool> {
        let rest = &self.s[self.i..];
        let (value, len) = if rest.starts_with(b"true") {
            (true, 4)
        } else if rest.starts_with(b"false") {
            (false, 5)
        } else {
            return None;
        };
        self.i += len;
        Some(value)
    }

    /// A single-line basic or literal string.
    fn string(&mut self) -> Option<Spanned<String>> {
        let text = self.text()?;
        Some(Spanned::new(text.span(), text.into_inner().into_owned()))
    }

    /// A single-line basic or literal string, borrowed from the text when it
    /// has no escape.
    fn text(&mut self) -> Option<Spanned<Cow<'a, str>>> {
        let start = self.i;
        let quote = self.peek()?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        // A multi-line string (`"""`, `'''`) reads here as an empty one
        // followed by a quote: given up at the line's end.
        self.i += 1;
        let escapes = quote == b'"';
        let plain = if escapes { &BASIC_RUN } else { &LITERAL_RUN };
        let mut value = String::new();
        let text = self.text;
        loop {
            // Tab, printable ASCII and non-ASCII bytes, up to the quote or an
            // escape; a control byte stops the run and is given up on below.
            let run = self.i;
            self.i += self.s[run..]
                .iter()
                .take_while(|&&b| plain[b as usize])
                .count();
            let piece = &text[run..self.i];
            match self.peek()? {
                b if b == quote => {
                    self.i += 1;
                    // Most strings have no escape: the text's own bytes.
                    let value = if value.is_empty() {
                        Cow::Borrowed(piece)
                    } else {
                        value.push_str(piece);
                        Cow::Owned(value)
                    };
                    return Some(Spanned::new(start..self.i, value));
                }
                b'\\' if escapes => {
                    value.push_str(piece);
                    value.push(match self.s.get(self.i + 1)? {
                        b'\\' => '\\',
                        b'"' => '"',
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        _ => return None,
                    });
                    self.i += 2;
                }
                _ => return None,
            }
        }
    }

    /// `[ "a", 'b', ]` over any number of lines, with comments between.
    fn array(&mut self) -> Option<Spanned<Vec<Spanned<String>>>> {
        let start = self.i;
        self.eat(b'[')?;
        let mut items = Vec::new();
        loop {
            self.skip_blank()?;
            if self.eat(b']').is_some() {
                break;
            }
            items.push(self.string()?);
            self.skip_blank()?;
            if self.eat(b']').is_some() {
                break;
            }
            self.eat(b',')?;
        }
        Some(Spanned::new(start..self.i, items))
    }

    /// Whitespace, comments and line ends, as inside an array.
    fn skip_blank(&mut self) -> Option<()> {
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'#' | b'\n' | b'\r') => self.end_of_line()?,
                _ => return Some(()),
            }
        }
    }
}
