//! Zone claims: an instance reserves zones while it works on them, in a
//! committed, reviewable file (`.guard/claims.toml`) that travels with its
//! branch. While a zone is claimed, a change to it by another instance needs
//! the claimant's sign-off. Pure: parsing, dates, which claim is in force.
//!
//! ```toml
//! [[claim]]
//! zone = "csp"
//! instance = "alpha"
//! since = "2026-12-01"
//! until = "2026-12-08"    # optional, inclusive
//! note = "CSP for websockets"
//! ```
//!
//! When two branches that each claimed a zone meet, both claims are in the
//! merged file; the one in force is the earliest `since` (then the smaller
//! instance id): a later claim is superseded, never a takeover.

use serde::{Deserialize, Serialize};

/// Where claims are kept, from the repository root.
pub const PATH: &str = ".guard/claims.toml";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    pub zone: String,
    pub instance: String,
    pub since: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    claim: Vec<Claim>,
}

/// Days since 1970-01-01 of "YYYY-MM-DD".
pub fn day(date: &str) -> Option<i64> {
    let mut parts = date.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (date_of(days) == date.trim()).then_some(days)
}

/// "YYYY-MM-DD" of days since 1970-01-01.
pub fn date_of(days: i64) -> String {
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Today (UTC), from the system clock.
pub fn today() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| day_of_time(d.as_secs() as i64))
}

/// The day (UTC) of seconds since the epoch.
pub fn day_of_time(secs: i64) -> i64 {
    secs.div_euclid(86_400)
}

/// Parse a claims file; every claim's dates must be dates.
pub fn parse(text: &str) -> Result<Vec<Claim>, String> {
    let file: File = toml::from_str(text).map_err(|e| e.message().trim().to_string())?;
    for c in &file.claim {
        if day(&c.since).is_none() {
            return Err(format!(
                "claim of {} by {}: `since` {:?} is not YYYY-MM-DD",
                c.zone, c.instance, c.since
            ));
        }
        if let Some(u) = &c.until
            && day(u).is_none()
        {
            return Err(format!(
                "claim of {} by {}: `until` {u:?} is not YYYY-MM-DD",
                c.zone, c.instance
            ));
        }
    }
    Ok(file.claim)
}

/// The claims file's text for `claims`.
pub fn render(claims: &[Claim]) -> String {
    let mut out = String::from(
        "# Zone claims (guard claim / guard release): while a zone is claimed, a change\n\
         # to it by another instance needs the claimant's sign-off.\n",
    );
    for c in claims {
        out.push_str("\n[[claim]]\n");
        out.push_str(&format!("zone = {}\n", quote(&c.zone)));
        out.push_str(&format!("instance = {}\n", quote(&c.instance)));
        out.push_str(&format!("since = {}\n", quote(&c.since)));
        if let Some(u) = &c.until {
            out.push_str(&format!("until = {}\n", quote(u)));
        }
        if !c.note.is_empty() {
            out.push_str(&format!("note = {}\n", quote(&c.note)));
        }
    }
    out
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

impl Claim {
    pub fn expired(&self, today: i64) -> bool {
        self.until
            .as_deref()
            .and_then(day)
            .is_some_and(|u| today > u)
    }

    fn rank(&self) -> (i64, &str) {
        (day(&self.since).unwrap_or(i64::MAX), self.instance.as_str())
    }
}

/// The claim in force on `zone` on `today`: unexpired, the earliest `since`
/// (then the smaller instance id). A claim is in force from the commit that
/// records it: `since` orders claims that meet, it does not delay one (an
/// author date is the author's to write, and must not make a claim look
/// not yet started).
pub fn in_force<'a>(claims: &'a [Claim], zone: &str, today: i64) -> Option<&'a Claim> {
    claims
        .iter()
        .filter(|c| c.zone == zone && !c.expired(today))
        .min_by(|a, b| a.rank().cmp(&b.rank()))
}

/// What a claim is on `today`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum State {
    Active,
    /// Its `until` has passed: ignored, and reported as stale.
    Expired,
    /// Another claim on the zone is in force.
    Superseded {
        by: String,
    },
}

pub fn state(claims: &[Claim], c: &Claim, today: i64) -> State {
    if c.expired(today) {
        return State::Expired;
    }
    match in_force(claims, &c.zone, today) {
        Some(f) if f == c => State::Active,
        Some(f) => State::Superseded {
            by: f.instance.clone(),
        },
        None => State::Active,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn claim(zone: &str, who: &str, since: &str, until: Option<&str>) -> Claim {
        Claim {
            zone: zone.into(),
            instance: who.into(),
            since: since.into(),
            until: until.map(Into::into),
            note: String::new(),
        }
    }

    #[test]
    fn dates_round_trip_and_bad_dates_are_refused() {
        for d in ["1970-01-01", "2000-02-29", "2026-12-01", "2099-12-31"] {
            assert_eq!(date_of(day(d).unwrap()), d);
        }
        assert_eq!(day("1970-01-02"), Some(1));
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "26-1-1",
            "tomorrow",
            "2026-1-01",
        ] {
            assert_eq!(day(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_earliest_unexpired_claim_is_in_force() {
        let today = day("2026-06-01").unwrap();
        let claims = vec![
            claim("z", "beta", "2026-05-02", None),
            claim("z", "alpha", "2026-05-03", None),
            claim("z", "gamma", "2026-05-01", Some("2026-05-31")),
            claim("z", "delta", "2026-07-01", None),
        ];
        assert_eq!(in_force(&claims, "z", today).unwrap().instance, "beta");
        assert_eq!(
            state(&claims, &claims[1], today),
            State::Superseded { by: "beta".into() }
        );
        assert_eq!(state(&claims, &claims[2], today), State::Expired);
        // A `since` to come does not delay a claim: it only ranks it.
        assert_eq!(
            state(&claims, &claims[3], today),
            State::Superseded { by: "beta".into() }
        );
        // The last day of `until` still counts.
        assert_eq!(
            in_force(&claims, "z", day("2026-05-31").unwrap())
                .unwrap()
                .instance,
            "gamma"
        );
    }

    #[test]
    fn rendered_claims_parse_back() {
        let mut c = claim("csp", "alpha", "2026-12-01", Some("2026-12-08"));
        c.note = "a \"quoted\" note".into();
        let claims = vec![c, claim("auth", "beta", "2026-12-02", None)];
        assert_eq!(parse(&render(&claims)).unwrap(), claims);
        assert!(parse("[[claim]]\nzone = \"z\"\ninstance = \"a\"\nsince = \"soon\"\n").is_err());
        assert!(parse("[[claim]]\nzone = \"z\"\nwho = \"a\"\n").is_err());
    }
}
