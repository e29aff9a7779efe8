//! The kinds of sensitive data a rule finds.

use serde::{Deserialize, Serialize};

/// What a finding is. The names are a stable interface (JSON output, rule files).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Entity {
    /// a payment card number (PAN)
    Card,
    /// a card verification code
    Cvv,
    /// a US Social Security number
    Ssn,
    /// a US Individual Taxpayer Identification Number
    Itin,
    /// an email address
    Email,
    /// a phone number
    Phone,
    /// an International Bank Account Number
    Iban,
    /// a US National Provider Identifier
    Npi,
    /// a US DEA registration number
    Dea,
    /// a medical record number
    Mrn,
    /// a date of birth
    Dob,
    /// an IPv4 or IPv6 address
    Ip,
    /// a credential: key, token, password, private key
    Secret,
}

impl Entity {
    /// Every entity, in a stable order.
    pub const ALL: [Entity; 13] = [
        Entity::Card,
        Entity::Cvv,
        Entity::Ssn,
        Entity::Itin,
        Entity::Email,
        Entity::Phone,
        Entity::Iban,
        Entity::Npi,
        Entity::Dea,
        Entity::Mrn,
        Entity::Dob,
        Entity::Ip,
        Entity::Secret,
    ];

    /// The stable lowercase name (`card`, `ssn`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Card => "card",
            Entity::Cvv => "cvv",
            Entity::Ssn => "ssn",
            Entity::Itin => "itin",
            Entity::Email => "email",
            Entity::Phone => "phone",
            Entity::Iban => "iban",
            Entity::Npi => "npi",
            Entity::Dea => "dea",
            Entity::Mrn => "mrn",
            Entity::Dob => "dob",
            Entity::Ip => "ip",
            Entity::Secret => "secret",
        }
    }

    /// Parses a stable name.
    pub fn parse(name: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
