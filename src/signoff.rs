//! Who signed a change: trailer values matched to instances, counted once each.

use serde::Serialize;

use crate::manifest::Manifest;
use crate::signature;
use crate::trailers::Trailer;

/// One sign-off trailer and what became of it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Signoff {
    pub trailer: String,
    pub value: String,
    /// The instance it matched (or, with no instances declared, the identity counted).
    pub instance: Option<String>,
    pub counted: bool,
    /// Why it did not count (empty when it counted).
    pub why_not: String,
}

/// The outcome of reading a message's sign-offs against a manifest.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Signoffs {
    pub entries: Vec<Signoff>,
    /// Distinct instances (or identities) whose sign-off counts.
    pub distinct: Vec<String>,
    /// True when the manifest declares no instances: any distinct identity counts.
    pub open: bool,
}

impl Signoffs {
    pub fn count(&self) -> u32 {
        self.distinct.len() as u32
    }
}

/// The email inside `<...>` of a trailer value, if any.
pub fn email_of(value: &str) -> Option<&str> {
    let start = value.find('<')?;
    let end = value[start..].find('>')? + start;
    Some(value[start + 1..end].trim())
}

fn is_key(key: &str, keys: &[String]) -> bool {
    keys.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// Match every sign-off trailer of `trailers` against `manifest`.
/// `author_email` is the email git records (or will record) as the author;
/// `digest` is what `Guard-Signature` trailers must sign (contract section 7).
pub fn evaluate(
    manifest: &Manifest,
    trailers: &[Trailer],
    author_email: &str,
    digest: &crate::digest::Signed,
) -> Signoffs {
    let policy = &manifest.policy;
    let open = manifest.instances.is_empty();
    let author = manifest
        .instances
        .iter()
        .find(|i| i.has_email(author_email))
        .map(|i| i.id.clone());
    let mut out = Signoffs {
        open,
        ..Signoffs::default()
    };
    for t in trailers
        .iter()
        .filter(|t| t.key.eq_ignore_ascii_case(signature::TRAILER))
    {
        let entry = signed(manifest, &t.value, author.as_deref(), digest, &mut out);
        out.entries.push(entry);
    }
    for t in trailers.iter().filter(|t| is_key(&t.key, &policy.trailers)) {
        let value = t.value.trim();
        let email = email_of(value);
        let mut entry = Signoff {
            trailer: t.key.clone(),
            value: value.to_string(),
            instance: None,
            counted: false,
            why_not: String::new(),
        };
        if open {
            let identity = match email {
                Some(e) if !e.is_empty() => e.to_ascii_lowercase(),
                _ => value.to_ascii_lowercase(),
            };
            if identity.is_empty() {
                entry.why_not = "empty sign-off".into();
            } else if !policy.author_counts
                && email.is_some_and(|e| e.eq_ignore_ascii_case(author_email))
            {
                entry.why_not = "the author's own sign-off (author_counts = false)".into();
            } else if out.distinct.contains(&identity) {
                entry.instance = Some(identity);
                entry.why_not = "already counted (same identity)".into();
            } else {
                entry.instance = Some(identity.clone());
                entry.counted = true;
                out.distinct.push(identity);
            }
            out.entries.push(entry);
            continue;
        }
        let instance = manifest
            .instances
            .iter()
            .find(|i| email.is_some_and(|e| i.has_email(e)) || i.id.eq_ignore_ascii_case(value));
        match instance {
            None => {
                entry.why_not = match email {
                    Some(e) => format!("<{e}> is not the email of a registered instance"),
                    None => "matches no registered instance (neither an email nor an id)".into(),
                }
            }
            Some(i) => {
                entry.instance = Some(i.id.clone());
                if i.key.is_some() {
                    entry.why_not = format!(
                        "instance {} has a key: its sign-off must be a Guard-Signature",
                        i.id
                    );
                } else if !policy.author_counts && author.as_deref() == Some(i.id.as_str()) {
                    entry.why_not =
                        format!("{} is the commit's author and author_counts = false", i.id);
                } else if out.distinct.contains(&i.id) {
                    entry.why_not = format!("{} already signed (counted once)", i.id);
                } else {
                    entry.counted = true;
                    out.distinct.push(i.id.clone());
                }
            }
        }
        out.entries.push(entry);
    }
    out
}

/// A `Guard-Signature: <instance-id> <base64 SSHSIG>` trailer.
fn signed(
    manifest: &Manifest,
    value: &str,
    author: Option<&str>,
    digest: &crate::digest::Signed,
    out: &mut Signoffs,
) -> Signoff {
    let value = value.trim();
    let (id, sig) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
    let mut entry = Signoff {
        trailer: signature::TRAILER.to_string(),
        value: format!("{id} <signature>"),
        instance: None,
        counted: false,
        why_not: String::new(),
    };
    let Some(instance) = manifest
        .instances
        .iter()
        .find(|i| i.id.eq_ignore_ascii_case(id))
    else {
        entry.why_not = format!("{id:?} is not a registered instance");
        return entry;
    };
    entry.instance = Some(instance.id.clone());
    let Some(key) = &instance.key else {
        entry.why_not = format!("instance {} has no key in the manifest", instance.id);
        return entry;
    };
    let key = match signature::parse_public_key(key) {
        Ok(k) => k,
        Err(e) => {
            entry.why_not = e.to_string();
            return entry;
        }
    };
    if let Err(why) = signature::verify(&key, sig.trim(), digest) {
        entry.why_not = why;
    } else if !manifest.policy.author_counts && author == Some(instance.id.as_str()) {
        entry.why_not = format!(
            "{} is the commit's author and author_counts = false",
            instance.id
        );
    } else if out.distinct.contains(&instance.id) {
        entry.why_not = format!("{} already signed (counted once)", instance.id);
    } else {
        entry.counted = true;
        out.distinct.push(instance.id.clone());
    }
    entry
}
