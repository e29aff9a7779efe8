//! HIPAA Safe Harbor (45 CFR 164.514(b)(2)): which of the eighteen identifier types a table
//! still holds, found by running Evident's detector over every cell. Each cell is scanned
//! with its column name in front (`dob: 1980-03-02`), so rules that need a label nearby
//! (dates of birth, medical record numbers) see the one the header gives.
//!
//! The detector recognizes values by their format. Identifiers it has no rule for (names,
//! street addresses and ZIP codes, most dates, vehicle and device serials, URLs, biometrics,
//! photographs) are reported as not checkable, never as absent, with the columns whose name
//! suggests them; categories it covers only in part say so.

use serde::Serialize;

use evident_detect::{Detector, Entity};

use super::table::Table;
use crate::error::Result;

/// How far the detector can see one Safe Harbor category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// the detector has rules for the category's usual formats
    Checked,
    /// the detector sees part of the category (the note says which)
    Partial,
    /// the detector has no rule for it: nothing can be said from the values
    NotCheckable,
}

/// One of the eighteen identifier types.
#[derive(Debug, Clone, Copy)]
pub struct Category {
    /// 1 to 18, as numbered in 164.514(b)(2)(i)(A)–(R)
    pub number: u8,
    /// the category
    pub name: &'static str,
    /// how far the detector sees it
    pub coverage: Coverage,
    /// the detector entities that belong to it
    pub entities: &'static [Entity],
    /// column-name words that suggest it (matched as lowercase substrings)
    pub column_words: &'static [&'static str],
    /// what the check does and does not see
    pub note: &'static str,
}

use Coverage::{Checked, NotCheckable, Partial};

const fn category(
    number: u8,
    name: &'static str,
    coverage: Coverage,
    entities: &'static [Entity],
    column_words: &'static [&'static str],
    note: &'static str,
) -> Category {
    Category {
        number,
        name,
        coverage,
        entities,
        column_words,
        note,
    }
}

/// The eighteen categories, mapped to the detector's entities.
pub const CATEGORIES: [Category; 18] = [
    category(
        1,
        "names",
        NotCheckable,
        &[],
        &["name"],
        "the detector has no rule for personal names",
    ),
    category(
        2,
        "geographic subdivisions smaller than a state (street address, city, county, ZIP code)",
        NotCheckable,
        &[],
        &["address", "street", "city", "county", "zip", "postal", "postcode"],
        "the detector has no rule for addresses or ZIP codes; a column declared a quasi-identifier can be generalized with --target-k",
    ),
    category(
        3,
        "dates (except year) related to an individual; ages over 89",
        Partial,
        &[Entity::Dob],
        &["date", "dob", "birth", "admit", "admission", "discharge", "death", "age"],
        "dates of birth next to a label only; admission, discharge and death dates and ages over 89 are not checked",
    ),
    category(
        4,
        "telephone numbers",
        Partial,
        &[Entity::Phone],
        &["phone", "tel", "mobile"],
        "North American and E.164 (+country) formats",
    ),
    category(
        5,
        "fax numbers",
        Partial,
        &[],
        &["fax"],
        "a fax number looks like a telephone number: found ones are counted under telephone numbers",
    ),
    category(
        6,
        "email addresses",
        Checked,
        &[Entity::Email],
        &["email", "e-mail"],
        "",
    ),
    category(
        7,
        "social security numbers",
        Checked,
        &[Entity::Ssn],
        &["ssn", "social"],
        "",
    ),
    category(
        8,
        "medical record numbers",
        Partial,
        &[Entity::Mrn],
        &["mrn", "medical record", "chart"],
        "next to a label such as MRN (the column name counts)",
    ),
    category(
        9,
        "health plan beneficiary numbers",
        Partial,
        &[Entity::HealthPlanId, Entity::UsMbi, Entity::UkNhs, Entity::DeHealthInsurance, Entity::AuMedicare],
        &["member", "beneficiary", "subscriber", "plan", "insurance", "medicare", "medicaid"],
        "Medicare MBIs, labelled member ids and the national health numbers the detector knows",
    ),
    category(
        10,
        "account numbers",
        Partial,
        &[Entity::Card, Entity::Cvv, Entity::Iban, Entity::UsBankAccount, Entity::AbaRouting, Entity::Crypto, Entity::ClaimNumber, Entity::RxNumber, Entity::PriorAuth],
        &["account", "acct", "card", "iban", "claim"],
        "payment cards, IBANs, labelled bank accounts, wallets, claim and prescription numbers",
    ),
    category(
        11,
        "certificate and license numbers",
        Partial,
        &[Entity::UsDriverLicense, Entity::UkDrivingLicence, Entity::MedicalLicense, Entity::UsPassport, Entity::UkPassport, Entity::Npi, Entity::Dea, Entity::DePassport, Entity::DeIdCard, Entity::DeDrivingLicence, Entity::EsPassport, Entity::ItPassport, Entity::ItIdentityCard, Entity::ItDrivingLicence, Entity::InPassport, Entity::InVoterId, Entity::KrPassport, Entity::KrDrivingLicence],
        &["license", "licence", "certificate", "passport"],
        "driver's licences, passports and identity cards, medical licences, NPI and DEA numbers",
    ),
    category(
        12,
        "vehicle identifiers and serial numbers, including license plates",
        NotCheckable,
        &[],
        &["vin", "vehicle", "plate"],
        "the detector has no rule for VINs or plates",
    ),
    category(
        13,
        "device identifiers and serial numbers",
        NotCheckable,
        &[],
        &["device", "serial", "imei", "udi"],
        "the detector has no rule for device serials",
    ),
    category(
        14,
        "web URLs",
        NotCheckable,
        &[],
        &["url", "website", "web"],
        "the detector has no rule for URLs",
    ),
    category(
        15,
        "IP addresses",
        Checked,
        &[Entity::Ip],
        &["ip"],
        "",
    ),
    category(
        16,
        "biometric identifiers (finger and voice prints)",
        NotCheckable,
        &[],
        &["biometric", "fingerprint", "voice", "retina"],
        "biometric templates are not text the detector can recognize",
    ),
    category(
        17,
        "full-face photographs and comparable images",
        NotCheckable,
        &[],
        &["photo", "image", "picture", "face"],
        "images are not text the detector can recognize",
    ),
    category(
        18,
        "any other unique identifying number, characteristic or code",
        Partial,
        &[Entity::Itin, Entity::ProviderTaxId, Entity::UkNino, Entity::CaSin, Entity::EsNif, Entity::EsNie, Entity::ItFiscalCode, Entity::DeTaxId, Entity::DeSocialSecurity, Entity::FrNir, Entity::PlPesel, Entity::SePersonnummer, Entity::FiPersonalId, Entity::InAadhaar, Entity::InPan, Entity::AuTfn, Entity::AuAbn, Entity::SgNric, Entity::ZaId, Entity::KrRrn, Entity::ItVatCode, Entity::NgNin, Entity::PhTin, Entity::ThTnin, Entity::TrTckn],
        &["id", "identifier", "code"],
        "the national and tax identifiers of nineteen jurisdictions; other codes cannot be told from ordinary values",
    ),
];

