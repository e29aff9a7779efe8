//! From the TOML as written to a [`DataMap`]: every rule of the format, each failure a
//! [`Diagnostic`] at the line of the value at fault. All problems are collected, not just
//! the first.

use std::collections::BTreeMap;
use std::path::Path;

use toml::Spanned;

use super::check::{check_name, clip, Check};
use super::links::check_links;
use super::model::{raw, STRATEGIES};
use super::model::{
    Connection, DataMap, Erasure, Field, LawfulBasis, LedgerRetention, Link, Retention, RowErasure,
    System, Table,
};
use super::processing;
use super::source::{hash, Diagnostics};
use super::taxonomy;

/// The map format this code reads.
pub const FORMAT: i64 = 1;

pub(crate) fn validate(
    file: &Path,
    text: &str,
    map: &raw::Map,
) -> std::result::Result<DataMap, Diagnostics> {
    let mut c = Check {
        file,
        text,
        found: Vec::new(),
    };
    if let Some(format) = &map.format {
        if *format.get_ref() != FORMAT {
            c.at(
                format.span(),
                format!(
                    "`format = {}` is not a data map format this version reads (it reads {FORMAT})",
                    format.get_ref()
                ),
            );
        }
    }
    let controller = map
        .controller
        .as_ref()
        .map(|ctl| processing::check_controller(&mut c, ctl));
    let mut systems = Vec::new();
    let mut names = BTreeMap::new();
    for system in &map.systems {
        let name = &system.get_ref().name;
        if let Some(first) = names.insert(name.get_ref().clone(), c.line(&name.span())) {
            c.at(
                name.span(),
                format!(
                    "duplicate system `{}` (first declared on line {first})",
                    name.get_ref()
                ),
            );
        }
        systems.push(check_system(&mut c, system));
    }
    let ledger = check_ledger(&mut c, &map.ledger);
    if c.found.is_empty() {
        Ok(DataMap {
            file: file.to_path_buf(),
            hash: hash(text),
            controller,
            systems,
            ledger,
        })
    } else {
        c.found.sort_by_key(|d| (d.line, d.column));
        Err(Diagnostics(c.found))
    }
}

/// `[[ledger]]`: an action (letters, digits, `.`, `_`, `-`, or a prefix of them ending in
/// `*`) named once, and a period.
fn check_ledger(
    c: &mut Check<'_>,
    rules: &[Spanned<raw::LedgerRetention>],
) -> Vec<LedgerRetention> {
    let mut out = Vec::new();
    let mut seen = BTreeMap::new();
    for spanned in rules {
        let r = spanned.get_ref();
        let action = r.action.get_ref();
        let stem = action.strip_suffix('*').unwrap_or(action);
        let valid = !stem.is_empty()
            && stem.len() <= 128
            && stem
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-'));
        if !valid {
            c.at(
                r.action.span(),
                format!(
                    "`{}` is not an event action: letters, digits, `.`, `_`, `-`, or such a prefix ending in `*` (`consent.*`)",
                    clip(action)
                ),
            );
        }
        if let Some(first) = seen.insert(action.clone(), c.line(&r.action.span())) {
            c.at(
                r.action.span(),
                format!(
                    "duplicate ledger action `{}` (first declared on line {first})",
                    clip(action)
                ),
            );
        }
        let retention = Retention::parse(r.retention.get_ref()).unwrap_or_else(|| {
            c.at(
                r.retention.span(),
                format!(
                    "`{}` is not a retention period: a number and a unit, largest first: `6y`, `18m`, `1y6m`, `2w`, `90d`",
                    clip(r.retention.get_ref())
                ),
            );
            Retention::default()
        });
        out.push(LedgerRetention {
            action: action.clone(),
            retention,
            description: r.description.clone(),
            line: c.line(&spanned.span()),
        });
    }
    out
}

