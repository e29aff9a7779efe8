//! The risk register written out: CSV (one row per risk, for a spreadsheet), JSON (the
//! register as [`Controls::risks`](crate::Controls::risks) answers it) and the risk-analysis
//! report in Markdown — the document HIPAA 164.308(a)(1)(ii)(A) and SOC 2 CC3.2 ask for,
//! with inherent and residual heat maps, every open risk by residual score and the linked
//! controls that are not effective now.

use std::fmt::Write as _;

use evident_core::event::format_time;
use evident_core::{Error, Result};

use super::risk::{Risk, Treatment};

/// The CSV header.
pub const CSV_HEADER: &str = "id,title,asset,threat,likelihood,impact,inherent,inherent_rating,owner,treatment,controls,residual_likelihood,residual,residual_rating,status,added_at,changed_at,closed_at";

/// One CSV field: quoted when it holds a comma, a quote or a line break, and a text that a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab) led by `'`.
fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The register as CSV, [`CSV_HEADER`] first.
pub fn csv(risks: &[Risk]) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for r in risks {
        let row = [
            field(&r.id),
            field(&r.title),
            field(&r.asset),
            field(&r.threat),
            r.likelihood.to_string(),
            r.impact.to_string(),
            r.inherent.score.to_string(),
            r.inherent.rating.to_string(),
            field(&r.owner),
            r.treatment.as_str().to_string(),
            field(&r.controls.join(" ")),
            r.residual.likelihood.to_string(),
            r.residual.score.to_string(),
            r.residual.rating.to_string(),
            r.status.to_string(),
            field(&r.added_at),
            field(&r.changed_at),
            field(r.closed_at.as_deref().unwrap_or("")),
        ];
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// The register as a JSON array.
pub fn json(risks: &[Risk]) -> Result<String> {
    serde_json::to_string_pretty(risks)
        .map_err(|e| Error::Integrity(format!("encoding the risk register: {e}")))
}

/// A Markdown table cell: no line breaks, no pipes.
fn cell(text: &str) -> String {
    text.replace(['\n', '\r'], " ").replace('|', "\\|")
}

/// A 5 × 5 heat map (likelihood down, impact across) counting open risks by `score`.
fn heat_map(out: &mut String, risks: &[&Risk], pick: impl Fn(&Risk) -> (u8, u8)) {
    out.push_str("| likelihood \\ impact | 1 | 2 | 3 | 4 | 5 |\n|---|---|---|---|---|---|\n");
    for likelihood in (1..=5u8).rev() {
        let _ = write!(out, "| **{likelihood}** |");
        for impact in 1..=5u8 {
            let n = risks
                .iter()
                .filter(|r| pick(r) == (likelihood, impact))
                .count();
            if n == 0 {
                out.push_str(" · |");
            } else {
                let _ = write!(out, " {n} |");
            }
        }
        out.push('\n');
    }
}

/// The risk-analysis report as of `now_us`, in Markdown.
pub fn report(risks: &[Risk], now_us: i64) -> String {
    let mut open: Vec<&Risk> = risks.iter().filter(|r| r.is_open()).collect();
    open.sort_by(|a, b| {
        b.residual
            .score
            .cmp(&a.residual.score)
            .then(b.inherent.score.cmp(&a.inherent.score))
            .then(a.id.cmp(&b.id))
    });
    let mut out = String::new();
    let _ = writeln!(out, "# Risk analysis\n");
    let _ = writeln!(
        out,
        "As of {}. {} open risks, {} closed. Each risk's residual score is computed now from \
         the live status of its linked controls: each effective control lowers the likelihood \
         one step (down to 1); a control that fails, errs, is overdue or lacks current \
         evidence lowers nothing. Ratings: low 1–4, medium 5–9, high 10–16, critical 17–25.\n",
        format_time(now_us),
        open.len(),
        risks.len() - open.len()
    );
    let _ = writeln!(
        out,
        "## Summary\n\n| rating | inherent | residual |\n|---|---|---|"
    );
    for rating in ["critical", "high", "medium", "low"] {
        let inherent = open.iter().filter(|r| r.inherent.rating == rating).count();
        let residual = open.iter().filter(|r| r.residual.rating == rating).count();
        let _ = writeln!(out, "| {rating} | {inherent} | {residual} |");
    }
    let _ = writeln!(out, "\n## Inherent risk (open risks)\n");
    heat_map(&mut out, &open, |r| (r.likelihood, r.impact));
    let _ = writeln!(out, "\n## Residual risk (open risks)\n");
    heat_map(&mut out, &open, |r| {
        (r.residual.likelihood, r.residual.impact)
    });
    let _ = writeln!(
        out,
        "\n## Open risks by residual score\n\n| id | title | asset | threat | owner | treatment | inherent | residual | controls |\n|---|---|---|---|---|---|---|---|---|"
    );
    for r in &open {
        let controls = if r.linked.is_empty() {
            "none".to_string()
        } else {
            r.linked
                .iter()
                .map(|c| {
                    format!(
                        "{} ({})",
                        c.control,
                        if c.effective {
                            "effective"
                        } else {
                            "not effective"
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} {} | {} {} | {} |",
            cell(&r.id),
            cell(&r.title),
            cell(&r.asset),
            cell(&r.threat),
            cell(&r.owner),
            r.treatment.as_str(),
            r.inherent.score,
            r.inherent.rating,
            r.residual.score,
            r.residual.rating,
            cell(&controls)
        );
    }
    let attention: Vec<String> = open
        .iter()
        .flat_map(|r| {
            r.linked
                .iter()
                .filter(|c| !c.effective)
                .map(move |c| format!("- {} → {}: {}", r.id, c.control, cell(&c.why)))
        })
        .chain(
            open.iter()
                .filter(|r| r.treatment == Treatment::Mitigate && r.controls.is_empty())
                .map(|r| format!("- {}: treated by mitigation but linked to no control", r.id)),
        )
        .chain(
            open.iter()
                .filter(|r| r.treatment == Treatment::Accept && r.residual.score >= 10)
                .map(|r| {
                    format!(
                        "- {}: accepted at a {} residual score ({})",
                        r.id, r.residual.rating, r.residual.score
                    )
                }),
        )
        .collect();
    let _ = writeln!(out, "\n## Needs attention\n");
    if attention.is_empty() {
        let _ = writeln!(out, "Nothing: every linked control is effective.");
    } else {
        for line in attention {
            let _ = writeln!(out, "{line}");
        }
    }
    let closed: Vec<&Risk> = risks.iter().filter(|r| !r.is_open()).collect();
    if !closed.is_empty() {
        let _ = writeln!(
            out,
            "\n## Closed risks\n\n| id | title | closed | reason |\n|---|---|---|---|"
        );
        for r in closed {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&r.id),
                cell(&r.title),
                r.closed_at.as_deref().unwrap_or(""),
                cell(r.close_reason.as_deref().unwrap_or(""))
            );
        }
    }
    let _ = writeln!(
        out,
        "\nEvery change to this register is a `controls.risk.*` event in the ledger (the indices are in `evident risk show ID`)."
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(field("-1,2"), "\"'-1,2\"");
    }

    #[test]
    fn an_empty_register_reports_nothing_open() {
        let text = report(&[], 0);
        assert!(text.contains("0 open risks"));
        assert_eq!(csv(&[]), format!("{CSV_HEADER}\n"));
    }
}
