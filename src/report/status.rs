//! `guard status` and `guard claims`: one screen for an instance starting
//! work (zones and where they are, who claimed what, a freeze, the last
//! change of each zone), in text or JSON for agents.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::json;

use crate::claims::{Claim, State};
use crate::cli::ListFormat;

/// The last commit that touched a zone.
#[derive(Debug, Clone, Serialize)]
pub struct Last {
    pub commit: String,
    pub date: String,
    pub author: String,
    pub subject: String,
    pub verdict: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct ZoneStatus {
    pub id: String,
    pub location: String,
    pub signoffs: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approvers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub require: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_change: Vec<String>,
    pub frozen: bool,
    pub claimed_by: Option<String>,
    pub last: Option<Last>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub manifest: String,
    pub zones: Vec<ZoneStatus>,
    pub claims: Vec<ClaimRow>,
    pub freeze: Option<FreezeRow>,
    /// How many first-parent commits were read for the last changes.
    pub commits_read: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClaimRow {
    #[serde(flatten)]
    pub claim: Claim,
    #[serde(flatten)]
    pub state: State,
}

#[derive(Debug, Clone, Serialize)]
pub struct FreezeRow {
    pub reason: String,
    /// `None`: every zone.
    pub zones: Option<Vec<String>>,
}

fn state_text(s: &State) -> String {
    match s {
        State::Active => "active".into(),
        State::Expired => "expired (stale: ignored)".into(),
        State::Superseded { by } => format!("superseded by {by}'s earlier claim"),
    }
}

fn claim_line(c: &Claim, s: &State) -> String {
    let until = c
        .until
        .as_deref()
        .map_or(String::new(), |u| format!(" until {u}"));
    let note = if c.note.is_empty() {
        String::new()
    } else {
        format!(" ({})", c.note)
    };
    format!(
        "{:<24} {:<12} since {}{until}: {}{note}",
        c.zone,
        c.instance,
        c.since,
        state_text(s)
    )
}

/// `guard claims`.
pub fn claims(rows: &[(Claim, State)], format: ListFormat) -> String {
    match format {
        ListFormat::Human => {
            if rows.is_empty() {
                return "no claims\n".into();
            }
            rows.iter().map(|(c, s)| claim_line(c, s) + "\n").collect()
        }
        ListFormat::Json => {
            let list: Vec<ClaimRow> = rows
                .iter()
                .map(|(c, s)| ClaimRow {
                    claim: c.clone(),
                    state: s.clone(),
                })
                .collect();
            let mut s =
                serde_json::to_string_pretty(&json!({ "claims": list })).unwrap_or_default();
            s.push('\n');
            s
        }
    }
}

/// `guard status`.
pub fn render(st: &Status, format: ListFormat) -> String {
    if format == ListFormat::Json {
        let mut s = serde_json::to_string_pretty(st).unwrap_or_default();
        s.push('\n');
        return s;
    }
    let mut out = String::new();
    if let Some(f) = &st.freeze {
        let _ = writeln!(
            out,
            "FREEZE: {} ({}): no change to a frozen zone passes until it is lifted\n",
            f.reason,
            f.zones
                .as_ref()
                .map_or("every zone".to_string(), |z| z.join(", "))
        );
    }
    let _ = writeln!(out, "zones ({}):", st.manifest);
    for z in &st.zones {
        let mut who = format!(
            "{} sign-off{}",
            z.signoffs,
            if z.signoffs == 1 { "" } else { "s" }
        );
        if let Some(a) = &z.approvers {
            let _ = write!(who, " from {}", a.join(", "));
        }
        for r in &z.require {
            let _ = write!(who, "; {r}");
        }
        let _ = writeln!(out, "  {:<24} {:<40} {who}", z.id, z.location);
        if z.frozen {
            let _ = writeln!(out, "  {:<24} frozen", "");
        }
        if let Some(c) = &z.claimed_by {
            let _ = writeln!(out, "  {:<24} claimed by {c}", "");
        }
        if !z.also_change.is_empty() {
            let _ = writeln!(
                out,
                "  {:<24} also change: {}",
                "",
                z.also_change.join(", ")
            );
        }
        match &z.last {
            Some(l) => {
                let _ = writeln!(
                    out,
                    "  {:<24} last: {} {} {} \"{}\" ({})",
                    "",
                    &l.commit[..l.commit.len().min(10)],
                    l.date,
                    l.author,
                    l.subject,
                    l.verdict
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "  {:<24} last: not in the last {} commits",
                    "", st.commits_read
                );
            }
        }
    }
    if st.zones.is_empty() {
        out.push_str("  no zones\n");
    }
    out.push_str("\nclaims:\n");
    if st.claims.is_empty() {
        out.push_str("  none\n");
    }
    for r in &st.claims {
        let _ = writeln!(out, "  {}", claim_line(&r.claim, &r.state));
    }
    out
}