/// What the check found for one category.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryResult {
    /// 1 to 18
    pub number: u8,
    /// the category
    pub name: &'static str,
    /// `present`, `absent` (checked, none found), `not_found` (partly checked, none found:
    /// not proof of absence) or `not_checkable`
    pub status: &'static str,
    /// cells where the detector found one
    pub cells: u64,
    /// columns they were found in
    pub columns: Vec<String>,
    /// columns whose name suggests the category (for categories the values cannot show)
    pub suggested_by_column_name: Vec<String>,
    /// what the check does and does not see
    pub note: &'static str,
    /// the first line where one was found
    pub first_line: Option<u64>,
}

/// The Safe Harbor check of one table.
#[derive(Debug, Clone, Serialize)]
pub struct SafeHarborReport {
    /// rows scanned
    pub rows: u64,
    /// cells scanned
    pub cells: u64,
    /// the eighteen categories, in order
    pub categories: Vec<CategoryResult>,
}

impl SafeHarborReport {
    /// Categories found in the table.
    pub fn present(&self) -> impl Iterator<Item = &CategoryResult> {
        self.categories.iter().filter(|c| c.status == "present")
    }
}

/// Scans every cell of `table` with `detector`.
pub fn check(table: &Table, detector: &Detector) -> Result<SafeHarborReport> {
    let mut results: Vec<CategoryResult> = CATEGORIES
        .iter()
        .map(|c| CategoryResult {
            number: c.number,
            name: c.name,
            status: "",
            cells: 0,
            columns: Vec::new(),
            suggested_by_column_name: table
                .columns()
                .iter()
                .map(|col| col.name())
                .filter(|name| suggests(name, c.column_words))
                .map(str::to_owned)
                .collect(),
            note: c.note,
            first_line: None,
        })
        .collect();
    let mut cell = Vec::new();
    for column in table.columns() {
        // Each distinct value is scanned once; its rows are counted after.
        let mut found_in_code: Vec<Option<usize>> = vec![None; column.dictionary().len()];
        for (code, value) in column.dictionary().iter().enumerate() {
            if value.is_empty() {
                continue;
            }
            cell.clear();
            cell.extend_from_slice(column.name().as_bytes());
            cell.extend_from_slice(b": ");
            let value_start = cell.len();
            cell.extend_from_slice(value.as_bytes());
            let entity = detector
                .find(&cell)
                .into_iter()
                .filter(|f| f.end > value_start)
                .map(|f| detector.entity(f.rule))
                .find_map(|e| CATEGORIES.iter().position(|c| c.entities.contains(&e)));
            found_in_code[code] = entity;
        }
        for (row, &code) in column.codes().iter().enumerate() {
            if let Some(category) = found_in_code[code as usize] {
                let result = &mut results[category];
                result.cells += 1;
                result.first_line.get_or_insert(table.line(row));
                if !result.columns.iter().any(|c| c == column.name()) {
                    result.columns.push(column.name().to_owned());
                }
            }
        }
    }
    for (result, category) in results.iter_mut().zip(&CATEGORIES) {
        result.status = match (result.cells > 0, category.coverage) {
            (true, _) => "present",
            (false, Checked) => "absent",
            (false, Partial) => "not_found",
            (false, NotCheckable) => "not_checkable",
        };
    }
    Ok(SafeHarborReport {
        rows: table.rows() as u64,
        cells: (table.rows() * table.columns().len()) as u64,
        categories: results,
    })
}

