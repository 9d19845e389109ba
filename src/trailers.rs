//! Commit-message trailers, read exactly as git reads a commit's trailers
//! (`git log --format=%(trailers)`): the last paragraph only, never the subject,
//! continuation lines unfolded, the 25% rule with git-generated prefixes, no
//! `---` divider. libgit2's parser differs on the last two points, hence this one.

/// A `key: value` trailer; the value is unfolded and trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trailer {
    pub key: String,
    pub value: String,
}

const GIT_GENERATED: [&str; 2] = ["Signed-off-by: ", "(cherry picked from commit "];
const COMMENT: &str = "#";

/// Offsets of the starts of every line of `buf[..len]`.
fn line_starts(buf: &str) -> Vec<usize> {
    if buf.is_empty() {
        return Vec::new();
    }
    let mut starts = vec![0];
    starts.extend(
        memchr::memchr_iter(b'\n', buf.as_bytes())
            .filter(|&i| i + 1 < buf.len())
            .map(|i| i + 1),
    );
    starts
}

fn line_at(buf: &str, start: usize) -> &str {
    let rest = &buf[start..];
    match rest.find('\n') {
        Some(i) => &rest[..i],
        None => rest,
    }
}

/// git's `isspace` (its own `sane_ctype`): space, tab, LF and CR only. A form
/// feed or vertical tab is not a space to git, so a line holding one is not
/// blank and does not split the trailer block.
fn git_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn git_space_char(c: char) -> bool {
    c.is_ascii() && git_space(c as u8)
}

fn is_blank(line: &str) -> bool {
    line.bytes().all(git_space)
}

/// git's `find_separator` with separators ":": the offset of ':' after a token
/// made of alphanumerics and '-', optionally followed by whitespace.
fn find_separator(line: &str) -> Option<usize> {
    let mut whitespace_found = false;
    for (i, c) in line.bytes().enumerate() {
        if c == b':' {
            return Some(i);
        }
        if !whitespace_found && (c.is_ascii_alphanumeric() || c == b'-') {
            continue;
        }
        if i != 0 && (c == b' ' || c == b'\t') {
            whitespace_found = true;
            continue;
        }
        break;
    }
    None
}

/// git's `ignored_log_message_bytes`: the trailing run of comment lines, blank
/// lines and an old-style "Conflicts:" block, and anything below a scissors line.
fn end_of_message(buf: &str) -> usize {
    let scissors = format!("{COMMENT} ------------------------ >8 ------------------------\n");
    let cutoff = line_starts(buf)
        .into_iter()
        .find(|&s| buf[s..].starts_with(&scissors))
        .unwrap_or(buf.len());
    let mut boc: Option<usize> = None;
    let mut in_conflicts = false;
    for start in line_starts(&buf[..cutoff]) {
        let rest = &buf[start..cutoff];
        if rest.starts_with(COMMENT) || rest.starts_with('\n') {
            boc.get_or_insert(start);
        } else if rest.starts_with("Conflicts:\n") {
            in_conflicts = true;
            boc.get_or_insert(start);
        } else if in_conflicts && rest.starts_with('\t') {
        } else if boc.is_some() {
            boc = None;
            in_conflicts = false;
        }
    }
    boc.unwrap_or(cutoff)
}

/// git's `find_trailer_block_start`: where the trailer block begins, or `len`.
fn trailer_block_start(buf: &str, len: usize) -> usize {
    let starts = line_starts(&buf[..len]);
    // The first paragraph is the title and cannot hold trailers.
    let mut end_of_title = len;
    for &s in &starts {
        let line = line_at(buf, s);
        if line.starts_with(COMMENT) {
            continue;
        }
        if is_blank(line) {
            end_of_title = s;
            break;
        }
    }
    let mut only_spaces = true;
    let mut recognized_prefix = false;
    let (mut trailer_lines, mut non_trailer_lines, mut possible_continuation) = (0, 0, 0);
    for &s in starts.iter().rev() {
        if s < end_of_title {
            break;
        }
        let line = &line_at(buf, s)[..line_at(buf, s).len().min(len - s)];
        if line.starts_with(COMMENT) {
            // A comment ends a run of indented lines: they were not continuations.
            non_trailer_lines += possible_continuation;
            possible_continuation = 0;
            continue;
        }
        if is_blank(line) {
            if only_spaces {
                continue;
            }
            non_trailer_lines += possible_continuation;
            let next = s + line.len() + 1;
            let mostly_trailers = recognized_prefix && trailer_lines * 3 >= non_trailer_lines;
            let only_trailers = trailer_lines > 0 && non_trailer_lines == 0;
            if mostly_trailers || only_trailers {
                return next.min(len);
            }
            return len;
        }
        only_spaces = false;
        if GIT_GENERATED.iter().any(|p| line.starts_with(p)) {
            trailer_lines += 1;
            possible_continuation = 0;
            recognized_prefix = true;
            continue;
        }
        let first_is_space = line.bytes().next().is_some_and(git_space);
        if find_separator(line).is_some_and(|p| p >= 1) && !first_is_space {
            trailer_lines += 1;
            possible_continuation = 0;
        } else if first_is_space {
            possible_continuation += 1;
        } else {
            non_trailer_lines += 1 + possible_continuation;
            possible_continuation = 0;
        }
    }
    len
}

