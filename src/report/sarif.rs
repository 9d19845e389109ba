//! `--format sarif`: SARIF 2.1.0 for code scanning.

use serde_json::{Value, json};

use super::{Entry, Report};

pub fn render(report: &Report) -> String {
    let mut rules: Vec<Value> = Vec::new();
    let mut rule_ids: Vec<String> = Vec::new();
    let mut results: Vec<Value> = Vec::new();
    for e in &report.entries {
        match e {
            Entry::Failed { commit, error } => results.push(json!({
                "ruleId": "could-not-evaluate",
                "level": "error",
                "message": { "text": format!("{}: {error}", commit.as_deref().unwrap_or("change")) },
            })),
            Entry::Judged(v) => {
                for viol in &v.violations {
                    let (file, lines, msg) = super::human::locate(v, viol);
                    let rule = match viol {
                        crate::verdict::Violation::InsufficientSignoffs { zone, .. } => zone.clone(),
                        other => other.code().to_string(),
                    };
                    if !rule_ids.contains(&rule) {
                        let desc = v
                            .touched
                            .iter()
                            .find(|t| t.zone == rule)
                            .map(|t| t.reason.clone())
                            .filter(|r| !r.is_empty())
                            .unwrap_or_else(|| rule.clone());
                        rules.push(json!({
                            "id": rule,
                            "shortDescription": { "text": desc },
                        }));
                        rule_ids.push(rule.clone());
                    }
                    let mut result = json!({
                        "ruleId": rule,
                        "level": "error",
                        "message": { "text": format!("{}: {msg}", v.subject.label()) },
                    });
                    if let Some(f) = file {
                        let mut region = json!({});
                        if let Some(r) = lines {
                            region = json!({ "startLine": r.start, "endLine": r.end });
                        }
                        let mut loc = json!({ "artifactLocation": { "uri": f } });
                        if lines.is_some() {
                            loc["region"] = region;
                        }
                        result["locations"] = json!([{ "physicalLocation": loc }]);
                    }
                    results.push(result);
                }
                if let Some(reason) = &v.overridden {
                    if !rule_ids.iter().any(|r| r == "override") {
                        rules.push(json!({
                            "id": "override",
                            "shortDescription": { "text": "zones passed by the break-glass override" },
                        }));
                        rule_ids.push("override".into());
                    }
                    results.push(json!({
                        "ruleId": "override",
                        "level": "note",
                        "message": { "text": format!("{}: break-glass override: {reason}", v.subject.label()) },
                    }));
                }
            }
        }
    }
    if results.iter().any(|r| r["ruleId"] == "could-not-evaluate") {
        rules.push(json!({
            "id": "could-not-evaluate",
            "shortDescription": { "text": "guard could not evaluate a change" },
        }));
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "guard",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
