//! The data map's model: the TOML as written ([`raw`], every value with its byte span, so an
//! error can name its line) and the map once validated ([`DataMap`] and below), which the
//! later parts (data-subject requests, retention, the record of processing) read.

use std::path::PathBuf;

use serde::Serialize;

/// The TOML as written. Unknown keys are refused; spans are byte ranges of the source.
pub mod raw {
    use serde::Deserialize;
    use toml::Spanned;

    /// The whole file.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Map {
        /// the format's version (1)
        pub format: Option<Spanned<i64>>,
        /// who is responsible for the processing (the record of processing's heading)
        pub controller: Option<Spanned<Controller>>,
        /// the systems
        #[serde(default)]
        pub systems: Vec<Spanned<System>>,
        /// how long the engine's own ledger keeps personal values, per event action
        #[serde(default)]
        pub ledger: Vec<Spanned<LedgerRetention>>,
    }

    /// `[[ledger]]`: personal values of ledger entries of one action (or action prefix),
    /// erased once older than a period; the entries themselves are kept.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct LedgerRetention {
        /// the event action, or a prefix ending in `*` (`consent.*`)
        pub action: Spanned<String>,
        /// how long the personal values are kept, e.g. `2y`
        pub retention: Spanned<String>,
        /// free text
        pub description: Option<String>,
    }

    /// `[controller]`: GDPR Art. 30(1)(a).
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Controller {
        /// the controller's name
        pub name: Spanned<String>,
        /// how to reach the controller (an address, e-mail or URL)
        pub contact: Spanned<String>,
        /// the data protection officer's contact, if one is appointed
        pub dpo: Option<Spanned<String>>,
        /// the representative in the Union (Art. 27), if one is designated
        pub representative: Option<Spanned<String>>,
    }

    /// One entry of a system's `transfers`: personal data leaving for another country.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Transfer {
        /// ISO 3166-1 alpha-2 code of the destination
        pub country: Spanned<String>,
        /// who receives it there
        pub recipient: Option<Spanned<String>>,
        /// the legal ground: GDPR Art. 45, 46, 47 or 49
        pub safeguard: Spanned<String>,
        /// free text, e.g. which clauses
        pub details: Option<String>,
    }

    /// `[[systems]]`: one application database.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct System {
        /// its name, unique in the map
        pub name: Spanned<String>,
        /// `sqlite:PATH`, `postgres`, or a `postgres://` URL without a password
        pub connection: Spanned<String>,
        /// for `postgres`: the environment variable that holds the URL
        pub url_env: Option<Spanned<String>>,
        /// for PostgreSQL: the schema (default `public`)
        pub schema: Option<Spanned<String>>,
        /// free text
        pub description: Option<String>,
        /// default purpose of its tables
        pub purpose: Option<Spanned<String>>,
        /// default lawful basis of its tables
        pub lawful_basis: Option<Spanned<String>>,
        /// default retention of its tables
        pub retention: Option<Spanned<String>>,
        /// default categories of data subjects of its tables (fideslang data subjects)
        pub subjects: Option<Spanned<Vec<Spanned<String>>>>,
        /// who its data is disclosed to (categories of recipients, Art. 30(1)(d))
        #[serde(default)]
        pub recipients: Vec<Spanned<String>>,
        /// transfers of its data to other countries (Art. 30(1)(e))
        #[serde(default)]
        pub transfers: Vec<Spanned<Transfer>>,
        /// its tables
        #[serde(default)]
        pub tables: Vec<Spanned<Table>>,
    }

    /// `[[systems.tables]]`: one table holding personal data.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Table {
        /// its name, unique in the system
        pub name: Spanned<String>,
        /// its primary key: a column or a list of columns
        pub primary_key: Spanned<Columns>,
        /// on the identity table: the column holding the subject's id
        pub identity: Option<Spanned<String>>,
        /// on any other table: `column -> parent_table.column`
        pub join: Option<Spanned<String>>,
        /// why it is processed
        pub purpose: Option<Spanned<String>>,
        /// GDPR Art. 6(1) basis
        pub lawful_basis: Option<Spanned<String>>,
        /// how long rows are kept, e.g. `6y`, `90d`
        pub retention: Option<Spanned<String>>,
        /// the column the retention period runs from
        pub retention_from: Option<Spanned<String>>,
        /// on erasure: `fields` (apply each field's strategy) or `delete_row`
        pub erasure: Option<Spanned<String>>,
        /// the categories of data subjects its rows are about (fideslang data subjects)
        pub subjects: Option<Spanned<Vec<Spanned<String>>>>,
        /// free text
        pub description: Option<String>,
        /// its personal-data columns
        pub fields: Option<Spanned<Vec<Spanned<Field>>>>,
    }

    impl Table {
        /// Its fields (none when the key is absent).
        pub fn fields(&self) -> &[Spanned<Field>] {
            self.fields.as_ref().map_or(&[], |f| f.get_ref().as_slice())
        }
    }

    /// One column or several.
    #[derive(Debug, Deserialize)]
    #[serde(untagged)]
    pub enum Columns {
        /// one column
        One(String),
        /// several
        Many(Vec<String>),
    }

    impl Columns {
        /// The columns as a list.
        pub fn to_vec(&self) -> Vec<String> {
            match self {
                Columns::One(c) => vec![c.clone()],
                Columns::Many(c) => c.clone(),
            }
        }
    }

    /// One personal-data column.
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Field {
        /// the column
        pub name: Spanned<String>,
        /// fideslang data categories
        pub categories: Spanned<Vec<Spanned<String>>>,
        /// the erasure strategy
        pub erasure: Spanned<String>,
        /// `fixed`: the value written
        pub value: Option<Spanned<toml::Value>>,
        /// `keyed_hash`: the keyring key's name
        pub key: Option<Spanned<String>>,
        /// `keep`: why the value survives erasure
        pub reason: Option<Spanned<String>>,
        /// part of a subject's export (default true)
        pub export: Option<bool>,
        /// the column's type when mapped, to report schema drift
        #[serde(rename = "type")]
        pub data_type: Option<String>,
        /// free text
        pub description: Option<String>,
    }
}