fn check_system(c: &mut Check<'_>, spanned: &Spanned<raw::System>) -> System {
    let s = spanned.get_ref();
    check_name(c, "system", &s.name);
    let connection = check_connection(c, s);
    let mut tables: Vec<Table> = Vec::new();
    let mut names = BTreeMap::new();
    for t in &s.tables {
        let name = &t.get_ref().name;
        if let Some(first) = names.insert(name.get_ref().clone(), c.line(&name.span())) {
            c.at(
                name.span(),
                format!(
                    "duplicate table `{}` in system `{}` (first declared on line {first})",
                    name.get_ref(),
                    s.name.get_ref()
                ),
            );
        }
        tables.push(check_table(c, s, t));
    }
    check_links(c, s, &mut tables);
    if let Some(list) = &s.subjects {
        let default = processing::check_subjects(c, list);
        for (table, raw) in tables.iter_mut().zip(&s.tables) {
            if raw.get_ref().subjects.is_none() {
                table.subjects = default.clone();
            }
        }
    }
    System {
        name: s.name.get_ref().clone(),
        connection,
        description: s.description.clone(),
        recipients: processing::check_recipients(c, &s.recipients),
        transfers: processing::check_transfers(c, &s.transfers),
        tables,
        line: c.line(&spanned.span()),
    }
}

fn check_connection(c: &mut Check<'_>, s: &raw::System) -> Connection {
    let text = s.connection.get_ref().trim();
    let schema = s
        .schema
        .as_ref()
        .map_or_else(|| "public".to_owned(), |x| x.get_ref().clone());
    if let Some(schema) = &s.schema {
        check_name(c, "schema", schema);
    }
    let postgres = |url_env: Option<String>, url: Option<String>| Connection::Postgres {
        url_env,
        url,
        schema: schema.clone(),
    };
    if let Some(path) = text.strip_prefix("sqlite:") {
        if path.is_empty() {
            c.at(
                s.connection.span(),
                "`sqlite:` needs a path: `sqlite:PATH`".into(),
            );
        }
        for extra in [&s.url_env, &s.schema].into_iter().flatten() {
            c.at(
                extra.span(),
                "`url_env` and `schema` are for PostgreSQL systems, not SQLite".into(),
            );
        }
        return Connection::Sqlite { path: path.into() };
    }
    if text == "postgres" || text == "postgresql" {
        let Some(var) = &s.url_env else {
            c.at(
                s.connection.span(),
                "`connection = \"postgres\"` needs `url_env`: the environment variable holding the URL".into(),
            );
            return postgres(None, None);
        };
        let v = var.get_ref();
        let ok = !v.is_empty()
            && !v.starts_with(|ch: char| ch.is_ascii_digit())
            && v.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
        if !ok {
            c.at(
                var.span(),
                format!(
                    "`{}` is not an environment variable name (letters, digits, `_`)",
                    clip(v)
                ),
            );
        }
        return postgres(Some(v.clone()), None);
    }
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        if url_has_password(text) {
            c.at(
                s.connection.span(),
                "the connection URL holds a password: never write one in the map; put the URL \
                 in an environment variable and name it: `connection = \"postgres\"`, \
                 `url_env = \"VARIABLE\"`"
                    .into(),
            );
            return postgres(None, None);
        }
        if let Some(var) = &s.url_env {
            c.at(
                var.span(),
                "`url_env` and a URL in `connection` both given: keep one".into(),
            );
        }
        return postgres(None, Some(text.to_owned()));
    }
    c.at(
        s.connection.span(),
        format!(
            "`{}` is not a connection: use `sqlite:PATH`, or `postgres` with `url_env`",
            clip(text)
        ),
    );
    Connection::Sqlite {
        path: Default::default(),
    }
}

/// Whether a PostgreSQL URL carries a password (`user:secret@`, or a `password=` parameter).
fn url_has_password(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let userinfo_password = authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'));
    let query_password = rest.split_once('?').is_some_and(|(_, q)| {
        q.split('&')
            .any(|kv| kv.to_ascii_lowercase().starts_with("password="))
    });
    userinfo_password || query_password
}

fn inherited<'a>(
    own: &'a Option<Spanned<String>>,
    default: &'a Option<Spanned<String>>,
) -> Option<&'a Spanned<String>> {
    own.as_ref().or(default.as_ref())
}