fn unfold(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            while chars.peek().is_some_and(|&c| git_space_char(c)) {
                chars.next();
            }
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out.trim_matches(git_space_char).to_string()
}

/// The trailers of a commit message, as `git log --format=%(trailers:only,unfold)`
/// would list them. Non-UTF-8 bytes are replaced, never a failure.
pub fn parse(message: &str) -> Vec<Trailer> {
    // Like git's pretty-printer, start at the subject: skip leading blank lines.
    let mut message = message;
    while let Some(nl) = message.find('\n') {
        if !is_blank(&message[..nl]) {
            break;
        }
        message = &message[nl + 1..];
    }
    let end = end_of_message(message);
    let start = trailer_block_start(message, end);
    let block = &message[start..end];
    // Split into logical lines, joining continuation lines to their trailer.
    let mut logical: Vec<(String, bool)> = Vec::new();
    for line in block.split_inclusive('\n') {
        let starts_space = line.bytes().next().is_some_and(git_space);
        if starts_space && let Some((last, true)) = logical.last_mut() {
            last.push_str(line);
            continue;
        }
        let is_trailer = find_separator(line).is_some_and(|p| p >= 1);
        logical.push((line.to_string(), is_trailer));
    }
    logical
        .into_iter()
        .filter(|(line, is_trailer)| *is_trailer && !line.starts_with(COMMENT))
        .filter_map(|(line, _)| {
            let sep = find_separator(&line)?;
            let key = line[..sep].trim_matches(git_space_char).to_string();
            let value = unfold(line[sep + 1..].trim_end_matches('\n'));
            Some(Trailer { key, value })
        })
        .collect()
}

/// The message as git would store it from a commit-msg hook's file: comment
/// lines (with `comment` as the comment string) and everything below the
/// scissors line removed, trailing whitespace of lines and surrounding blank
/// lines dropped (`git commit --cleanup=strip` / the default for the editor).
pub fn cleanup(message: &str, comment: &str) -> String {
    let scissors = format!("{comment} ------------------------ >8 ------------------------");
    let mut out: Vec<&str> = Vec::new();
    for line in message.lines() {
        if line == scissors {
            break;
        }
        if !comment.is_empty() && line.starts_with(comment) {
            continue;
        }
        out.push(line.trim_end_matches(git_space_char));
    }
    // Collapse runs of blank lines and trim blank lines at both ends.
    let mut text = String::new();
    let mut blank_run = false;
    for line in out {
        if line.is_empty() {
            blank_run = !text.is_empty();
            continue;
        }
        if blank_run {
            text.push('\n');
            blank_run = false;
        }
        text.push_str(line);
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_start_where_git_starts_them() {
        assert_eq!(line_starts(""), Vec::<usize>::new());
        assert_eq!(line_starts("a"), vec![0]);
        // A final newline starts no line.
        assert_eq!(line_starts("a\nbc\n"), vec![0, 2]);
        assert_eq!(line_starts("\n\nx"), vec![0, 1, 2]);
    }

    fn kv(msg: &str) -> Vec<(String, String)> {
        parse(msg).into_iter().map(|t| (t.key, t.value)).collect()
    }

    #[test]
    fn subject_is_never_a_trailer() {
        assert!(kv("Signed-off-by: a <a@x>\n").is_empty());
        assert!(kv("Signed-off-by: a <a@x>\nSigned-off-by: b <b@x>\n").is_empty());
    }

    #[test]
    fn last_paragraph_only() {
        let m = "subj\n\nSigned-off-by: a <a@x>\n\nbody text\n";
        assert!(kv(m).is_empty());
        let m = "subj\n\nbody\n\nSigned-off-by: a <a@x>\nAcked-by: b\n";
        assert_eq!(kv(m).len(), 2);
    }

    #[test]
    fn continuation_lines_unfold() {
        let m = "subj\n\nSigned-off-by: a\n  <a@x>\n";
        assert_eq!(kv(m), vec![("Signed-off-by".into(), "a <a@x>".into())]);
    }

    #[test]
    fn divider_is_not_special() {
        let m = "subj\n\n---\nSigned-off-by: a <a@x>\n";
        // "---" has no separator: a non-trailer line in a block with a git-generated
        // prefix; 1 trailer * 3 >= 1 non-trailer, so the block counts.
        assert_eq!(kv(m).len(), 1);
    }

    #[test]
    fn twenty_five_percent_rule() {
        let m = "subj\n\nline one\nline two\nline three\nSigned-off-by: a <a@x>\n";
        assert_eq!(kv(m).len(), 1);
        let m = "subj\n\nl1\nl2\nl3\nl4\nSigned-off-by: a <a@x>\n";
        assert!(kv(m).is_empty());
        let m = "subj\n\nsome text\nReviewed-by: a <a@x>\n";
        assert!(kv(m).is_empty());
    }

    #[test]
    fn cleanup_strips_comments_and_scissors() {
        let m = "subj\n# comment\n\nSigned-off-by: a\n# ------------------------ >8 ------------------------\ndiff\n";
        assert_eq!(cleanup(m, "#"), "subj\n\nSigned-off-by: a\n");
    }
}
