//! A synthetic, seeded, labelled corpus for measuring the detector: the same entities in
//! many textual contexts (log lines, JSON lines, CSV, source code, prose), mixed with
//! look-alikes that must not be reported (Luhn-failing card numbers, void SSNs, order ids,
//! hashes, UUIDs, versions, timestamps, placeholders). Every planted value is labelled with
//! its file and byte span, so precision and recall can be computed per entity for Evident
//! and for any other tool run over the same files.

use crate::Entity;

mod ids;
mod rng;
mod score;
mod values;

pub use ids::{identifier, value as identifier_value, LABELLED};
pub use rng::Rng;
use rng::HEX;
pub use score::{score, target, Prediction, Score, IDENTIFIER_TARGET, TARGETS};
pub use values::{card, email, iban, ipv4, phone, secret, ssn};
pub(crate) use values::{group, luhn_check_digit, not_a_card, void_ssn, FIRST, LAST};

/// One planted value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Label {
    /// file name within the corpus
    pub file: String,
    /// what was planted
    pub entity: Entity,
    /// byte offset of the value
    pub start: usize,
    /// byte offset just past the value
    pub end: usize,
}

/// The generated files and their labels.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    /// `(file name, content)`
    pub files: Vec<(String, Vec<u8>)>,
    /// every planted value, by file and offset
    pub labels: Vec<Label>,
}

/// Builds one file, recording where planted values land.
struct Doc {
    name: String,
    buf: Vec<u8>,
    labels: Vec<Label>,
}

impl Doc {
    fn new(name: &str) -> Doc {
        Doc {
            name: name.to_owned(),
            buf: Vec::new(),
            labels: Vec::new(),
        }
    }
    fn text(&mut self, s: &str) -> &mut Self {
        self.buf.extend_from_slice(s.as_bytes());
        self
    }
    fn plant(&mut self, entity: Entity, value: &str) -> &mut Self {
        let start = self.buf.len();
        self.buf.extend_from_slice(value.as_bytes());
        self.labels.push(Label {
            file: self.name.clone(),
            entity,
            start,
            end: self.buf.len(),
        });
        self
    }
}

fn timestamp(rng: &mut Rng) -> String {
    format!(
        "2026-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        rng.range(1, 12),
        rng.range(1, 28),
        rng.below(24),
        rng.below(60),
        rng.below(60),
        rng.below(1000)
    )
}

fn uuid(rng: &mut Rng) -> String {
    format!(
        "{}-{}-4{}-a{}-{}",
        rng.chars(8, HEX),
        rng.chars(4, HEX),
        rng.chars(3, HEX),
        rng.chars(3, HEX),
        rng.chars(12, HEX)
    )
}

/// A look-alike that no rule should report.
fn distractor(rng: &mut Rng) -> String {
    match rng.below(17) {
        14..=16 => ids::decoy(rng),
        0 => format!("order {} shipped", not_a_card(rng)),
        1 => format!("ref {}", void_ssn(rng)),
        2 => format!("trace {}", uuid(rng)),
        3 => format!("commit {}", rng.chars(40, HEX)),
        4 => format!(
            "version {}.{}.{}",
            rng.below(20),
            rng.below(50),
            rng.below(200)
        ),
        5 => format!("zip {}-{}", rng.digits(5), rng.digits(4)),
        6 => format!("account id {}", rng.digits(9)),
        7 => format!("sku AB-{}-{}", rng.digits(4), rng.digits(4)),
        8 => format!("amount {}.{:02} USD", rng.below(100_000), rng.below(100)),
        9 => format!(
            "isbn 978-{}-{}-{}-{}",
            rng.below(10),
            rng.digits(2),
            rng.digits(6),
            rng.below(10)
        ),
        10 => "key AKIAIOSFODNN7EXAMPLE (documentation example)".to_owned(),
        11 => "password = ${DB_PASSWORD}".to_owned(),
        12 => format!("ts {}", rng.range(1_600_000_000_000, 1_800_000_000_000)),
        _ => format!("checksum sha256:{}", rng.chars(64, HEX)),
    }
}

/// How a labelled identifier is written.
#[derive(Clone, Copy)]
enum Style {
    Log,
    Json,
    Code,
    Prose,
}