/// A validated data map.
#[derive(Debug, Clone, Serialize)]
pub struct DataMap {
    /// the file it was read from
    pub file: PathBuf,
    /// `sha256:<hex>` of the file's bytes
    pub hash: String,
    /// the controller, when declared
    pub controller: Option<Controller>,
    /// the systems, in file order
    pub systems: Vec<System>,
    /// the ledger's retention of personal values, per action, in file order
    pub ledger: Vec<LedgerRetention>,
}

/// How long the ledger keeps the personal values of entries of one action (or action
/// prefix). The entries themselves are never deleted: only their personal values, stored
/// beside the tree, are, so every proof still holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerRetention {
    /// the event action, or a prefix ending in `*`
    pub action: String,
    /// the period
    pub retention: Retention,
    /// free text
    pub description: Option<String>,
    /// 1-based line of its `[[ledger]]`
    pub line: usize,
}

/// Who is responsible for the processing: GDPR Art. 30(1)(a).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Controller {
    /// the controller's name
    pub name: String,
    /// how to reach the controller
    pub contact: String,
    /// the data protection officer's contact
    pub dpo: Option<String>,
    /// the representative in the Union (Art. 27)
    pub representative: Option<String>,
}

/// Personal data leaving for another country, and on which ground.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transfer {
    /// ISO 3166-1 alpha-2 code of the destination
    pub country: String,
    /// who receives it there
    pub recipient: Option<String>,
    /// the legal ground
    pub safeguard: Safeguard,
    /// free text
    pub details: Option<String>,
}

/// The legal ground of a transfer out of the Union (GDPR Chapter V).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Safeguard {
    /// Art. 45: the Commission decided the country's protection is adequate
    AdequacyDecision,
    /// Art. 46(2)(c): the Commission's standard contractual clauses
    StandardContractualClauses,
    /// Art. 47: binding corporate rules
    BindingCorporateRules,
    /// Art. 46(2)(e): an approved code of conduct
    CodeOfConduct,
    /// Art. 46(2)(f): an approved certification
    Certification,
    /// Art. 49: a derogation for a specific situation (e.g. explicit consent)
    Derogation,
}

impl Safeguard {
    /// Every ground with its name in the map and its article.
    pub const ALL: [(Safeguard, &'static str, &'static str); 6] = [
        (Safeguard::AdequacyDecision, "adequacy_decision", "Art. 45"),
        (
            Safeguard::StandardContractualClauses,
            "standard_contractual_clauses",
            "Art. 46(2)(c)",
        ),
        (
            Safeguard::BindingCorporateRules,
            "binding_corporate_rules",
            "Art. 47",
        ),
        (Safeguard::CodeOfConduct, "code_of_conduct", "Art. 46(2)(e)"),
        (Safeguard::Certification, "certification", "Art. 46(2)(f)"),
        (Safeguard::Derogation, "derogation", "Art. 49"),
    ];

