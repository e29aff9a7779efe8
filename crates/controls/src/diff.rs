//! A regression gate: a saved `evident controls status --json` (the baseline) against the
//! status now. A control that passed then and fails or errs now, whose evidence was current
//! then and is expired or missing now, whose check was on time then and is overdue now, or
//! that passed then and is gone from the catalog, is a regression.

use serde::Serialize;
use serde_json::Value;

use crate::status::ControlStatus;

/// One control as the baseline recorded it (the fields of [`ControlStatus`] the gate reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineRow {
    /// the control
    pub control: String,
    /// its result then
    pub result: String,
    /// whether its check (or a manual control's evidence) had lapsed then
    pub overdue: bool,
    /// its evidence state then (`current`, `expired`, `missing`), if it has evidence
    pub evidence: Option<String>,
}

/// One regression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Regression {
    /// the control
    pub control: String,
    /// what it was in the baseline
    pub was: String,
    /// what it is now
    pub now: String,
}

/// Reads a baseline: the JSON lines `evident controls status --json` prints (or one JSON
/// array of the same objects). The error names the line and what is wrong.
pub fn parse_baseline(text: &str) -> Result<Vec<BaselineRow>, String> {
    let trimmed = text.trim_start();
    let objects: Vec<(usize, Value)> = if trimmed.starts_with('[') {
        let array: Vec<Value> = serde_json::from_str(text)
            .map_err(|e| format!("not a JSON array of control statuses: {e}"))?;
        array
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i + 1, v))
            .collect()
    } else {
        let mut rows = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let value: Value =
                serde_json::from_str(line).map_err(|e| format!("line {}: not JSON: {e}", i + 1))?;
            rows.push((i + 1, value));
        }
        rows
    };
    let mut rows: Vec<BaselineRow> = Vec::with_capacity(objects.len());
    for (n, value) in objects {
        let text = |field: &str| -> Result<String, String> {
            value
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("line {n}: no `{field}` (is this the output of `evident controls status --json`?)"))
        };
        let control = text("control")?;
        if rows.iter().any(|r| r.control == control) {
            return Err(format!("line {n}: `{control}` appears twice"));
        }
        let overdue = match value.get("overdue") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(format!("line {n}: `overdue` is not true or false")),
        };
        let evidence = match value.get("evidence") {
            None | Some(Value::Null) => None,
            Some(e) => Some(
                e.get("state")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("line {n}: `evidence` has no `state`"))?
                    .to_string(),
            ),
        };
        rows.push(BaselineRow {
            result: text("result")?,
            control,
            overdue,
            evidence,
        });
    }
    if rows.is_empty() {
        return Err("it holds no control statuses".into());
    }
    Ok(rows)
}

/// The regressions from `baseline` to `now`, in the baseline's order.
pub fn regressions(baseline: &[BaselineRow], now: &[ControlStatus]) -> Vec<Regression> {
    let mut found = Vec::new();
    for then in baseline {
        let Some(current) = now.iter().find(|s| s.control == then.control) else {
            if then.result == "pass" || then.evidence.as_deref() == Some("current") {
                found.push(Regression {
                    control: then.control.clone(),
                    was: then.result.clone(),
                    now: "no longer in the catalog".into(),
                });
            }
            continue;
        };
        if then.result == "pass" && current.failing() {
            found.push(Regression {
                control: then.control.clone(),
                was: "pass".into(),
                now: current.shown_result(),
            });
        }
        let evidence_now = current.evidence.as_ref().map(|e| e.state.as_str());
        if then.evidence.as_deref() == Some("current") && evidence_now != Some("current") {
            found.push(Regression {
                control: then.control.clone(),
                was: "evidence current".into(),
                now: current
                    .evidence_gap()
                    .unwrap_or_else(|| "no evidence tracked".into()),
            });
        } else if current.implementation != crate::catalog::Implementation::Manual
            && !then.overdue
            && then.result != "never checked"
            && current.overdue
        {
            found.push(Regression {
                control: then.control.clone(),
                was: "checked within its cadence".into(),
                now: format!(
                    "overdue (last checked {})",
                    current.checked.as_deref().unwrap_or("never")
                ),
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Implementation;
    use crate::evidence::EvidenceStanding;

    fn status(control: &str, result: &str, overdue: bool, evidence: Option<&str>) -> ControlStatus {
        ControlStatus {
            control: control.into(),
            title: String::new(),
            implementation: if evidence.is_some() {
                Implementation::Manual
            } else {
                Implementation::Automated
            },
            cadence: "1d".into(),
            result: result.into(),
            since: None,
            checked: Some("2026-01-01T00:00:00Z".into()),
            overdue,
            trend: String::new(),
            direction: "new",
            index: None,
            runs: 1,
            evidence: evidence.map(|state| EvidenceStanding {
                state: state.into(),
                evidence_id: None,
                index: None,
                added_at: None,
                valid_until: Some("2026-02-01T00:00:00Z".into()),
            }),
            exception: None,
        }
    }

    fn baseline_of(rows: &[ControlStatus]) -> Vec<BaselineRow> {
        let text: String = rows
            .iter()
            .map(|r| serde_json::to_string(r).unwrap() + "\n")
            .collect();
        parse_baseline(&text).unwrap()
    }

    #[test]
    fn a_pass_turned_fail_and_lost_evidence_are_regressions() {
        let then = [
            status("A", "pass", false, None),
            status("B", "pass", false, None),
            status("M", "manual", false, Some("current")),
            status("N", "manual", true, Some("missing")),
            status("F", "fail", false, None),
        ];
        let now = [
            status("A", "fail", false, None),
            status("B", "pass", true, None),
            status("M", "manual", true, Some("expired")),
            status("N", "manual", true, Some("missing")),
            status("F", "error", false, None),
        ];
        let found = regressions(&baseline_of(&then), &now);
        let names: Vec<(&str, &str)> = found
            .iter()
            .map(|r| (r.control.as_str(), r.now.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("A", "fail"),
                ("B", "overdue (last checked 2026-01-01T00:00:00Z)"),
                ("M", "evidence expired 2026-02-01T00:00:00Z"),
            ]
        );
        assert!(regressions(&baseline_of(&then), &then).is_empty());
    }

    #[test]
    fn a_control_gone_from_the_catalog_that_passed_is_a_regression() {
        let then = [status("GONE", "pass", false, None)];
        let found = regressions(&baseline_of(&then), &[]);
        assert_eq!(found[0].now, "no longer in the catalog");
    }

    #[test]
    fn bad_baselines_name_the_line_and_the_problem() {
        assert!(parse_baseline("")
            .unwrap_err()
            .contains("no control statuses"));
        assert!(parse_baseline("{\"control\":\"A\"}\n")
            .unwrap_err()
            .starts_with("line 1: no `result`"));
        assert!(
            parse_baseline("{\"control\":\"A\",\"result\":\"pass\"}\nnot json")
                .unwrap_err()
                .starts_with("line 2: not JSON")
        );
        assert!(parse_baseline(
            "{\"control\":\"A\",\"result\":\"pass\"}\n{\"control\":\"A\",\"result\":\"pass\"}"
        )
        .unwrap_err()
        .contains("twice"));
        assert_eq!(
            parse_baseline("[{\"control\":\"A\",\"result\":\"pass\"}]")
                .unwrap()
                .len(),
            1
        );
    }
}
