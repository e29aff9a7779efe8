//! What the scan reads into a column: the fideslang category of each detector entity,
//! and column-name rules (`dob`, `first_name`, `diagnosis`, …).

use evident_detect::Entity;

/// What the detector's entities mean in fideslang.
pub fn entity_category(entity: Entity) -> Option<&'static str> {
    use Entity::*;
    Some(match entity {
        Card | Cvv => "user.financial.credit_card",
        Email => "user.contact.email",
        Phone => "user.contact.phone_number",
        Iban | UsBankAccount | AbaRouting => "user.financial.bank_account",
        Ssn | Itin | UkNino | CaSin | EsNif | EsNie | ItFiscalCode | DeTaxId | DeSocialSecurity
        | FrNir | PlPesel | SePersonnummer | FiPersonalId | InAadhaar | InPan | AuTfn | SgNric
        | ZaId | KrRrn | NgNin | PhTin | ThTnin | TrTckn => {
            "user.government_id.national_identification_number"
        }
        Mrn | RxNumber | ClaimNumber | PriorAuth => "user.health_and_medical.record_id",
        UsMbi | HealthPlanId | UkNhs | DeHealthInsurance | AuMedicare => {
            "user.health_and_medical.insurance_beneficiary_id"
        }
        Dob => "user.demographic.date_of_birth",
        Ip => "user.device.ip_address",
        Secret => "user.authorization.credentials",
        UsPassport | UkPassport | DePassport | EsPassport | ItPassport | InPassport
        | KrPassport => "user.government_id.passport_number",
        UsDriverLicense | UkDrivingLicence | DeDrivingLicence | ItDrivingLicence
        | KrDrivingLicence => "user.government_id.drivers_license_number",
        DeIdCard | ItIdentityCard | InVoterId => {
            "user.government_id.national_identification_number"
        }
        // Identifiers of providers and businesses, not of the data subject.
        Npi | Dea | MedicalLicense | ProviderTaxId | AuAbn | ItVatCode | Crypto => return None,
    })
}

/// Column-name rules: every `_`-separated word sequence of the name is looked up; the
/// longest match wins. (fideslang category, confidence, the words.)
const NAME_RULES: &[(&str, f64, &[&str])] = &[
    (
        "user.contact.email",
        0.8,
        &["email", "e_mail", "mail", "email_address"],
    ),
    (
        "user.contact.phone_number",
        0.8,
        &[
            "phone",
            "telephone",
            "mobile",
            "cell",
            "phone_number",
            "tel",
        ],
    ),
    ("user.contact.fax_number", 0.8, &["fax"]),
    (
        "user.government_id.national_identification_number",
        0.8,
        &[
            "ssn",
            "social_security",
            "social_security_number",
            "national_id",
            "nin",
            "tax_id",
            "sin",
        ],
    ),
    (
        "user.government_id.passport_number",
        0.8,
        &["passport", "passport_number"],
    ),
    (
        "user.government_id.drivers_license_number",
        0.8,
        &[
            "driver_license",
            "drivers_license",
            "driving_licence",
            "license_number",
        ],
    ),
    (
        "user.demographic.date_of_birth",
        0.8,
        &[
            "dob",
            "birth_date",
            "date_of_birth",
            "birthdate",
            "birthday",
        ],
    ),
    ("user.demographic.gender", 0.7, &["gender", "sex"]),
    (
        "user.demographic.race_ethnicity",
        0.7,
        &["race", "ethnicity"],
    ),
    ("user.demographic.religious_belief", 0.7, &["religion"]),
    ("user.demographic.marital_status", 0.7, &["marital_status"]),
    ("user.demographic.language", 0.5, &["language", "locale"]),
    (
        "user.name.first",
        0.7,
        &["first_name", "given_name", "firstname", "forename"],
    ),
    (
        "user.name.last",
        0.7,
        &["last_name", "surname", "family_name", "lastname"],
    ),
    (
        "user.name",
        0.5,
        &["full_name", "name", "patient_name", "display_name"],
    ),
    (
        "user.contact.address.street",
        0.7,
        &[
            "address",
            "street",
            "address_line",
            "address1",
            "address2",
            "street_address",
        ],
    ),
    ("user.contact.address.city", 0.6, &["city", "town"]),
    (
        "user.contact.address.postal_code",
        0.7,
        &["zip", "zipcode", "zip_code", "postal_code", "postcode"],
    ),
    (
        "user.contact.address.state",
        0.5,
        &["state", "province", "region"],
    ),
    ("user.contact.address.country", 0.5, &["country"]),
    (
        "user.health_and_medical",
        0.7,
        &[
            "diagnosis",
            "diagnoses",
            "icd",
            "icd10",
            "icd10_code",
            "condition",
            "allergy",
            "allergies",
            "medication",
            "drug",
            "dosage",
            "dose",
            "symptom",
            "symptoms",
            "lab_result",
            "procedure",
            "treatment",
            "clinical_notes",
            "notes_clinical",
            "blood_type",
        ],
    ),
    (
        "user.health_and_medical.record_id",
        0.7,
        &[
            "mrn",
            "medical_record",
            "medical_record_number",
            "chart_number",
        ],
    ),
    (
        "user.health_and_medical.insurance_beneficiary_id",
        0.7,
        &[
            "insurance_id",
            "member_id",
            "policy_number",
            "insurance_number",
            "beneficiary_id",
        ],
    ),
    (
        "user.health_and_medical.genetic",
        0.7,
        &["genotype", "genome", "dna"],
    ),
    (
        "user.financial.bank_account",
        0.7,
        &["iban", "account_number", "bank_account", "routing_number"],
    ),
    (
        "user.financial.credit_card",
        0.7,
        &["card_number", "pan", "cc_number", "credit_card"],
    ),
    (
        "user.financial",
        0.4,
        &[
            "amount",
            "balance",
            "amount_due",
            "total",
            "salary",
            "income",
        ],
    ),
    (
        "user.device.ip_address",
        0.7,
        &["ip", "ip_address", "ipaddr"],
    ),
    (
        "user.authorization.password",
        0.8,
        &["password", "password_hash", "passwd"],
    ),
    (
        "user.account.username",
        0.6,
        &["username", "login", "user_name"],
    ),
    (
        "user.location.precise",
        0.6,
        &["latitude", "longitude", "lat", "lng", "geo", "coordinates"],
    ),
];

