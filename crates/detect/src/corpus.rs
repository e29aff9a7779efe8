//! A synthetic, seeded, labelled corpus for measuring the detector: the same entities in
//! many textual contexts (log lines, JSON lines, CSV, source code, prose), mixed with
//! look-alikes that must not be reported (Luhn-failing card numbers, void SSNs, order ids,
//! hashes, UUIDs, versions, timestamps, placeholders). Every planted value is labelled with
//! its file and byte span, so precision and recall can be computed per entity for Evident
//! and for any other tool run over the same files.

use std::collections::BTreeMap;

use crate::Entity;

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

/// SplitMix64: a tiny seeded generator so a corpus is the same on every machine and
/// version (a general-purpose RNG crate promises neither).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `p` percent.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    pub(crate) fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }

    fn chars(&mut self, n: usize, alphabet: &[u8]) -> String {
        (0..n).map(|_| char::from(*self.pick(alphabet))).collect()
    }
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

pub(crate) fn luhn_check_digit(payload: &str) -> u8 {
    let sum: u32 = payload
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

pub(crate) fn group(digits: &str, sizes: &[usize], sep: char) -> String {
    let mut out = String::new();
    let mut at = 0;
    for (i, &size) in sizes.iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        out.push_str(&digits[at..at + size]);
        at += size;
    }
    out
}

/// A valid card number of a major brand, in one of the usual spellings.
pub fn card(rng: &mut Rng) -> String {
    let (prefix, len) = match rng.below(7) {
        0 | 1 => ("4".to_owned(), 16),
        2 => (rng.range(51, 55).to_string(), 16),
        3 => (rng.range(2221, 2720).to_string(), 16),
        4 => (rng.pick(&["34", "37"]).to_string(), 15),
        5 => ("6011".to_owned(), 16),
        _ => (rng.range(3528, 3589).to_string(), 16),
    };
    let mut payload = prefix;
    let more = len - 1 - payload.len();
    payload.push_str(&rng.digits(more));
    let number = format!("{payload}{}", luhn_check_digit(&payload));
    let sizes: &[usize] = if len == 15 { &[4, 6, 5] } else { &[4, 4, 4, 4] };
    match rng.below(10) {
        0..=4 => number,
        5..=7 => group(&number, sizes, ' '),
        _ => group(&number, sizes, '-'),
    }
}

/// A 16-digit number that is not a card: the Luhn digit is wrong.
fn not_a_card(rng: &mut Rng) -> String {
    let payload = format!("4{}", rng.digits(14));
    let wrong = (luhn_check_digit(&payload) + 1 + rng.below(8) as u8) % 10;
    format!("{payload}{wrong}")
}

/// A valid SSN (never area 000, 666 or 9xx, group 00, serial 0000).
pub fn ssn(rng: &mut Rng) -> String {
    let mut area = rng.range(1, 899);
    if area == 666 || area == 78 || area == 219 {
        area += 1;
    }
    let (g, s) = (rng.range(1, 99), rng.range(1, 9999));
    if rng.chance(85) {
        format!("{area:03}-{g:02}-{s:04}")
    } else {
        format!("{area:03} {g:02} {s:04}")
    }
}

fn void_ssn(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => format!("000-{:02}-{:04}", rng.range(1, 99), rng.range(1, 9999)),
        1 => format!("666-{:02}-{:04}", rng.range(1, 99), rng.range(1, 9999)),
        _ => format!("{:03}-00-{:04}", rng.range(1, 665), rng.range(1, 9999)),
    }
}

const FIRST: &[&str] = &[
    "jane", "john", "maria", "wei", "amir", "olga", "kofi", "lucia", "sam", "noor",
];
const LAST: &[&str] = &[
    "doe", "smith", "garcia", "chen", "haddad", "ivanova", "mensah", "rossi", "lee", "khan",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "mail.example.org",
    "corp.example.net",
    "hospital.example",
    "clinic.example.co.uk",
];

/// An email address.
pub fn email(rng: &mut Rng) -> String {
    let (f, l) = (rng.pick(FIRST), rng.pick(LAST));
    let local = match rng.below(4) {
        0 => format!("{f}.{l}"),
        1 => format!("{}{l}", &f[..1]),
        2 => format!("{f}_{l}{}", rng.below(100)),
        _ => format!("{f}+billing"),
    };
    format!("{local}@{}", rng.pick(DOMAINS))
}

