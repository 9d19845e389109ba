//! Is the commit being made a `git commit --amend`? git does not tell its
//! hooks, so the committing git process's command line is read and parsed as
//! git's parse-options would: global options, aliases, unique prefixes of long
//! options (`--am`), option arguments (`-m --amend` is a message), bundled
//! short options (`-am MSG`), negation (`--no-amend`), `--` ending options.
//! Where it cannot tell, it says so.

/// What the command line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Amend {
    Yes,
    No,
    /// Cannot tell, and why.
    Unknown(String),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Arg {
    No,
    Required,
    /// Only as `--name=value` (or glued to a short option).
    Optional,
}

/// `git commit`'s long options (builtin/commit.c), with their short forms.
const LONG: &[(&str, Arg, Option<char>)] = &[
    ("quiet", Arg::No, Some('q')),
    ("verbose", Arg::No, Some('v')),
    ("file", Arg::Required, Some('F')),
    ("author", Arg::Required, None),
    ("date", Arg::Required, None),
    ("message", Arg::Required, Some('m')),
    ("reedit-message", Arg::Required, Some('c')),
    ("reuse-message", Arg::Required, Some('C')),
    ("fixup", Arg::Required, None),
    ("squash", Arg::Required, None),
    ("reset-author", Arg::No, None),
    ("trailer", Arg::Required, None),
    ("signoff", Arg::No, Some('s')),
    ("template", Arg::Required, Some('t')),
    ("edit", Arg::No, Some('e')),
    ("cleanup", Arg::Required, None),
    ("status", Arg::No, None),
    ("gpg-sign", Arg::Optional, Some('S')),
    ("all", Arg::No, Some('a')),
    ("include", Arg::No, Some('i')),
    ("interactive", Arg::No, None),
    ("patch", Arg::No, Some('p')),
    ("only", Arg::No, Some('o')),
    ("verify", Arg::No, None),
    ("dry-run", Arg::No, None),
    ("short", Arg::No, None),
    ("branch", Arg::No, None),
    ("ahead-behind", Arg::No, None),
    ("porcelain", Arg::No, None),
    ("long", Arg::No, None),
    ("null", Arg::No, Some('z')),
    ("amend", Arg::No, None),
    ("post-rewrite", Arg::No, None),
    ("untracked-files", Arg::Optional, Some('u')),
    ("pathspec-from-file", Arg::Required, None),
    ("pathspec-file-nul", Arg::No, None),
    ("allow-empty", Arg::No, None),
    ("allow-empty-message", Arg::No, None),
];

/// Short options that exist only as short ones (`-n` is `--no-verify`).
const SHORT_ONLY: &[char] = &['n'];

/// git's global options that take the next argument when not given `=`.
const GLOBAL_WITH_ARG: &[&str] = &[
    "-c",
    "-C",
    "--git-dir",
    "--work-tree",
    "--namespace",
    "--config-env",
    "--super-prefix",
    "--attr-source",
];

/// Resolve a long option name (without `--`) as parse-options does: an exact
/// name, or a unique prefix; `no-` negates.
fn long(name: &str) -> Result<(&'static str, Arg, bool), String> {
    let lookup = |n: &str| -> Result<Option<(&'static str, Arg)>, String> {
        if let Some(&(full, arg, _)) = LONG.iter().find(|(l, _, _)| *l == n) {
            return Ok(Some((full, arg)));
        }
        let hits: Vec<_> = LONG.iter().filter(|(l, _, _)| l.starts_with(n)).collect();
        match hits.as_slice() {
            [] => Ok(None),
            [(full, arg, _)] => Ok(Some((full, *arg))),
            _ => Err(format!("--{n} is ambiguous (git refuses it too)")),
        }
    };
    if let Some((full, arg)) = lookup(name)? {
        return Ok((full, arg, true));
    }
    if let Some(rest) = name.strip_prefix("no-")
        && let Some((full, arg)) = lookup(rest)?
    {
        return Ok((full, arg, false));
    }
    Err(format!("--{name} is not an option of git commit"))
}