/// The words of a label, without punctuation (`#` read as `no`).
fn label_words(label: &str) -> Vec<String> {
    label
        .replace('#', " no ")
        .replace('\'', "")
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Plants a national, health-plan or financial identifier after one of its labels.
fn plant_identifier(rng: &mut Rng, doc: &mut Doc, style: Style) {
    let (entity, label, value) = identifier(rng);
    let words = label_words(label);
    match style {
        Style::Log => {
            let sep = if label.is_empty() || label.ends_with([':', '=']) {
                ""
            } else {
                " "
            };
            doc.text(&format!("record verified {label}{sep}"))
                .plant(entity, &value);
        }
        Style::Json => {
            let key: String = if words.is_empty() {
                "ref".to_owned()
            } else {
                words
                    .iter()
                    .enumerate()
                    .map(|(i, w)| {
                        let w = w.to_lowercase();
                        if i == 0 {
                            w
                        } else {
                            let mut c = w.chars();
                            c.next()
                                .map(|f| f.to_uppercase().chain(c).collect())
                                .unwrap_or_default()
                        }
                    })
                    .collect()
            };
            doc.text(&format!("\"{key}\":\""))
                .plant(entity, &value)
                .text("\"");
        }
        Style::Code => {
            let name = if words.is_empty() {
                "REFERENCE".to_owned()
            } else {
                words.join("_").to_uppercase()
            };
            doc.text(&format!("{name} = \""))
                .plant(entity, &value)
                .text("\"");
        }
        Style::Prose => {
            doc.text(&format!("The form gives {label} "))
                .plant(entity, &value)
                .text(" for the applicant. ");
        }
    }
}

fn log_line(rng: &mut Rng, doc: &mut Doc) {
    let ts = timestamp(rng);
    let level = *rng.pick(&["INFO", "WARN", "DEBUG", "ERROR"]);
    let svc = *rng.pick(&["api", "billing", "auth", "ehr-sync", "worker"]);
    doc.text(&format!("{ts} {level:5} [{svc}] "));
    match rng.below(12) {
        0 => {
            let (e, ip) = (email(rng), ipv4(rng));
            doc.text("login ok user=")
                .plant(Entity::Email, &e)
                .text(" from ")
                .plant(Entity::Ip, &ip);
        }
        1 => {
            let c = card(rng);
            doc.text(&format!(
                "charge declined amount={}.{:02} card=",
                rng.below(500),
                rng.below(100)
            ))
            .plant(Entity::Card, &c);
        }
        2 => {
            let s = ssn(rng);
            doc.text("identity check ssn=")
                .plant(Entity::Ssn, &s)
                .text(" result=match");
        }
        3 => {
            let p = phone(rng);
            doc.text("sms sent to ").plant(Entity::Phone, &p);
        }
        4 => {
            let i = iban(rng);
            doc.text("payout scheduled iban=").plant(Entity::Iban, &i);
        }
        5 => {
            let s = secret(rng, false);
            doc.text("upstream call failed, Authorization: Bearer ")
                .plant(Entity::Secret, &s);
        }
        6 | 7 => plant_identifier(rng, doc, Style::Log),
        8 => {
            let (label, number) = values::german_phone(rng);
            doc.text(&format!("callback requested, {label} "))
                .plant(Entity::Phone, &number);
        }
        _ => {
            let d = distractor(rng);
            doc.text(&format!(
                "request {} took {}ms: {d}",
                uuid(rng),
                rng.below(900)
            ));
        }
    }
    doc.text("\n");
}

fn json_line(rng: &mut Rng, doc: &mut Doc) {
    doc.text(&format!(
        "{{\"ts\":\"{}\",\"event\":\"{}\"",
        timestamp(rng),
        rng.pick(&["signup", "checkout", "refund", "profile.update"])
    ));
    if rng.chance(60) {
        let e = email(rng);
        doc.text(",\"email\":\"")
            .plant(Entity::Email, &e)
            .text("\"");
    }
    if rng.chance(40) {
        let p = phone(rng);
        doc.text(",\"phone\":\"")
            .plant(Entity::Phone, &p)
            .text("\"");
    }
    if rng.chance(30) {
        let c = card(rng);
        doc.text(",\"payment\":{\"pan\":\"")
            .plant(Entity::Card, &c)
            .text(&format!(
                "\",\"exp\":\"{:02}/{}\"}}",
                rng.range(1, 12),
                rng.range(27, 33)
            ));
    }
    if rng.chance(15) {
        let s = ssn(rng);
        doc.text(",\"tax_id\":\"").plant(Entity::Ssn, &s).text("\"");
    }
    if rng.chance(30) {
        doc.text(",");
        plant_identifier(rng, doc, Style::Json);
    }
    if rng.chance(40) {
        let d = distractor(rng);
        doc.text(&format!(
            ",\"note\":\"{d}\",\"order\":\"{}\"",
            not_a_card(rng)
        ));
    }
    doc.text(&format!(",\"request_id\":\"{}\"}}\n", uuid(rng)));
}

fn csv_row(rng: &mut Rng, doc: &mut Doc, row: usize) {
    let (f, l) = (rng.pick(FIRST).to_owned(), rng.pick(LAST).to_owned());
    doc.text(&format!("{row},{f} {l},"));
    let e = email(rng);
    doc.plant(Entity::Email, &e).text(",");
    let p = phone(rng);
    doc.plant(Entity::Phone, &p).text(",");
    if rng.chance(70) {
        let s = ssn(rng);
        doc.plant(Entity::Ssn, &s);
    } else {
        doc.text(&void_ssn(rng));
    }
    doc.text(",");
    if rng.chance(50) {
        let i = iban(rng);
        doc.plant(Entity::Iban, &i);
    }
    doc.text(&format!(
        ",{},{}\n",
        rng.digits(9),
        distractor(rng).replace(',', ";")
    ));
}

fn code_line(rng: &mut Rng, doc: &mut Doc) {
    match rng.below(14) {
        12 => {
            plant_identifier(rng, doc, Style::Code);
            doc.text("\n");
        }
        13 => {
            let (name, number) = values::phone_in_code(rng);
            let close = if name.ends_with('\'') { "'" } else { "\"" };
            doc.text(&name)
                .plant(Entity::Phone, &number)
                .text(close)
                .text("\n");
        }
        0 => {
            let s = secret(rng, true);
            let name = *rng.pick(&[
                "STRIPE_SECRET",
                "GITHUB_TOKEN",
                "SLACK_BOT_TOKEN",
                "API_TOKEN",
                "SERVICE_KEY",
            ]);
            doc.text(&format!("{name} = \""))
                .plant(Entity::Secret, &s)
                .text("\"\n");
        }
        1 => {
            let s = secret(rng, false);
            doc.text("    client = Client(api_key=\"")
                .plant(Entity::Secret, &s)
                .text("\")\n");
        }
        2 => {
            let c = card(rng);
            doc.text("TEST_CARD = \"")
                .plant(Entity::Card, &c)
                .text("\"  # fixture\n");
        }
        3 => {
            let e = email(rng);
            doc.text("ADMIN_EMAIL = '")
                .plant(Entity::Email, &e)
                .text("'\n");
        }
        4 => {
            doc.text(&format!("CHECKSUM = \"{}\"\n", rng.chars(64, HEX)));
        }
        5 => {
            doc.text(&format!(
                "    for i in range({}):\n        total += values[i] * {}\n",
                rng.below(5000),
                rng.below(100)
            ));
        }
        6 => {
            doc.text(&format!(
                "TIMEOUT_MS = {}\nVERSION = \"{}.{}.{}\"\n",
                rng.below(60_000),
                rng.below(9),
                rng.below(30),
                rng.below(100)
            ));
        }
        7 => {
            doc.text(&format!(
                "def lookup(order_id: str = \"{}\") -> dict:\n    return db.get(order_id)\n",
                not_a_card(rng)
            ));
        }
        8 => {
            doc.text(&format!(
                "password = os.environ[\"DB_PASSWORD\"]  # {}\n",
                distractor(rng)
            ));
        }
        9 => {
            doc.text(&format!("CACHE_KEY_PREFIX = \"orders:v2:{}\"\n", uuid(rng)));
        }
        _ => {
            doc.text(&format!(
                "# {}\nlog.info(\"processed %d records\", {})\n",
                distractor(rng),
                rng.below(10_000)
            ));
        }
    }
}

fn prose(rng: &mut Rng, doc: &mut Doc) {
    match rng.below(11) {
        8 | 9 => plant_identifier(rng, doc, Style::Prose),
        10 => {
            let label = *rng.pick(&[
                "social security no.",
                "Soc. Sec. No.",
                "SSN#",
                "S.S.N.",
                "social security number",
            ]);
            let s: String = ssn(rng).chars().filter(char::is_ascii_digit).collect();
            doc.text(&format!("The applicant wrote her {label} "))
                .plant(Entity::Ssn, &s)
                .text(" on the intake form. ");
        }
        0 => {
            let p = phone(rng);
            doc.text("The patient called from ")
                .plant(Entity::Phone, &p)
                .text(" to reschedule the follow-up visit. ");
        }
        1 => {
            let (c, e) = (card(rng), email(rng));
            doc.text("Please refund the card ")
                .plant(Entity::Card, &c)
                .text(" and send the receipt to ")
                .plant(Entity::Email, &e)
                .text(". ");
        }
        2 => {
            let s = ssn(rng);
            doc.text("Her social security number is ")
                .plant(Entity::Ssn, &s)
                .text(", verified by phone. ");
        }
        3 => {
            let i = iban(rng);
            doc.text("Wire the deposit to ")
                .plant(Entity::Iban, &i)
                .text(" before Friday. ");
        }
        4 => {
            let s = secret(rng, false);
            doc.text("I rotated the key; the old one was ")
                .plant(Entity::Secret, &s)
                .text(" and is now revoked. ");
        }
        _ => {
            let d = distractor(rng);
            doc.text(&format!(
                "The meeting moved to room {} on floor {}; {d}. ",
                rng.range(100, 999),
                rng.range(1, 30)
            ));
        }
    }
    if rng.chance(25) {
        doc.text("\n\n");
    }
}

/// A record of the given context with nothing sensitive in it (look-alikes only).
fn clean_record(rng: &mut Rng, doc: &mut Doc, context: usize, row: usize) {
    // One clean record in four carries a look-alike; the rest are plain.
    let d = if rng.chance(25) {
        distractor(rng)
    } else {
        rng.pick(&[
            "cache warm",
            "retrying once",
            "ok",
            "queue drained",
            "no changes",
            "see the runbook",
        ])
        .to_string()
    };
    let line = match context {
        0 => format!(
            "{} INFO  [api] request {} took {}ms: {d}\n",
            timestamp(rng),
            uuid(rng),
            rng.below(900)
        ),
        1 => format!(
            "{{\"ts\":\"{}\",\"event\":\"cart.view\",\"note\":\"{d}\",\"request_id\":\"{}\"}}\n",
            timestamp(rng),
            uuid(rng)
        ),
        2 => format!(
            "{row},widget {},{},{}.{:02},{}\n",
            rng.below(900),
            rng.below(20),
            rng.below(500),
            rng.below(100),
            d.replace(',', ";")
        ),
        3 => format!(
            "    result = compute(items[{}], factor={})  # {d}\n",
            rng.below(100),
            rng.below(50)
        ),
        _ => format!(
            "The review meeting moved to room {} on floor {}; {d}. ",
            rng.range(100, 999),
            rng.range(1, 30)
        ),
    };
    doc.text(&line);
}

/// Generates `records` records spread over five files, the same for the same seed.
pub fn generate(records: usize, seed: u64) -> Corpus {
    generate_with_density(records, seed, 100)
}

/// Like [`generate`], but only `percent` of records carry sensitive values; the rest are
/// the same contexts with nothing sensitive (a quarter of them with a look-alike) — closer to
/// production logs and code.
pub fn generate_with_density(records: usize, seed: u64, percent: u64) -> Corpus {
    let mut rng = Rng::new(seed);
    let mut docs = [
        Doc::new("app.log"),
        Doc::new("events.jsonl"),
        Doc::new("people.csv"),
        Doc::new("settings.py"),
        Doc::new("notes.txt"),
    ];
    docs[2].text("id,name,email,phone,ssn,iban,account,notes\n");
    for i in 0..records {
        let context = i % 5;
        if percent < 100 && !rng.chance(percent) {
            clean_record(&mut rng, &mut docs[context], context, i / 5);
            continue;
        }
        match context {
            0 => log_line(&mut rng, &mut docs[0]),
            1 => json_line(&mut rng, &mut docs[1]),
            2 => csv_row(&mut rng, &mut docs[2], i / 5),
            3 => code_line(&mut rng, &mut docs[3]),
            _ => prose(&mut rng, &mut docs[4]),
        }
    }
    let mut corpus = Corpus::default();
    for doc in docs {
        corpus.labels.extend(doc.labels);
        corpus.files.push((doc.name, doc.buf));
    }
    corpus
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::validate::{self, Validator};
    use crate::RuleSet;

    #[test]
    fn generated_values_are_valid_and_labels_point_at_them() {
        let rules = RuleSet::builtin().unwrap();
        let corpus = generate(2_000, 7);
        let again = generate(2_000, 7);
        assert_eq!(corpus.files, again.files);
        assert_eq!(corpus.labels, again.labels);
        let files: BTreeMap<&str, &[u8]> = corpus
            .files
            .iter()
            .map(|(n, c)| (n.as_str(), c.as_slice()))
            .collect();
        for label in &corpus.labels {
            let value = &files[label.file.as_str()][label.start..label.end];
            match label.entity {
                Entity::Card => {
                    assert!(validate::card(value), "{}", String::from_utf8_lossy(value))
                }
                Entity::Ssn => assert!(validate::ssn(&validate::digits(value))),
                Entity::Iban => {
                    assert!(validate::iban(value), "{}", String::from_utf8_lossy(value))
                }
                entity if entity.is_identifier() => {
                    // Every other identifier passes the validator of a rule for it.
                    let checks: Vec<_> = rules
                        .rules
                        .iter()
                        .filter(|r| r.entity == entity && r.validator != Validator::None)
                        .map(|r| r.validator)
                        .collect();
                    assert!(
                        checks.is_empty() || checks.iter().any(|v| v.check(value, 0, value.len())),
                        "{entity} {}",
                        String::from_utf8_lossy(value)
                    );
                }
                _ => {}
            }
        }
        assert!(corpus.labels.len() > 1_000);
    }
}