fn check_table(c: &mut Check<'_>, s: &raw::System, spanned: &Spanned<raw::Table>) -> Table {
    let t = spanned.get_ref();
    check_name(c, "table", &t.name);
    let tname = t.name.get_ref();
    let primary_key = t.primary_key.get_ref().to_vec();
    if primary_key.is_empty() || primary_key.iter().any(String::is_empty) {
        c.at(
            t.primary_key.span(),
            format!("table `{tname}`: `primary_key` names no column"),
        );
    }
    let purpose = match inherited(&t.purpose, &s.purpose) {
        Some(p) if !p.get_ref().trim().is_empty() => p.get_ref().clone(),
        Some(p) => {
            c.at(p.span(), "`purpose` is empty".into());
            String::new()
        }
        None => {
            c.at(
                t.name.span(),
                format!("table `{tname}` has no `purpose` (set it on the table or its system)"),
            );
            String::new()
        }
    };
    let lawful_basis = match inherited(&t.lawful_basis, &s.lawful_basis) {
        Some(b) => LawfulBasis::parse(b.get_ref()).unwrap_or_else(|| {
            let names: Vec<&str> = LawfulBasis::ALL.iter().map(|(_, n, _)| *n).collect();
            c.at(
                b.span(),
                format!(
                    "`{}` is not a lawful basis of GDPR Art. 6(1); use one of {}",
                    clip(b.get_ref()),
                    names.join(", ")
                ),
            );
            LawfulBasis::Consent
        }),
        None => {
            c.at(
                t.name.span(),
                format!(
                    "table `{tname}` has no `lawful_basis` (set it on the table or its system)"
                ),
            );
            LawfulBasis::Consent
        }
    };
    let retention = match inherited(&t.retention, &s.retention) {
        Some(r) => Retention::parse(r.get_ref()).unwrap_or_else(|| {
            c.at(
                r.span(),
                format!(
                    "`{}` is not a retention period: a number and a unit, largest first: `6y`, `18m`, `1y6m`, `2w`, `90d`",
                    clip(r.get_ref())
                ),
            );
            Retention::default()
        }),
        None => {
            c.at(t.name.span(), format!("table `{tname}` has no `retention` (set it on the table or its system)"));
            Retention::default()
        }
    };
    let erasure = match &t.erasure {
        None => RowErasure::Fields,
        Some(e) => match e.get_ref().as_str() {
            "fields" => RowErasure::Fields,
            "delete_row" => RowErasure::DeleteRow,
            other => {
                c.at(
                    e.span(),
                    format!(
                        "`{}` is not a table erasure: use `fields` or `delete_row`",
                        clip(other)
                    ),
                );
                RowErasure::Fields
            }
        },
    };
    let link = match (&t.identity, &t.join) {
        (Some(i), Some(j)) => {
            c.at(j.span(), format!("table `{tname}` has both `identity` and `join`: the identity table joins to nothing"));
            Link::Identity {
                column: i.get_ref().clone(),
            }
        }
        (Some(i), None) => {
            if i.get_ref().is_empty() {
                c.at(i.span(), "`identity` names no column".into());
            }
            Link::Identity {
                column: i.get_ref().clone(),
            }
        }
        (None, Some(j)) => parse_join(c, j),
        (None, None) => {
            c.at(
                t.name.span(),
                format!("table `{tname}` has no join path to an identity table: give it `identity = \"COLUMN\"` or `join = \"COLUMN -> TABLE.COLUMN\"`"),
            );
            Link::Identity {
                column: String::new(),
            }
        }
    };
    let mut fields = Vec::new();
    let mut names = BTreeMap::new();
    for f in t.fields() {
        let name = &f.get_ref().name;
        if let Some(first) = names.insert(name.get_ref().clone(), c.line(&name.span())) {
            c.at(
                name.span(),
                format!(
                    "duplicate field `{}` in table `{tname}` (first declared on line {first})",
                    name.get_ref()
                ),
            );
        }
        fields.push(check_field(c, f));
    }
    Table {
        name: tname.clone(),
        primary_key,
        link,
        path: Vec::new(),
        purpose,
        lawful_basis,
        retention,
        retention_from: t.retention_from.as_ref().map(|r| r.get_ref().clone()),
        erasure,
        // A table without its own list takes its system's (filled in by `check_system`).
        subjects: t
            .subjects
            .as_ref()
            .map(|list| processing::check_subjects(c, list))
            .unwrap_or_default(),
        description: t.description.clone(),
        fields,
        line: c.line(&spanned.span()),
    }
}

fn parse_join(c: &mut Check<'_>, j: &Spanned<String>) -> Link {
    let parsed = j.get_ref().split_once("->").and_then(|(col, target)| {
        let (parent, parent_column) = target.trim().split_once('.')?;
        let ok = |s: &str| !s.is_empty() && !s.contains(char::is_whitespace);
        let col = col.trim();
        (ok(col) && ok(parent) && ok(parent_column)).then(|| Link::Join {
            column: col.to_owned(),
            parent: parent.to_owned(),
            parent_column: parent_column.to_owned(),
        })
    });
    parsed.unwrap_or_else(|| {
        c.at(
            j.span(),
            format!(
                "`{}` is not a join: write `COLUMN -> TABLE.COLUMN`",
                clip(j.get_ref())
            ),
        );
        Link::Identity {
            column: String::new(),
        }
    })
}

