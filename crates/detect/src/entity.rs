//! The kinds of sensitive data a rule finds.

use serde::{Deserialize, Serialize};

/// Declares [`Entity`] once: each variant with its stable name and its description, so the
/// enum, [`Entity::ALL`], [`Entity::as_str`] and the serde names cannot drift apart.
macro_rules! entities {
    ($($(#[doc = $doc:literal])* $variant:ident = $name:literal,)+) => {
        /// What a finding is. The names are a stable interface (JSON and SARIF output, rule
        /// files, the engine's list of what it masks); `docs/detect.md` lists them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Entity {
            $($(#[doc = $doc])* #[serde(rename = $name)] $variant,)+
        }

        impl Entity {
            /// Every entity, in a stable order.
            pub const ALL: [Entity; [$($name),+].len()] = [$(Entity::$variant),+];

            /// The stable lowercase name (`card`, `ssn`, `uk_nhs`, …).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Entity::$variant => $name,)+
                }
            }
        }
    };
}

entities! {
    /// a payment card number (PAN)
    Card = "card",
    /// a card verification code
    Cvv = "cvv",
    /// a US Social Security number
    Ssn = "ssn",
    /// a US Individual Taxpayer Identification Number
    Itin = "itin",
    /// an email address
    Email = "email",
    /// a phone number
    Phone = "phone",
    /// an International Bank Account Number
    Iban = "iban",
    /// a US National Provider Identifier
    Npi = "npi",
    /// a US DEA registration number
    Dea = "dea",
    /// a medical record number
    Mrn = "mrn",
    /// a date of birth
    Dob = "dob",
    /// an IPv4 or IPv6 address
    Ip = "ip",
    /// a credential: key, token, password, private key
    Secret = "secret",
    /// a US passport number
    UsPassport = "us_passport",
    /// a US driver's licence number
    UsDriverLicense = "us_driver_license",
    /// a US bank account number
    UsBankAccount = "us_bank_account",
    /// an ABA routing transit number
    AbaRouting = "aba_routing",
    /// a US Medicare Beneficiary Identifier
    UsMbi = "us_mbi",
    /// a health-plan member or subscriber id
    HealthPlanId = "health_plan_id",
    /// a health-care claim number
    ClaimNumber = "claim_number",
    /// a prescription (Rx) number
    RxNumber = "rx_number",
    /// a prior-authorization number
    PriorAuth = "prior_auth",
    /// a US provider tax id (EIN)
    ProviderTaxId = "provider_tax_id",
    /// a state medical licence number
    MedicalLicense = "medical_license",
    /// a UK NHS number
    UkNhs = "uk_nhs",
    /// a UK National Insurance number
    UkNino = "uk_nino",
    /// a UK passport number
    UkPassport = "uk_passport",
    /// a UK driving licence number
    UkDrivingLicence = "uk_driving_licence",
    /// a Canadian Social Insurance Number
    CaSin = "ca_sin",
    /// a Spanish NIF (DNI number with its letter)
    EsNif = "es_nif",
    /// a Spanish NIE (foreigner's identity number)
    EsNie = "es_nie",
    /// an Italian fiscal code (codice fiscale)
    ItFiscalCode = "it_fiscal_code",
    /// a German tax identification number (Steuer-IdNr)
    DeTaxId = "de_tax_id",
    /// a German social-security (pension insurance) number
    DeSocialSecurity = "de_social_security",
    /// a German health-insurance number (KVNR)
    DeHealthInsurance = "de_health_insurance",
    /// a French social-security number (NIR)
    FrNir = "fr_nir",
    /// a Polish PESEL
    PlPesel = "pl_pesel",
    /// a Swedish personnummer or samordningsnummer
    SePersonnummer = "se_personnummer",
    /// a Finnish personal identity code (henkilötunnus)
    FiPersonalId = "fi_personal_id",
    /// an Indian Aadhaar number
    InAadhaar = "in_aadhaar",
    /// an Indian Permanent Account Number
    InPan = "in_pan",
    /// an Australian Tax File Number
    AuTfn = "au_tfn",
    /// an Australian Medicare card number
    AuMedicare = "au_medicare",
    /// an Australian Business Number
    AuAbn = "au_abn",
    /// a Singapore NRIC or FIN
    SgNric = "sg_nric",
    /// a South African identity number
    ZaId = "za_id",
    /// a Korean Resident Registration Number
    KrRrn = "kr_rrn",
    /// a cryptocurrency wallet address (Bitcoin, Ethereum)
    Crypto = "crypto",
    /// a German passport number (Reisepassnummer)
    DePassport = "de_passport",
    /// a German identity card number (Personalausweisnummer)
    DeIdCard = "de_id_card",
    /// a German driving licence number (Führerscheinnummer)
    DeDrivingLicence = "de_driving_licence",
    /// a Spanish passport number
    EsPassport = "es_passport",
    /// an Italian passport number
    ItPassport = "it_passport",
    /// an Italian identity card number (paper card or CIE)
    ItIdentityCard = "it_identity_card",
    /// an Italian driving licence number (patente di guida)
    ItDrivingLicence = "it_driving_licence",
    /// an Italian VAT number (partita IVA)
    ItVatCode = "it_vat_code",
    /// an Indian passport number
    InPassport = "in_passport",
    /// an Indian voter id (Elector's Photo Identity Card, EPIC)
    InVoterId = "in_voter_id",
    /// a Korean passport number
    KrPassport = "kr_passport",
    /// a Korean driving licence number
    KrDrivingLicence = "kr_driving_licence",
    /// a Nigerian National Identification Number
    NgNin = "ng_nin",
    /// a Philippine Taxpayer Identification Number
    PhTin = "ph_tin",
    /// a Thai national identification number
    ThTnin = "th_tnin",
    /// a Turkish identity number (T.C. Kimlik No)
    TrTckn = "tr_tckn",
}

impl Entity {
    /// Parses a stable name.
    pub fn parse(name: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// Whether the value identifies a person or an account by a number or code of a fixed
    /// format (everything but emails, phones, IPs, dates of birth and secrets): such values
    /// are masked and fingerprinted by their letters and digits alone.
    pub fn is_identifier(self) -> bool {
        !matches!(
            self,
            Entity::Email | Entity::Phone | Entity::Ip | Entity::Dob | Entity::Secret
        )
    }
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde_and_parse() {
        for entity in Entity::ALL {
            let json = serde_json::to_string(&entity).unwrap();
            assert_eq!(json, format!("\"{}\"", entity.as_str()));
            assert_eq!(serde_json::from_str::<Entity>(&json).unwrap(), entity);
            assert_eq!(Entity::parse(entity.as_str()), Some(entity));
        }
        assert_eq!(Entity::parse("uk_nhs"), Some(Entity::UkNhs));
        assert_eq!(Entity::parse("nhs"), None);
    }
}