/// The best name rule for a column: its category, confidence and the words that matched.
pub fn name_rule(column: &str) -> Option<(&'static str, f64, String)> {
    let lower = column.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(['_', '-', ' '])
        .filter(|w| !w.is_empty())
        .collect();
    let mut best: Option<(&'static str, f64, String)> = None;
    for start in 0..words.len() {
        for end in start + 1..=words.len() {
            let phrase = words[start..end].join("_");
            for (category, confidence, names) in NAME_RULES {
                if names.contains(&phrase.as_str()) {
                    // A whole-name match counts more than a part of the name.
                    let whole = start == 0 && end == words.len();
                    let confidence = if whole { *confidence } else { confidence - 0.1 };
                    let longer = best.as_ref().is_none_or(|(_, c, p)| {
                        phrase.len() > p.len() || (phrase.len() == p.len() && confidence > *c)
                    });
                    if longer {
                        best = Some((category, confidence, phrase.clone()));
                    }
                }
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_suggest_categories() {
        let cat = |n: &str| name_rule(n).map(|(c, _, _)| c);
        assert_eq!(cat("email"), Some("user.contact.email"));
        assert_eq!(cat("contact_email"), Some("user.contact.email"));
        assert_eq!(cat("DOB"), Some("user.demographic.date_of_birth"));
        assert_eq!(cat("date_of_birth"), Some("user.demographic.date_of_birth"));
        assert_eq!(cat("primary_diagnosis"), Some("user.health_and_medical"));
        assert_eq!(cat("first_name"), Some("user.name.first"));
        assert_eq!(cat("created_at"), None);
        assert_eq!(cat("id"), None);
    }

    #[test]
    fn every_proposed_category_is_a_fideslang_one() {
        for (category, _, _) in NAME_RULES {
            assert!(super::super::taxonomy::is_category(category), "{category}");
        }
        for e in Entity::ALL {
            if let Some(c) = entity_category(e) {
                assert!(super::super::taxonomy::is_category(c), "{c}");
            }
        }
    }
}