fn nanp_part(rng: &mut Rng) -> u64 {
    loop {
        let n = rng.range(200, 999);
        if n % 100 != 11 {
            return n;
        }
    }
}

/// A phone number: NANP in its common spellings, or international E.164.
pub fn phone(rng: &mut Rng) -> String {
    let (a, x, n) = (nanp_part(rng), nanp_part(rng), rng.range(0, 9999));
    match rng.below(7) {
        0 => format!("({a}) {x}-{n:04}"),
        1 => format!("{a}-{x}-{n:04}"),
        2 => format!("{a}.{x}.{n:04}"),
        3 => format!("+1 {a} {x} {n:04}"),
        4 => format!("1-{a}-{x}-{n:04}"),
        5 => format!("+44{}", rng.range(7_000_000_000, 7_999_999_999)),
        _ => format!("+49{}", rng.range(30_000_000_000, 30_999_999_999)),
    }
}

fn iban_check(country: &str, bban: &str) -> String {
    let remainder = crate::validate::mod97(bban.bytes().chain(country.bytes()).chain(*b"00"));
    format!("{:02}", 98 - remainder)
}

/// A valid IBAN of a European country, compact or in groups of four.
pub fn iban(rng: &mut Rng) -> String {
    let (country, bban) = match rng.below(6) {
        0 => ("DE", rng.digits(18)),
        1 => (
            "GB",
            format!(
                "{}{}",
                rng.chars(4, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
                rng.digits(14)
            ),
        ),
        2 => (
            "FR",
            format!(
                "{}{}{}",
                rng.digits(10),
                rng.chars(11, UPPER_ALNUM),
                rng.digits(2)
            ),
        ),
        3 => (
            "NL",
            format!(
                "{}{}",
                rng.chars(4, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
                rng.digits(10)
            ),
        ),
        4 => ("ES", rng.digits(20)),
        _ => (
            "IT",
            format!(
                "{}{}{}",
                rng.chars(1, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
                rng.digits(10),
                rng.chars(12, UPPER_ALNUM)
            ),
        ),
    };
    let compact = format!("{country}{}{bban}", iban_check(country, &bban));
    if rng.chance(60) {
        compact
    } else {
        compact
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A public-looking IPv4 address.
pub fn ipv4(rng: &mut Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        rng.range(11, 223),
        rng.below(256),
        rng.below(256),
        rng.range(1, 254)
    )
}

/// A credential of a common format; `multiline` allows private key blocks.
pub fn secret(rng: &mut Rng, multiline: bool) -> String {
    let kinds = if multiline { 11 } else { 10 };
    match rng.below(kinds) {
        0 => format!("AKIA{}", rng.chars(16, BASE32)),
        1 => format!("ghp_{}", rng.chars(36, ALNUM)),
        2 => format!("sk_live_{}", rng.chars(32, ALNUM)),
        3 => format!(
            "xoxb-{}-{}-{}",
            rng.digits(11),
            rng.digits(13),
            rng.chars(24, ALNUM)
        ),
        4 => format!("AIza{}", rng.chars(35, B64URL)),
        5 => format!("glpat-{}", rng.chars(20, ALNUM)),
        6 => format!("SG.{}.{}", rng.chars(22, B64URL), rng.chars(43, B64URL)),
        7 => format!("npm_{}", rng.chars(36, ALNUM)),
        8 => {
            // header {"alg":"HS256","typ":"JWT"}, a claims object, a signature
            let claims = format!(
                "{{\"sub\":\"{}\",\"iat\":{}}}",
                rng.digits(8),
                rng.range(1_600_000_000, 1_800_000_000)
            );
            use base64::Engine as _;
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            format!(
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{}.{}",
                b64.encode(claims),
                rng.chars(43, B64URL)
            )
        }
        9 => rng.chars(
            24,
            b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%&*-_",
        ),
        _ => {
            let body: Vec<String> = (0..6)
                .map(|_| {
                    rng.chars(
                        64,
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                    )
                })
                .collect();
            format!(
                "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----",
                body.join("\n")
            )
        }
    }
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
    match rng.below(14) {
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

fn log_line(rng: &mut Rng, doc: &mut Doc) {
    let ts = timestamp(rng);
    let level = *rng.pick(&["INFO", "WARN", "DEBUG", "ERROR"]);
    let svc = *rng.pick(&["api", "billing", "auth", "ehr-sync", "worker"]);
    doc.text(&format!("{ts} {level:5} [{svc}] "));
    match rng.below(9) {
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
    match rng.below(12) {
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
    match rng.below(8) {
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

/// The quality targets of the detect issue: `(entity, minimum precision, minimum recall)`;
/// a precision of 0 means only recall is targeted.
pub const TARGETS: &[(Entity, f64, f64)] = &[
    (Entity::Card, 0.98, 0.99),
    (Entity::Ssn, 0.98, 0.99),
    (Entity::Iban, 0.98, 0.99),
    (Entity::Email, 0.98, 0.99),
    (Entity::Phone, 0.95, 0.95),
    (Entity::Secret, 0.0, 0.95),
];

/// Precision and recall counts for one entity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Score {
    /// planted values
    pub labels: usize,
    /// planted values some prediction overlaps
    pub found: usize,
    /// predictions of this entity
    pub predictions: usize,
    /// predictions that overlap a planted value of this entity
    pub correct: usize,
}

impl Score {
    /// correct / predictions (1 when nothing was predicted)
    pub fn precision(&self) -> f64 {
        if self.predictions == 0 {
            1.0
        } else {
            self.correct as f64 / self.predictions as f64
        }
    }

    /// found / labels (1 when nothing was planted)
    pub fn recall(&self) -> f64 {
        if self.labels == 0 {
            1.0
        } else {
            self.found as f64 / self.labels as f64
        }
    }
}

/// A predicted span, from any tool.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Prediction {
    /// file name within the corpus
    pub file: String,
    /// what the tool says it is
    pub entity: Entity,
    /// byte offset
    pub start: usize,
    /// byte offset just past it
    pub end: usize,
}

/// `(start, end, found)` of one label.
type LabelSpan = (usize, usize, bool);

/// Scores predictions against labels per entity: a prediction is correct when it overlaps a
/// label of the same entity in the same file; a label is found when a prediction overlaps it.
/// Only entities that have labels are scored.
pub fn score(labels: &[Label], predictions: &[Prediction]) -> BTreeMap<Entity, Score> {
    let mut by_key: BTreeMap<(&str, Entity), Vec<LabelSpan>> = BTreeMap::new();
    for l in labels {
        by_key
            .entry((l.file.as_str(), l.entity))
            .or_default()
            .push((l.start, l.end, false));
    }
    for spans in by_key.values_mut() {
        spans.sort_unstable();
    }
    let mut scores: BTreeMap<Entity, Score> = BTreeMap::new();
    for l in labels {
        scores.entry(l.entity).or_default().labels += 1;
    }
    for p in predictions {
        let Some(score) = scores.get_mut(&p.entity) else {
            continue;
        };
        score.predictions += 1;
        let Some(spans) = by_key.get_mut(&(p.file.as_str(), p.entity)) else {
            continue;
        };
        let first = spans.partition_point(|s| s.1 <= p.start);
        let mut hit = false;
        for span in spans[first..].iter_mut().take_while(|s| s.0 < p.end) {
            span.2 = true;
            hit = true;
        }
        if hit {
            score.correct += 1;
        }
    }
    for ((_, entity), spans) in &by_key {
        if let Some(score) = scores.get_mut(entity) {
            score.found += spans.iter().filter(|s| s.2).count();
        }
    }
    scores
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate;

    #[test]
    fn generated_values_are_valid_and_labels_point_at_them() {
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
                _ => {}
            }
        }
        assert!(corpus.labels.len() > 1_000);
    }

    #[test]
    fn scoring_counts_overlaps() {
        let labels = vec![
            Label {
                file: "f".into(),
                entity: Entity::Card,
                start: 0,
                end: 10,
            },
            Label {
                file: "f".into(),
                entity: Entity::Card,
                start: 20,
                end: 30,
            },
        ];
        let predictions = vec![
            Prediction {
                file: "f".into(),
                entity: Entity::Card,
                start: 2,
                end: 8,
            },
            Prediction {
                file: "f".into(),
                entity: Entity::Card,
                start: 40,
                end: 50,
            },
            Prediction {
                file: "g".into(),
                entity: Entity::Card,
                start: 0,
                end: 10,
            },
        ];
        let s = score(&labels, &predictions)[&Entity::Card];
        assert_eq!(
            s,
            Score {
                labels: 2,
                found: 1,
                predictions: 3,
                correct: 1
            }
        );
    }
}