    /// Reads a name as written in the map.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(s, _, _)| *s)
    }

    /// Its name in the map.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(s, _, _)| *s == self)
            .map_or("", |(_, n, _)| n)
    }

    /// The article it rests on.
    pub fn article(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(s, _, _)| *s == self)
            .map_or("", |(_, _, a)| a)
    }
}

/// A validated system.
#[derive(Debug, Clone, Serialize)]
pub struct System {
    /// its name
    pub name: String,
    /// how to reach it
    pub connection: Connection,
    /// free text
    pub description: Option<String>,
    /// categories of recipients its data is disclosed to
    pub recipients: Vec<String>,
    /// transfers of its data to other countries
    pub transfers: Vec<Transfer>,
    /// its tables, in file order
    pub tables: Vec<Table>,
    /// 1-based line of its `[[systems]]`
    pub line: usize,
}

/// How a system is reached. Never holds a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Connection {
    /// a SQLite file
    Sqlite {
        /// the file, as written (relative to the working directory)
        path: PathBuf,
    },
    /// a PostgreSQL database
    Postgres {
        /// the environment variable holding the URL, or
        url_env: Option<String>,
        /// a URL without a password, written in the map
        url: Option<String>,
        /// the schema (default `public`)
        schema: String,
    },
}

/// A validated table.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// its name
    pub name: String,
    /// its primary-key columns
    pub primary_key: Vec<String>,
    /// how it reaches the subject
    pub link: Link,
    /// the tables from this one to the identity table, both included
    pub path: Vec<String>,
    /// why it is processed
    pub purpose: String,
    /// GDPR Art. 6(1) basis
    pub lawful_basis: LawfulBasis,
    /// how long rows are kept
    pub retention: Retention,
    /// the column the retention period runs from
    pub retention_from: Option<String>,
    /// what erasure does to its rows
    pub erasure: RowErasure,
    /// the categories of data subjects its rows are about (empty: not declared)
    pub subjects: Vec<String>,
    /// free text
    pub description: Option<String>,
    /// its personal-data columns
    pub fields: Vec<Field>,
    /// 1-based line of its `[[systems.tables]]`
    pub line: usize,
}

/// How a table reaches the data subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Link {
    /// the identity table: `column` holds the subject's id
    Identity {
        /// the subject-id column
        column: String,
    },
    /// `column` refers to `parent.parent_column`
    Join {
        /// this table's foreign-key column
        column: String,
        /// the table it refers to
        parent: String,
        /// the column it refers to
        parent_column: String,
    },
}

/// GDPR Art. 6(1)(a)–(f).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LawfulBasis {
    /// (a) the subject's consent
    Consent,
    /// (b) a contract with the subject
    Contract,
    /// (c) a legal obligation of the controller
    LegalObligation,
    /// (d) the vital interests of the subject or another person
    VitalInterests,
    /// (e) a task in the public interest or official authority
    PublicTask,
    /// (f) the controller's or a third party's legitimate interests
    LegitimateInterests,
}

impl LawfulBasis {
    /// Every basis with its name in the map and its point of Art. 6(1).
    pub const ALL: [(LawfulBasis, &'static str, &'static str); 6] = [
        (LawfulBasis::Consent, "consent", "6(1)(a)"),
        (LawfulBasis::Contract, "contract", "6(1)(b)"),
        (LawfulBasis::LegalObligation, "legal_obligation", "6(1)(c)"),
        (LawfulBasis::VitalInterests, "vital_interests", "6(1)(d)"),
        (LawfulBasis::PublicTask, "public_task", "6(1)(e)"),
        (
            LawfulBasis::LegitimateInterests,
            "legitimate_interests",
            "6(1)(f)",
        ),
    ];

    /// Reads a name as written in the map.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(b, _, _)| *b)
    }

    /// The name as written in the map.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(b, _, _)| *b == self)
            .map_or("", |(_, n, _)| n)
    }
}

/// A retention period: whole years, months, weeks and days (`6y`, `18m`, `1y6m`, `90d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Retention {
    /// years
    pub years: u32,
    /// months
    pub months: u32,
    /// weeks
    pub weeks: u32,
    /// days
    pub days: u32,
}

