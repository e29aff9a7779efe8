//! The record of processing written out: one self-contained HTML page (styles inline, no
//! external resources, every value escaped), CSV (one row per processing activity, lists
//! joined with `; `), or JSON (the [`Record`] as it is).

use std::fmt::Write as _;

use super::{Activity, Record};

/// The formats the record is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// one HTML page
    Html,
    /// CSV, a row per activity
    Csv,
    /// pretty JSON
    Json,
}

impl Format {
    /// Reads `html`, `csv` or `json`.
    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "html" => Some(Format::Html),
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// The record in `format`.
pub fn render(record: &Record, format: Format) -> Vec<u8> {
    match format {
        Format::Html => html(record).into_bytes(),
        Format::Csv => csv(record),
        Format::Json => {
            let mut out = serde_json::to_vec_pretty(record).unwrap_or_default();
            out.push(b'\n');
            out
        }
    }
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "<em>not declared</em>".into()
    } else {
        items.iter().map(|i| esc(i)).collect::<Vec<_>>().join(", ")
    }
}

fn transfers(activity: &Activity) -> Vec<String> {
    activity
        .transfers
        .iter()
        .map(|t| {
            let mut s = format!(
                "{} — {} ({})",
                t.country,
                t.safeguard.name(),
                t.safeguard.article()
            );
            if let Some(r) = &t.recipient {
                s.push_str(&format!(", to {r}"));
            }
            if let Some(d) = &t.details {
                s.push_str(&format!(": {d}"));
            }
            s
        })
        .collect()
}

fn retention(activity: &Activity) -> Vec<String> {
    activity
        .retention
        .iter()
        .map(|r| match &r.from {
            Some(from) => format!("{}: {} from {}", r.table, r.period, from),
            None => format!("{}: {}", r.table, r.period),
        })
        .collect()
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:2em;color:#222;max-width:70em}\
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}\
th{width:16em;background:#f4f4f4}.gap{color:#a33}code{font-size:12px}";

fn html(record: &Record) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=en><head><meta charset=utf-8>\
         <title>Record of processing activities</title><style>{STYLE}</style></head><body>\
         <h1>Record of processing activities (GDPR Art. 30(1))</h1>\
         <p>Generated {} from the data map <code>{}</code>. Record digest <code>{}</code>.</p>",
        esc(&record.generated_at),
        esc(&record.map_hash),
        esc(&record.digest()),
    );
    h.push_str("<h2>Controller</h2>");
    match &record.controller {
        Some(c) => {
            let _ = write!(
                h,
                "<table><tr><th>Name</th><td>{}</td></tr><tr><th>Contact</th><td>{}</td></tr>\
                 <tr><th>Data protection officer</th><td>{}</td></tr>\
                 <tr><th>Representative (Art. 27)</th><td>{}</td></tr></table>",
                esc(&c.name),
                esc(&c.contact),
                c.dpo
                    .as_deref()
                    .map_or("<em>none appointed</em>".into(), esc),
                c.representative
                    .as_deref()
                    .map_or("<em>none designated</em>".into(), esc),
            );
        }
        None => h.push_str("<p class=gap>Not declared in the data map.</p>"),
    }
    h.push_str("<h2>Processing activities</h2>");
    for a in &record.activities {
        let _ = write!(
            h,
            "<h3>{}</h3><table>\
             <tr><th>Lawful basis</th><td>{}</td></tr>\
             <tr><th>Categories of data subjects</th><td>{}</td></tr>\
             <tr><th>Categories of personal data</th><td>{}</td></tr>\
             <tr><th>Special categories (Art. 9, 10)</th><td>{}</td></tr>\
             <tr><th>Held in</th><td>{}</td></tr>\
             <tr><th>Recipients</th><td>{}</td></tr>\
             <tr><th>Transfers to other countries</th><td>{}</td></tr>\
             <tr><th>Retention</th><td>{}</td></tr></table>",
            esc(&a.purpose),
            list(&a.lawful_bases),
            list(&a.data_subjects),
            list(&a.data_categories),
            if a.special_categories.is_empty() {
                "none".into()
            } else {
                list(&a.special_categories)
            },
            list(&a.tables),
            if a.recipients.is_empty() {
                "none declared".into()
            } else {
                list(&a.recipients)
            },
            if a.transfers.is_empty() {
                "none declared".into()
            } else {
                list(&transfers(a))
            },
            list(&retention(a)),
        );
    }
    h.push_str("<h2>Consent purposes</h2>");
    if record.consent_purposes.is_empty() {
        h.push_str("<p>No consent has been recorded.</p>");
    } else {
        h.push_str("<table><tr><th>Purpose</th><th>Grants</th><th>Withdrawals</th><th>In the data map</th></tr>");
        for c in &record.consent_purposes {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.purpose),
                c.grants,
                c.withdrawals,
                if c.in_map {
                    "yes"
                } else {
                    "<span class=gap>no</span>"
                }
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>Security measures (Art. 32), as checked</h2>");
    if record.security_measures.is_empty() {
        h.push_str("<p class=gap>No control maps to GDPR Art. 32.</p>");
    } else {
        h.push_str(
            "<table><tr><th>Control</th><th>Title</th><th>Result</th><th>Last checked</th></tr>",
        );
        for m in &record.security_measures {
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&m.control),
                esc(&m.title),
                esc(&m.result),
                m.checked.as_deref().map_or(String::from("—"), esc),
            );
        }
        h.push_str("</table>");
    }
    if !record.gaps.is_empty() {
        h.push_str("<h2>Gaps</h2><ul class=gap>");
        for g in &record.gaps {
            let _ = write!(h, "<li>{}</li>", esc(g));
        }
        h.push_str("</ul>");
    }
    h.push_str("</body></html>\n");
    h
}

fn csv(record: &Record) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let controller = record.controller.as_ref();
    let header = [
        "controller",
        "controller_contact",
        "dpo",
        "purpose",
        "lawful_bases",
        "data_subjects",
        "data_categories",
        "special_categories",
        "tables",
        "recipients",
        "transfers",
        "retention",
        "map_hash",
    ];
    // Writing to a Vec cannot fail; a failure here would be a bug in the csv crate.
    let _ = w.write_record(header);
    for a in &record.activities {
        let _ = w.write_record([
            controller.map_or("", |c| c.name.as_str()),
            controller.map_or("", |c| c.contact.as_str()),
            controller.and_then(|c| c.dpo.as_deref()).unwrap_or(""),
            a.purpose.as_str(),
            &a.lawful_bases.join("; "),
            &a.data_subjects.join("; "),
            &a.data_categories.join("; "),
            &a.special_categories.join("; "),
            &a.tables.join("; "),
            &a.recipients.join("; "),
            &transfers(a).join("; "),
            &retention(a).join("; "),
            record.map_hash.as_str(),
        ]);
    }
    w.into_inner().unwrap_or_default()
}