/// Whether a column name suggests a category: a word of three letters or more anywhere in
/// it (`patient_name`, `ZipCode`), a shorter one (`id`, `ip`) only as a whole part of it
/// (`member_id`, `memberId`, not `provider`).
fn suggests(name: &str, words: &[&str]) -> bool {
    let lower = name.to_ascii_lowercase();
    let mut parts: Vec<String> = Vec::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            previous_lower = false;
            parts.push(String::new());
            continue;
        }
        if (c.is_ascii_uppercase() && previous_lower) || parts.is_empty() {
            parts.push(String::new());
        }
        previous_lower = c.is_ascii_lowercase();
        if let Some(part) = parts.last_mut() {
            part.push(c.to_ascii_lowercase());
        }
    }
    words.iter().any(|w| {
        if w.len() <= 2 {
            parts.iter().any(|p| p == w)
        } else {
            lower.contains(w)
        }
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn report(csv: &str) -> SafeHarborReport {
        let t = Table::read_csv(csv.as_bytes(), Path::new("t.csv")).unwrap();
        check(&t, &Detector::builtin().unwrap()).unwrap()
    }

    fn status(r: &SafeHarborReport, number: u8) -> &'static str {
        r.categories[number as usize - 1].status
    }

    #[test]
    fn the_eighteen_categories_are_numbered_in_order_and_every_entity_but_secrets_maps() {
        for (i, c) in CATEGORIES.iter().enumerate() {
            assert_eq!(c.number as usize, i + 1);
            assert_eq!(
                c.coverage == NotCheckable,
                c.entities.is_empty() && c.number != 5,
                "{}",
                c.name
            );
        }
        for entity in Entity::ALL {
            let mapped = CATEGORIES
                .iter()
                .filter(|c| c.entities.contains(&entity))
                .count();
            let expected = usize::from(entity != Entity::Secret);
            assert_eq!(mapped, expected, "{entity}");
        }
    }

    #[test]
    fn found_identifiers_are_present_and_unseeable_ones_not_checkable() {
        let r = report(
            "patient_name,email,ssn,ip,zip,diagnosis\n\
             Jane Roe,jane@example.org,123-45-6789,10.1.2.3,13053,flu\n\
             John Poe,,123-45-6780,,13068,cold\n",
        );
        assert_eq!(status(&r, 6), "present");
        assert_eq!(status(&r, 7), "present");
        assert_eq!(r.categories[6].cells, 2);
        assert_eq!(r.categories[6].columns, ["ssn"]);
        assert_eq!(r.categories[6].first_line, Some(2));
        assert_eq!(status(&r, 15), "present");
        assert_eq!(status(&r, 1), "not_checkable");
        assert_eq!(r.categories[0].suggested_by_column_name, ["patient_name"]);
        assert_eq!(r.categories[1].suggested_by_column_name, ["zip"]);
        assert_eq!(status(&r, 17), "not_checkable");
        assert_eq!(r.present().count(), 3);
    }

    #[test]
    fn a_clean_table_has_nothing_present_but_is_not_called_clean_where_it_cannot_be_seen() {
        let r = report("age,sex,diagnosis\n34,F,flu\n51,M,asthma\n");
        assert_eq!(r.present().count(), 0);
        assert_eq!(status(&r, 6), "absent");
        assert_eq!(status(&r, 3), "not_found");
        assert_eq!(status(&r, 1), "not_checkable");
        assert_eq!(r.categories[2].suggested_by_column_name, ["age"]);
        assert_eq!(r.cells, 6);
    }

    #[test]
    fn the_column_name_is_the_label_a_date_of_birth_needs() {
        let r = report("dob,diagnosis\n1980-03-02,flu\n");
        assert_eq!(status(&r, 3), "present", "{:?}", r.categories[2]);
    }

    #[test]
    fn short_words_match_whole_name_parts_only() {
        assert!(suggests("member_id", &["id"]));
        assert!(suggests("memberId", &["id"]));
        assert!(suggests("ip", &["ip"]));
        assert!(!suggests("provider", &["id"]));
        assert!(!suggests("zipcode", &["ip"]));
        assert!(suggests("ZipCode", &["zip"]));
    }
}