/// Parse `git commit`'s arguments (after `commit`).
pub fn commit_args(args: &[String]) -> Amend {
    let mut amend = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        i += 1;
        if a == "--" {
            break;
        }
        if let Some(body) = a.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            let (full, arg, on) = match long(name) {
                Ok(x) => x,
                Err(why) => return Amend::Unknown(why),
            };
            if arg == Arg::Required && inline.is_none() {
                i += 1; // its value is the next argument, whatever it looks like
            }
            if full == "amend" {
                amend = on;
            }
            continue;
        }
        if let Some(cluster) = a.strip_prefix('-').filter(|c| !c.is_empty()) {
            for (at, c) in cluster.char_indices() {
                if SHORT_ONLY.contains(&c) {
                    continue;
                }
                let Some(&(_, arg, _)) = LONG.iter().find(|(_, _, s)| *s == Some(c)) else {
                    return Amend::Unknown(format!("-{c} is not an option of git commit"));
                };
                match arg {
                    Arg::No => {}
                    // The rest of the cluster is the value.
                    Arg::Optional => break,
                    Arg::Required => {
                        if at + c.len_utf8() == cluster.len() {
                            i += 1;
                        }
                        break;
                    }
                }
            }
        }
        // Anything else is a pathspec; options may follow it.
    }
    if amend { Amend::Yes } else { Amend::No }
}

/// Parse a whole `git ...` command line (after `git`); `alias` answers
/// `alias.NAME` from git's configuration (an error: cannot tell).
pub fn git_args(args: &[String], alias: &dyn Fn(&str) -> Result<Option<String>, String>) -> Amend {
    let mut args: Vec<String> = args.to_vec();
    for _ in 0..8 {
        let mut i = 0;
        while i < args.len() && args[i].starts_with('-') {
            let a = args[i].as_str();
            if GLOBAL_WITH_ARG.contains(&a) {
                i += 1;
            }
            i += 1;
        }
        let Some(cmd) = args.get(i).cloned() else {
            return Amend::Unknown("no git command on the command line".into());
        };
        let rest = args[i + 1..].to_vec();
        if cmd == "commit" {
            return commit_args(&rest);
        }
        let found = match alias(&cmd) {
            Ok(v) => v,
            Err(why) => return Amend::Unknown(why),
        };
        match found {
            Some(v) if v.trim_start().starts_with('!') => {
                return Amend::Unknown(format!("alias {cmd} runs a shell command"));
            }
            Some(v) if v.contains(['"', '\'', '\\']) => {
                return Amend::Unknown(format!("alias {cmd} quotes its words"));
            }
            Some(v) => {
                args = v
                    .split_whitespace()
                    .map(str::to_string)
                    .chain(rest)
                    .collect();
            }
            // Another git command that commits (merge, rebase, cherry-pick, …)
            // makes a new commit: not an amend.
            None => return Amend::No,
        }
    }
    Amend::Unknown("aliases nest too deeply".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    fn commit(s: &str) -> Amend {
        git_args(&words(s), &|name| {
            Ok(match name {
                "ci" => Some("commit".into()),
                "fix" => Some("ci --amend --no-edit".into()),
                "sh" => Some("!git commit --amend".into()),
                _ => None,
            })
        })
    }

    #[test]
    fn amend_is_read_as_git_parses_it() {
        for (line, want) in [
            ("commit --amend", Amend::Yes),
            ("commit --am -m x", Amend::Yes),
            ("commit --amen", Amend::Yes),
            ("commit -m --amend", Amend::No),
            ("commit --message --amend", Amend::No),
            ("commit --message=--amend --amend", Amend::Yes),
            ("commit -am msg", Amend::No),
            ("commit -am --amend", Amend::No),
            ("commit -mfoo --amend", Amend::Yes),
            ("commit --amend --no-amend", Amend::No),
            ("commit --no-amend --amend", Amend::Yes),
            ("commit -- --amend", Amend::No),
            ("commit f.txt --amend", Amend::Yes),
            ("commit -C HEAD --amend", Amend::Yes),
            ("commit -S --amend", Amend::Yes),
            ("commit -Skey --amend", Amend::Yes),
            ("-c user.name=x commit --amend", Amend::Yes),
            ("-C /repo commit -q", Amend::No),
            ("--git-dir=/x/.git commit --amend", Amend::Yes),
            ("ci --amend", Amend::Yes),
            ("fix", Amend::Yes),
            ("merge topic", Amend::No),
        ] {
            assert_eq!(commit(line), want, "{line}");
        }
        assert!(matches!(commit("commit --a"), Amend::Unknown(_)));
        assert!(matches!(commit("commit --bogus"), Amend::Unknown(_)));
        assert!(matches!(commit("sh"), Amend::Unknown(_)));
    }
}