impl Retention {
    /// Reads `<n><unit>` groups (units `y`, `m`, `w`, `d`, each at most once, largest
    /// first); `None` when the text is not one, or the period is zero.
    pub fn parse(text: &str) -> Option<Self> {
        let mut r = Retention::default();
        let mut rest = text;
        let mut last_unit = 0usize;
        if rest.is_empty() {
            return None;
        }
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 || digits > 5 {
                return None;
            }
            let n: u32 = rest.get(..digits)?.parse().ok()?;
            let unit = rest.get(digits..digits + 1)?;
            let order = "ymwd".find(unit)? + 1;
            if order <= last_unit {
                return None;
            }
            last_unit = order;
            match unit {
                "y" => r.years = n,
                "m" => r.months = n,
                "w" => r.weeks = n,
                _ => r.days = n,
            }
            rest = rest.get(digits + 1..)?;
        }
        (r != Retention::default()).then_some(r)
    }

    /// The period in days, counting a year as 365 and a month as 30 (for comparisons).
    pub fn approx_days(&self) -> u64 {
        u64::from(self.years) * 365
            + u64::from(self.months) * 30
            + u64::from(self.weeks) * 7
            + u64::from(self.days)
    }
}

impl std::fmt::Display for Retention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (n, unit) in [
            (self.years, 'y'),
            (self.months, 'm'),
            (self.weeks, 'w'),
            (self.days, 'd'),
        ] {
            if n > 0 {
                write!(f, "{n}{unit}")?;
            }
        }
        Ok(())
    }
}

/// What erasure does to a table's rows of the subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowErasure {
    /// each field's own strategy; the row stays
    Fields,
    /// the rows are deleted
    DeleteRow,
}

/// A validated personal-data column.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// the column
    pub name: String,
    /// fideslang data categories
    pub categories: Vec<String>,
    /// what erasure writes in it
    pub erasure: Erasure,
    /// part of the subject's export
    pub export: bool,
    /// its type when mapped
    pub data_type: Option<String>,
    /// free text
    pub description: Option<String>,
    /// 1-based line where it is declared
    pub line: usize,
}

/// A field's erasure strategy and its parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "strategy", rename_all = "snake_case")]
pub enum Erasure {
    /// set to NULL
    Null,
    /// set to a fixed value
    Fixed {
        /// the value (a TOML scalar, as JSON)
        value: serde_json::Value,
    },
    /// replaced by HMAC-SHA-256 under a keyring key (stable, so joins on it survive)
    KeyedHash {
        /// the keyring key's name
        key: String,
    },
    /// replaced by random bytes of the column's type
    Random,
    /// sealed under the subject's own key, which erasure destroys
    EncryptThenShred,
    /// kept (a retention duty, a key needed for joins), with the reason
    Keep {
        /// why
        reason: String,
    },
}

/// The strategies as written in the map, with the parameter each needs.
pub const STRATEGIES: [(&str, Option<&str>); 6] = [
    ("null", None),
    ("fixed", Some("value")),
    ("keyed_hash", Some("key")),
    ("random", None),
    ("encrypt_then_shred", None),
    ("keep", Some("reason")),
];

impl DataMap {
    /// The system named `name`.
    pub fn system(&self, name: &str) -> Option<&System> {
        self.systems.iter().find(|s| s.name == name)
    }
}

impl System {
    /// The table named `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

impl Table {
    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Every column the map knows this table has: key, link, retention anchor, fields.
    pub fn known_columns(&self) -> Vec<&str> {
        let mut columns: Vec<&str> = self.primary_key.iter().map(String::as_str).collect();
        match &self.link {
            Link::Identity { column } | Link::Join { column, .. } => columns.push(column),
        }
        columns.extend(self.retention_from.as_deref());
        columns.extend(self.fields.iter().map(|f| f.name.as_str()));
        columns.sort_unstable();
        columns.dedup();
        columns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_periods_parse_and_print() {
        for (text, days) in [
            ("6y", 2190),
            ("90d", 90),
            ("1y6m", 545),
            ("2w", 14),
            ("10y", 3650),
        ] {
            let r = Retention::parse(text).unwrap();
            assert_eq!(r.approx_days(), days, "{text}");
            assert_eq!(r.to_string(), text);
        }
        for bad in [
            "", "6", "y", "6 y", "6years", "0d", "6m1y", "6y6y", "-1d", "1.5y", "999999d",
        ] {
            assert_eq!(Retention::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_lawful_basis_round_trips() {
        for (basis, name, _) in LawfulBasis::ALL {
            assert_eq!(LawfulBasis::parse(name), Some(basis));
            assert_eq!(basis.name(), name);
        }
        assert_eq!(LawfulBasis::parse("legitimate_interest"), None);
    }
}
