//! The manifest as written: serde structs that keep spans for error messages.
//!
//! Every table denies unknown fields, and nothing is flattened (flatten would
//! silently disable `deny_unknown_fields`): a typo in a policy is an error.

use std::borrow::Cow;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawManifest<'a> {
    pub version: Option<Spanned<i64>>,
    pub policy: Option<RawPolicy>,
    #[serde(default, rename = "instance")]
    pub instances: Vec<Spanned<RawInstance>>,
    #[serde(default, rename = "zone")]
    #[serde(borrow)]
    pub zones: Vec<Spanned<RawZone<'a>>>,
    #[serde(default, rename = "invariant")]
    pub invariants: Vec<Spanned<RawInvariant>>,
    #[serde(default, rename = "group")]
    pub groups: Vec<Spanned<RawGroup>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    pub id: Option<Spanned<String>>,
    #[serde(default)]
    pub members: Vec<Spanned<String>>,
}

/// `{ group = "security", signoffs = 1 }`: a zone's `require` entry, or the
/// policy's `override`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuota {
    pub group: Option<Spanned<String>>,
    pub signoffs: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub signoffs: Option<Spanned<i64>>,
    pub trailers: Option<Vec<Spanned<String>>>,
    pub author_counts: Option<bool>,
    pub audit_trailers: Option<Vec<Spanned<String>>>,
    #[serde(rename = "override")]
    pub override_: Option<Spanned<RawQuota>>,
    pub freeze: Option<Spanned<RawFreeze>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInstance {
    pub id: Option<Spanned<String>>,
    #[serde(default)]
    pub emails: Vec<Spanned<String>>,
    pub key: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawZone<'a> {
    pub id: Option<Spanned<String>>,
    pub path: Option<Spanned<String>>,
    /// Borrowed from the manifest's text where it can be (the quick reader
    /// reads one without escapes so): it is read as a range and dropped.
    #[serde(borrow)]
    pub lines: Option<Spanned<Cow<'a, str>>>,
    pub reason: Option<String>,
    pub signoffs: Option<Spanned<i64>>,
    pub approvers: Option<Spanned<Vec<Spanned<String>>>>,
    pub require: Option<Vec<Spanned<RawQuota>>>,
    pub also_change: Option<Vec<Spanned<String>>>,
}

/// `freeze = "reason"`, or `freeze = { reason = "...", zones = [...] }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawFreeze {
    Reason(String),
    Zones(RawFreezeTable),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFreezeTable {
    pub reason: Option<String>,
    /// Not spanned: an untagged enum buffers its content, and spans do not
    /// survive that (problems point at the `freeze` value).
    pub zones: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInvariant {
    pub path: Option<Spanned<String>>,
    pub must_contain: Option<Spanned<String>>,
    pub must_not_contain: Option<Spanned<String>>,
    pub reason: Option<String>,
}
