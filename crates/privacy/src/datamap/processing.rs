//! What the map declares for the record of processing (GDPR Art. 30) beyond the tables
//! themselves: the controller, the categories of data subjects, the recipients and the
//! transfers to other countries — each checked as it is read, every problem at its line.

use toml::Spanned;

use super::check::{clip, Check};
use super::model::{raw, Controller, Safeguard, Transfer};
use super::taxonomy;

/// ISO 3166-1 alpha-2 codes, one a line (comments start with `#`).
const COUNTRIES: &str = include_str!("iso3166_alpha2.txt");

/// The longest free-text value accepted (a name, a contact, a recipient).
const MAX_TEXT: usize = 512;

/// Whether `code` is an assigned ISO 3166-1 alpha-2 country code.
pub fn is_country(code: &str) -> bool {
    code.len() == 2
        && COUNTRIES
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .any(|c| c == code)
}

/// A required free-text value: not blank, not too long.
fn text(c: &mut Check<'_>, what: &str, value: &Spanned<String>) -> String {
    let v = value.get_ref().trim();
    if v.is_empty() {
        c.at(value.span(), format!("`{what}` is empty"));
    } else if v.len() > MAX_TEXT {
        c.at(
            value.span(),
            format!("`{what}` is longer than {MAX_TEXT} bytes"),
        );
    }
    v.to_owned()
}

/// `[controller]`.
pub(crate) fn check_controller(
    c: &mut Check<'_>,
    spanned: &Spanned<raw::Controller>,
) -> Controller {
    let raw = spanned.get_ref();
    Controller {
        name: text(c, "controller.name", &raw.name),
        contact: text(c, "controller.contact", &raw.contact),
        dpo: raw.dpo.as_ref().map(|d| text(c, "controller.dpo", d)),
        representative: raw
            .representative
            .as_ref()
            .map(|r| text(c, "controller.representative", r)),
    }
}

/// A `subjects` list: fideslang data subjects, each once.
pub(crate) fn check_subjects(
    c: &mut Check<'_>,
    list: &Spanned<Vec<Spanned<String>>>,
) -> Vec<String> {
    if list.get_ref().is_empty() {
        c.at(
            list.span(),
            "`subjects` is empty: name at least one category of data subject, or leave it out"
                .into(),
        );
    }
    let mut out: Vec<String> = Vec::new();
    for s in list.get_ref() {
        let key = s.get_ref();
        if !taxonomy::is_subject(key) {
            let known: Vec<&str> = taxonomy::subjects().collect();
            c.at(
                s.span(),
                format!(
                    "`{}` is not a fideslang data subject; use one of {}",
                    clip(key),
                    known.join(", ")
                ),
            );
        } else if out.contains(key) {
            c.at(s.span(), format!("data subject `{key}` is listed twice"));
        } else {
            out.push(key.clone());
        }
    }
    out
}

/// A system's `recipients`.
pub(crate) fn check_recipients(c: &mut Check<'_>, list: &[Spanned<String>]) -> Vec<String> {
    list.iter().map(|r| text(c, "recipients", r)).collect()
}

/// A system's `transfers`.
pub(crate) fn check_transfers(c: &mut Check<'_>, list: &[Spanned<raw::Transfer>]) -> Vec<Transfer> {
    list.iter()
        .map(|spanned| {
            let t = spanned.get_ref();
            let country = t.country.get_ref().trim();
            if !is_country(country) {
                c.at(
                    t.country.span(),
                    format!(
                        "`{}` is not an ISO 3166-1 alpha-2 country code (two capitals: `US`, `GB`, `IN`)",
                        clip(country)
                    ),
                );
            }
            let safeguard = Safeguard::parse(t.safeguard.get_ref()).unwrap_or_else(|| {
                let names: Vec<String> = Safeguard::ALL
                    .iter()
                    .map(|(_, n, a)| format!("{n} ({a})"))
                    .collect();
                c.at(
                    t.safeguard.span(),
                    format!(
                        "`{}` is not a transfer safeguard; use one of {}",
                        clip(t.safeguard.get_ref()),
                        names.join(", ")
                    ),
                );
                Safeguard::Derogation
            });
            Transfer {
                country: country.to_owned(),
                recipient: t.recipient.as_ref().map(|r| text(c, "transfers.recipient", r)),
                safeguard,
                details: t.details.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_are_the_assigned_alpha_2_codes() {
        for code in ["US", "GB", "DE", "IN", "SG", "ZA"] {
            assert!(is_country(code), "{code}");
        }
        for code in ["UK", "EU", "XX", "us", "USA", "", "ZZ"] {
            assert!(!is_country(code), "{code}");
        }
    }

    #[test]
    fn every_safeguard_round_trips() {
        for (s, name, article) in Safeguard::ALL {
            assert_eq!(Safeguard::parse(name), Some(s));
            assert_eq!(s.name(), name);
            assert_eq!(s.article(), article);
        }
        assert_eq!(Safeguard::parse("sccs"), None);
    }
}