fn check_field(c: &mut Check<'_>, spanned: &Spanned<raw::Field>) -> Field {
    let f = spanned.get_ref();
    let fname = f.name.get_ref();
    if fname.is_empty() {
        c.at(f.name.span(), "a field with an empty name".into());
    }
    if f.categories.get_ref().is_empty() {
        c.at(
            f.categories.span(),
            format!("field `{fname}` has no data category"),
        );
    }
    for cat in f.categories.get_ref() {
        if !taxonomy::is_category(cat.get_ref()) {
            let hint = taxonomy::nearest(cat.get_ref())
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            c.at(
                cat.span(),
                format!(
                    "`{}` is not a fideslang data category (fideslang {}){hint}",
                    clip(cat.get_ref()),
                    taxonomy::FIDESLANG_VERSION
                ),
            );
        }
    }
    let strategy = f.erasure.get_ref().as_str();
    let given: [(&str, Option<std::ops::Range<usize>>); 3] = [
        ("value", f.value.as_ref().map(Spanned::span)),
        ("key", f.key.as_ref().map(Spanned::span)),
        ("reason", f.reason.as_ref().map(Spanned::span)),
    ];
    let erasure = match STRATEGIES.iter().find(|(s, _)| *s == strategy) {
        None => {
            let names: Vec<&str> = STRATEGIES.iter().map(|(s, _)| *s).collect();
            c.at(
                f.erasure.span(),
                format!(
                    "`{}` is not an erasure strategy; use one of {}",
                    clip(strategy),
                    names.join(", ")
                ),
            );
            Erasure::Null
        }
        Some((_, wanted)) => {
            for (param, span) in &given {
                if let Some(span) = span {
                    if Some(*param) != *wanted {
                        c.at(
                            span.clone(),
                            format!("`{param}` is not a parameter of erasure `{strategy}`"),
                        );
                    }
                }
            }
            if let Some(param) = wanted {
                let present = given.iter().any(|(p, s)| p == param && s.is_some());
                if !present {
                    c.at(
                        f.erasure.span(),
                        format!("erasure `{strategy}` of field `{fname}` needs `{param}`"),
                    );
                }
            }
            match strategy {
                "fixed" => Erasure::Fixed {
                    value: f
                        .value
                        .as_ref()
                        .map(|v| fixed_value(c, v))
                        .unwrap_or(serde_json::Value::Null),
                },
                "keyed_hash" => Erasure::KeyedHash {
                    key: f
                        .key
                        .as_ref()
                        .map(|k| k.get_ref().clone())
                        .unwrap_or_default(),
                },
                "random" => Erasure::Random,
                "encrypt_then_shred" => Erasure::EncryptThenShred,
                "keep" => Erasure::Keep {
                    reason: f
                        .reason
                        .as_ref()
                        .map(|r| r.get_ref().clone())
                        .unwrap_or_default(),
                },
                _ => Erasure::Null,
            }
        }
    };
    for p in [&f.key, &f.reason].into_iter().flatten() {
        if p.get_ref().trim().is_empty() {
            c.at(p.span(), format!("field `{fname}`: an empty parameter"));
        }
    }
    Field {
        name: fname.clone(),
        categories: f
            .categories
            .get_ref()
            .iter()
            .map(|c| c.get_ref().clone())
            .collect(),
        erasure,
        export: f.export.unwrap_or(true),
        data_type: f.data_type.clone(),
        description: f.description.clone(),
        line: c.line(&spanned.span()),
    }
}

fn fixed_value(c: &mut Check<'_>, v: &Spanned<toml::Value>) -> serde_json::Value {
    match v.get_ref() {
        toml::Value::String(s) => serde_json::Value::String(s.clone()),
        toml::Value::Integer(i) => serde_json::Value::from(*i),
        toml::Value::Float(f) => serde_json::Value::from(*f),
        toml::Value::Boolean(b) => serde_json::Value::Bool(*b),
        _ => {
            c.at(
                v.span(),
                "a fixed erasure value is a string, a number or a boolean".into(),
            );
            serde_json::Value::Null
        }
    }
}
