//! The bundle's human report: one HTML file with its styles inline and no external
//! resources, readable offline. It shows the control × time grid (pass, fail, gap), each
//! control's figures, its gaps and open failures, and every event with the time the log
//! received it and the period it covers. The figures are embedded as JSON too
//! ([`FIGURES_ID`]), so a verifier compares what a reader sees with what it recomputes.

use std::fmt::Write as _;

use evident_core::event::format_time;

use super::events::{Kind, PeriodEvent};
use super::figures::{short_time, CatalogSnapshot, Figures};
use super::format::Manifest;

/// The id of the `<script type="application/json">` element holding the figures.
pub const FIGURES_ID: &str = "evident-figures";

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn time_or_open(us: i64) -> String {
    if us == i64::MAX {
        "open".into()
    } else {
        format_time(us)
    }
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}\
td.c{width:14px;padding:0;text-align:center;font-size:11px}.P{background:#9fd89f}.F{background:#f08080}\
.G{background:#f5d76e}.I{background:#ccc}.E{background:#9cc3f0}code{font-size:12px}";

/// Renders the report of a bundle.
pub fn render(manifest: &Manifest, catalog: &CatalogSnapshot, events: &[PeriodEvent]) -> String {
    let f: &Figures = &manifest.figures;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Evidence bundle — {fw} {from} … {to}</title><style>{STYLE}</style></head><body>\
         <h1>Evidence bundle: {fwname}</h1>\
         <p>Period {from} … {to} (end exclusive). Log <code>{origin}</code>, tree sizes {s0} … {s1}. \
         Catalog <code>{cat}</code>. Built {built}.</p>",
        fw = esc(&manifest.framework),
        fwname = esc(&catalog.framework_name),
        from = esc(&manifest.from),
        to = esc(&manifest.to),
        origin = esc(&manifest.origin),
        s0 = manifest.start.size,
        s1 = manifest.end.size,
        cat = esc(&manifest.catalog_hash),
        built = esc(&manifest.built_at),
    );
    let _ = write!(
        h,
        "<p>{} controls, {} check runs, {} gaps, {} failures without a later pass or exception. \
         Verify offline: <code>evident verify THIS-FILE --vkey KEY</code>.</p>",
        f.controls.len(),
        f.controls.iter().map(|c| c.runs).sum::<u64>(),
        f.gap_count(),
        f.unresolved_count()
    );
    h.push_str("<h2>Policy versions in force</h2><ul>");
    for p in &manifest.policies {
        let _ = write!(
            h,
            "<li>v{} <code>{}</code> applied {} (entry {})</li>",
            p.version,
            esc(&p.hash),
            esc(&p.applied_at),
            p.index
        );
    }
    if !manifest.policy_documents.is_empty() {
        h.push_str("</ul><h2>Policy documents in force</h2><ul>");
        for d in &manifest.policy_documents {
            let _ = write!(
                h,
                "<li>{} v{} <code>{}</code> published {} (entry {})</li>",
                esc(&d.document),
                d.version,
                esc(&d.sha256),
                esc(&d.published_at),
                d.index
            );
        }
    }
    let _ = write!(
        h,
        "</ul><h2>Controls × time</h2><p>Columns of {} day(s) from {}: \
         <span class=P>P</span> pass, <span class=F>F</span> fail or error, <span class=G>G</span> gap, \
         <span class=I>I</span> inconclusive, <span class=E>E</span> evidence (manual).</p><table><tr><th>control</th>",
        f.column_days,
        esc(f.columns.first().map_or("", String::as_str))
    );
    for c in &f.columns {
        let _ = write!(
            h,
            "<th class=c title=\"{0}\">{1}</th>",
            esc(c),
            esc(c.get(8..10).unwrap_or(""))
        );
    }
    h.push_str("</tr>");
    for row in &f.controls {
        let _ = write!(h, "<tr><td>{}</td>", esc(&row.control));
        for (cell, col) in row.grid.chars().zip(&f.columns) {
            let _ = write!(
                h,
                "<td class=\"c {cell}\" title=\"{}\">{cell}</td>",
                esc(col)
            );
        }
        h.push_str("</tr>");
    }
    h.push_str("</table><h2>Figures</h2><table><tr><th>control</th><th>title</th><th>runs</th><th>pass</th><th>fail</th><th>error</th><th>inconclusive</th><th>evidence</th><th>exceptions</th><th>gaps</th><th>open failures</th></tr>");
    for row in &f.controls {
        let title = catalog
            .controls
            .iter()
            .find(|c| c.id == row.control)
            .map_or("", |c| c.title.as_str());
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&row.control),
            esc(title),
            row.runs,
            row.pass,
            row.fail,
            row.error,
            row.inconclusive,
            row.evidence,
            row.exceptions,
            row.gaps.len(),
            row.unresolved.len()
        );
    }
    h.push_str("</table><h2>Gaps and open failures</h2><ul>");
    for row in &f.controls {
        for g in &row.gaps {
            let _ = write!(
                h,
                "<li>{} not checked {} … {}</li>",
                esc(&row.control),
                esc(&short_time(&g.from)),
                esc(&short_time(&g.to))
            );
        }
        for i in &row.unresolved {
            let _ = write!(
                h,
                "<li>{} failed (entry {i}) with no later pass and no exception</li>",
                esc(&row.control)
            );
        }
    }
    h.push_str("</ul><h2>Events</h2><table><tr><th>entry</th><th>action</th><th>control</th><th>result</th><th>received</th><th>covers</th></tr>");
    for e in events {
        let covers = match e.kind {
            Kind::Check | Kind::ExceptionRevoked | Kind::Policy | Kind::PolicyDoc => {
                format_time(e.time_us)
            }
            _ => format!("{} … {}", format_time(e.covers.0), time_or_open(e.covers.1)),
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e.index,
            esc(&e.action),
            esc(e.control.as_deref().unwrap_or("")),
            esc(e.result.as_deref().unwrap_or("")),
            esc(&format_time(e.received_us)),
            esc(&covers)
        );
    }
    let figures = serde_json::to_string(f)
        .unwrap_or_default()
        .replace("</", "<\\/");
    let _ = writeln!(
        h,
        "</table><script type=\"application/json\" id=\"{FIGURES_ID}\">{figures}</script></body></html>"
    );
    h
}

/// The figures a report embeds, if it embeds readable ones.
pub fn embedded_figures(html: &str) -> Option<Figures> {
    let open = format!("<script type=\"application/json\" id=\"{FIGURES_ID}\">");
    let start = html.find(&open)? + open.len();
    let len = html[start..].find("</script>")?;
    // `<\/` is JSON's own escape of `</`: it parses as written.
    serde_json::from_str(&html[start..start + len]).ok()
}
