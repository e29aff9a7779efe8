//! National, health-plan and financial identifiers for the labelled corpus: one valid value of
//! each format from its public description, written after one of the labels people use for
//! it, and look-alikes that must stay quiet (order, invoice and tracking numbers, ISBNs,
//! timestamps, values whose check digit fails).
//!
//! Check digits are completed by trying every candidate against the crate's validator: the
//! validators are pinned by their own tests on published example values.

use super::rng::Rng;
use super::values::group;
use crate::validate::national;
use crate::Entity;

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";
/// The characters of a German passport or identity card number.
const DE_DOCUMENT: &[u8] = b"0123456789CFGHJKLMNPRTVWXYZ";

fn letters(rng: &mut Rng, n: usize, alphabet: &[u8]) -> String {
    (0..n).map(|_| char::from(*rng.pick(alphabet))).collect()
}

/// `prefix` and the one character of `alphabet` that makes `valid` pass, if there is one.
fn complete(prefix: &str, alphabet: &[u8], valid: fn(&[u8]) -> bool) -> Option<String> {
    alphabet
        .iter()
        .map(|&c| format!("{prefix}{}", char::from(c)))
        .find(|v| valid(v.as_bytes()))
}

/// Draws until `draw` yields a value (a check digit exists for most prefixes, not all).
fn until(rng: &mut Rng, mut draw: impl FnMut(&mut Rng) -> Option<String>) -> String {
    loop {
        if let Some(v) = draw(rng) {
            return v;
        }
    }
}

fn date(rng: &mut Rng) -> (u64, u64, u64) {
    (rng.range(1, 28), rng.range(1, 12), rng.range(40, 99))
}

fn nonzero_digits(rng: &mut Rng, n: usize) -> String {
    format!("{}{}", rng.range(1, 9), rng.digits(n - 1))
}

/// A base58 encoding (Bitcoin's alphabet), for legacy addresses.
fn base58(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut digits: Vec<u8> = Vec::new();
    for &b in bytes {
        let mut carry = u32::from(b);
        for d in digits.iter_mut() {
            carry += u32::from(*d) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    std::iter::repeat_n('1', zeros)
        .chain(
            digits
                .iter()
                .rev()
                .map(|&d| char::from(ALPHABET[usize::from(d)])),
        )
        .collect()
}

fn bitcoin(rng: &mut Rng) -> String {
    use sha2::{Digest, Sha256};
    let mut raw = vec![if rng.chance(70) { 0u8 } else { 5u8 }];
    raw.extend((0..20).map(|_| rng.below(256) as u8));
    let check = Sha256::digest(Sha256::digest(&raw));
    raw.extend_from_slice(&check[..4]);
    base58(&raw)
}

/// One valid value of `entity`, as it is usually written.
pub fn value(rng: &mut Rng, entity: Entity) -> String {
    match entity {
        Entity::UsPassport => match rng.below(2) {
            0 => nonzero_digits(rng, 9),
            _ => format!("{}{}", letters(rng, 1, UPPER), rng.digits(8)),
        },
        Entity::UsDriverLicense => match rng.below(3) {
            0 => format!("{}{}", letters(rng, 1, UPPER), rng.digits(7)),
            1 => format!(
                "{}{}-{}-{}",
                letters(rng, 1, UPPER),
                rng.digits(3),
                rng.digits(4),
                rng.digits(4)
            ),
            _ => nonzero_digits(rng, 9),
        },
        Entity::UsBankAccount => {
            let len = rng.range(8, 17) as usize;
            nonzero_digits(rng, len)
        }
        Entity::AbaRouting => until(rng, |rng| {
            let prefix = *rng.pick(&[
                "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "21", "22",
                "26", "31", "32", "61", "63", "67", "71", "80",
            ]);
            complete(
                &format!("{prefix}{}", rng.digits(6)),
                DIGITS,
                national::aba_routing,
            )
        }),
        Entity::UsMbi => {
            const A: &[u8] = b"ACDEFGHJKMNPQRTUVWXY";
            const AN: &[u8] = b"ACDEFGHJKMNPQRTUVWXY0123456789";
            let mbi = format!(
                "{}{}{}{}{}{}{}{}{}",
                rng.range(1, 9),
                letters(rng, 1, A),
                letters(rng, 1, AN),
                rng.digits(1),
                letters(rng, 1, A),
                letters(rng, 1, AN),
                rng.digits(1),
                letters(rng, 2, A),
                rng.digits(2)
            );
            if rng.chance(50) {
                format!("{}-{}-{}", &mbi[..4], &mbi[4..7], &mbi[7..])
            } else {
                mbi
            }
        }
        Entity::HealthPlanId => match rng.below(2) {
            0 => format!("{}{}", letters(rng, 3, UPPER), rng.digits(9)),
            _ => format!("{}{}", letters(rng, 1, UPPER), rng.digits(10)),
        },
        Entity::ClaimNumber => match rng.below(2) {
            0 => nonzero_digits(rng, 10),
            _ => format!("CLM-{}", rng.digits(8)),
        },
        Entity::RxNumber => match rng.below(2) {
            0 => nonzero_digits(rng, 7),
            _ => format!("RX-{}", rng.digits(7)),
        },
        Entity::PriorAuth => match rng.below(2) {
            0 => format!("PA-{}", rng.digits(8)),
            _ => nonzero_digits(rng, 9),
        },
        Entity::ProviderTaxId => {
            let prefix = *rng.pick(&["12", "20", "27", "35", "46", "52", "61", "74", "84", "94"]);
            format!("{prefix}-{}", rng.digits(7))
        }
        Entity::MedicalLicense => match rng.below(3) {
            0 => format!("MD{}", rng.digits(6)),
            1 => format!("{}{}", letters(rng, 1, UPPER), rng.digits(5)),
            _ => format!("RN-{}", rng.digits(7)),
        },
        Entity::UkNhs => {
            let v = until(rng, |rng| {
                complete(&rng.digits(9), DIGITS, national::uk_nhs)
            });
            if rng.chance(60) {
                group(&v, &[3, 3, 4], ' ')
            } else {
                v
            }
        }
        Entity::UkNino => until(rng, |rng| {
            let v = format!(
                "{}{}{}{}",
                letters(rng, 1, b"ABCEGHJKLMNOPRSTWXYZ"),
                letters(rng, 1, b"ABCEGHJKLMNPRSTWXYZ"),
                rng.digits(6),
                letters(rng, 1, b"ABCD")
            );
            national::uk_nino(v.as_bytes()).then_some(v)
        }),
        Entity::UkPassport => format!("{}{}", letters(rng, 2, UPPER), rng.digits(7)),
        Entity::UkDrivingLicence => {
            let (d, m, y) = date(rng);
            let month = if rng.chance(50) { m } else { m + 50 };
            format!(
                "{}{}{month:02}{d:02}{}{}9{}",
                letters(rng, 5, UPPER),
                y / 10,
                y % 10,
                letters(rng, 2, UPPER),
                letters(rng, 2, UPPER)
            )
        }
        Entity::CaSin => {
            let v = until(rng, |rng| {
                let first = *rng.pick(&[1, 2, 3, 4, 5, 6, 7, 9]);
                complete(
                    &format!("{first}{}", rng.digits(7)),
                    DIGITS,
                    national::ca_sin,
                )
            });
            group(&v, &[3, 3, 3], if rng.chance(50) { ' ' } else { '-' })
        }
        Entity::EsNif => until(rng, |rng| complete(&rng.digits(8), UPPER, national::es_nif)),
        Entity::EsNie => until(rng, |rng| {
            let lead = letters(rng, 1, b"XYZ");
            complete(&format!("{lead}{}", rng.digits(7)), UPPER, national::es_nie)
        }),
        Entity::ItFiscalCode => until(rng, |rng| {
            let (d, _, y) = date(rng);
            let day = if rng.chance(50) { d } else { d + 40 };
            let prefix = format!(
                "{}{y:02}{}{day:02}{}{}",
                letters(rng, 6, UPPER),
                letters(rng, 1, b"ABCDEHLMPRST"),
                letters(rng, 1, UPPER),
                rng.digits(3)
            );
            complete(&prefix, UPPER, national::it_fiscal_code)
        }),
        Entity::DeTaxId => until(rng, |rng| {
            // Ten digits in which one digit appears twice and one not at all.
            let mut pool: Vec<u8> = (0..10).collect();
            let missing = rng.below(10) as usize;
            let twice = pool[(missing + 1 + rng.below(9) as usize) % 10];
            pool[missing] = twice;
            for i in (1..pool.len()).rev() {
                pool.swap(i, rng.below(i as u64 + 1) as usize);
            }
            if pool[0] == 0 {
                return None;
            }
            let body: String = pool.iter().map(|d| char::from(b'0' + d)).collect();
            complete(&body, DIGITS, national::de_tax_id)
        }),
        Entity::DeSocialSecurity => until(rng, |rng| {
            let (d, m, y) = date(rng);
            let prefix = format!(
                "{:02}{d:02}{m:02}{y:02}{}{}",
                rng.range(2, 89),
                letters(rng, 1, UPPER),
                rng.digits(2)
            );
            complete(&prefix, DIGITS, national::de_social_security)
        }),
        Entity::DeHealthInsurance => until(rng, |rng| {
            let prefix = format!("{}{}", letters(rng, 1, UPPER), rng.digits(8));
            complete(&prefix, DIGITS, national::de_health_insurance)
        }),
        Entity::FrNir => {
            let (_, m, y) = date(rng);
            let body = format!(
                "{}{y:02}{m:02}{:02}{}{}",
                rng.range(1, 2),
                rng.range(1, 95),
                rng.digits(3),
                rng.digits(3)
            );
            let n: u64 = body.parse().unwrap_or(0);
            let v = format!("{body}{:02}", 97 - n % 97);
            if rng.chance(50) {
                group(&v, &[1, 2, 2, 2, 3, 3, 2], ' ')
            } else {
                v
            }
        }
        Entity::PlPesel => until(rng, |rng| {
            let (d, m, y) = date(rng);
            let prefix = format!("{y:02}{m:02}{d:02}{}", rng.digits(4));
            complete(&prefix, DIGITS, national::pl_pesel)
        }),
        Entity::SePersonnummer => until(rng, |rng| {
            let (d, m, y) = date(rng);
            let prefix = format!("{y:02}{m:02}{d:02}-{}", rng.digits(3));
            complete(&prefix, DIGITS, national::se_personnummer)
        }),
        Entity::FiPersonalId => until(rng, |rng| {
            let (d, m, y) = date(rng);
            let sign = if rng.chance(60) { '-' } else { 'A' };
            let prefix = format!("{d:02}{m:02}{y:02}{sign}{:03}", rng.range(2, 899));
            complete(
                &prefix,
                b"0123456789ABCDEFHJKLMNPRSTUVWXY",
                national::fi_personal_id,
            )
        }),
        Entity::InAadhaar => {
            let v = until(rng, |rng| {
                let prefix = format!("{}{}", rng.range(2, 9), rng.digits(10));
                complete(&prefix, DIGITS, national::in_aadhaar)
            });
            if rng.chance(60) {
                group(&v, &[4, 4, 4], ' ')
            } else {
                v
            }
        }
        Entity::InPan => format!(
            "{}{}{}{}{}",
            letters(rng, 3, UPPER),
            letters(rng, 1, b"ABCFGHJLPT"),
            letters(rng, 1, UPPER),
            rng.digits(4),
            letters(rng, 1, UPPER)
        ),
        Entity::AuTfn => {
            let v = until(rng, |rng| {
                complete(&nonzero_digits(rng, 8), DIGITS, national::au_tfn)
            });
            group(&v, &[3, 3, 3], ' ')
        }
        Entity::AuMedicare => {
            let v = until(rng, |rng| {
                let prefix = format!("{}{}", rng.range(2, 6), rng.digits(7));
                complete(&prefix, DIGITS, |d| {
                    national::au_medicare(&[d, b"1"].concat())
                })
            });
            format!("{} {} {}", &v[..4], &v[4..9], rng.range(1, 9))
        }
        Entity::AuAbn => until(rng, |rng| {
            let prefix = format!("{}{}", rng.range(1, 9), rng.digits(9));
            complete(&prefix, DIGITS, national::au_abn).map(|v| group(&v, &[2, 3, 3, 3], ' '))
        }),
        Entity::SgNric => until(rng, |rng| {
            let prefix = format!("{}{}", letters(rng, 1, b"STFG"), rng.digits(7));
            complete(&prefix, UPPER, national::sg_nric)
        }),
        Entity::ZaId => until(rng, |rng| {
            let (d, m, y) = date(rng);
            let prefix = format!("{y:02}{m:02}{d:02}{}{}8", rng.digits(4), rng.range(0, 1));
            complete(&prefix, DIGITS, national::za_id)
        }),
        Entity::KrRrn => until(rng, |rng| {
            let (d, m, y) = date(rng);
            let prefix = format!("{y:02}{m:02}{d:02}-{}{}", rng.range(1, 4), rng.digits(5));
            complete(&prefix, DIGITS, national::kr_rrn)
        }),
        Entity::DePassport | Entity::DeIdCard => {
            // A letter, then eight document characters (the rules tell a passport from an
            // identity card by its label alone); some copies add the machine-readable
            // zone's check digit.
            let first = if entity == Entity::DePassport {
                letters(rng, 1, b"CFGHJK")
            } else {
                letters(rng, 1, b"LMNPRTVWXY")
            };
            let v = until(rng, |rng| {
                let v = format!("{first}{}", letters(rng, 8, DE_DOCUMENT));
                national::de_document(v.as_bytes()).then_some(v)
            });
            if rng.chance(25) {
                complete(&v, DIGITS, national::de_document).unwrap_or(v)
            } else {
                v
            }
        }
        Entity::DeDrivingLicence => until(rng, |rng| {
            let prefix = format!(
                "{}{}{}",
                letters(rng, 1, UPPER),
                rng.digits(3),
                letters(rng, 5, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            );
            let issue = rng.range(1, 9);
            b"0123456789X"
                .iter()
                .map(|&c| format!("{prefix}{}{issue}", char::from(c)))
                .find(|v| national::de_driving_licence(v.as_bytes()))
        }),
        Entity::EsPassport => format!("{}{}", letters(rng, 3, UPPER), rng.digits(6)),
        Entity::ItPassport => format!("{}{}", letters(rng, 2, UPPER), rng.digits(7)),
        Entity::ItIdentityCard => match rng.below(3) {
            0 => format!("{}{}", letters(rng, 2, UPPER), rng.digits(7)),
            1 => format!("{}{}", rng.digits(7), letters(rng, 2, UPPER)),
            _ => format!(
                "C{}{}{}",
                letters(rng, 1, UPPER),
                rng.digits(5),
                letters(rng, 2, UPPER)
            ),
        },
        Entity::ItDrivingLicence => format!(
            "{}{}{}",
            letters(rng, 2, UPPER),
            rng.digits(7),
            letters(rng, 1, UPPER)
        ),
        Entity::ItVatCode => until(rng, |rng| {
            let prefix = format!("{}{:03}", rng.digits(7), rng.range(1, 100));
            complete(&prefix, DIGITS, national::it_vat_code)
        }),
        Entity::InPassport => format!(
            "{}{}{}",
            letters(rng, 1, UPPER),
            rng.range(1, 9),
            rng.digits(6)
        ),
        Entity::InVoterId => format!("{}{}", letters(rng, 3, UPPER), rng.digits(7)),
        Entity::KrPassport => format!(
            "{}{}{}{}",
            letters(rng, 1, b"MSROD"),
            rng.digits(3),
            letters(rng, 1, UPPER),
            rng.digits(4)
        ),
        Entity::KrDrivingLicence => format!(
            "{}-{}-{}-{}",
            rng.range(11, 26),
            rng.digits(2),
            rng.digits(6),
            rng.digits(2)
        ),
        Entity::NgNin => until(rng, |rng| {
            complete(&nonzero_digits(rng, 10), DIGITS, national::ng_nin)
        }),
        Entity::PhTin => {
            let tin = format!(
                "{}-{}-{}",
                rng.range(100, 999),
                rng.digits(3),
                rng.digits(3)
            );
            if rng.chance(30) {
                format!("{tin}-000")
            } else {
                tin
            }
        }
        Entity::ThTnin => {
            let v = until(rng, |rng| {
                let prefix = format!("{}{}", rng.range(1, 8), rng.digits(11));
                complete(&prefix, DIGITS, national::th_tnin)
            });
            if rng.chance(40) {
                group(&v, &[1, 4, 5, 2, 1], '-')
            } else {
                v
            }
        }
        Entity::TrTckn => {
            let d: Vec<u64> = std::iter::once(rng.range(1, 9))
                .chain((0..8).map(|_| rng.below(10)))
                .collect();
            let odd = d[0] + d[2] + d[4] + d[6] + d[8];
            let even = d[1] + d[3] + d[5] + d[7];
            let tenth = (odd * 7 + 10 * 9 - even) % 10;
            let eleventh = (d.iter().sum::<u64>() + tenth) % 10;
            let body: String = d.iter().map(u64::to_string).collect();
            format!("{body}{tenth}{eleventh}")
        }
        Entity::Crypto => {
            if rng.chance(60) {
                bitcoin(rng)
            } else {
                format!("0x{}", letters(rng, 40, b"0123456789abcdef"))
            }
        }
        _ => String::new(),
    }
}

/// The identifiers this module plants, each with the labels written before it (an empty
/// label: the format stands on its own).
pub const LABELLED: &[(Entity, &[&str])] = &[
    (
        Entity::UsPassport,
        &["passport no.", "US passport:", "passport number"],
    ),
    (
        Entity::UsDriverLicense,
        &["driver's license:", "DL#", "drivers license no."],
    ),
    (
        Entity::UsBankAccount,
        &["bank account number", "acct #:", "checking account"],
    ),
    (
        Entity::AbaRouting,
        &["routing number", "ABA:", "routing no."],
    ),
    (Entity::UsMbi, &["Medicare MBI", "MBI:", ""]),
    (
        Entity::HealthPlanId,
        &["member ID:", "subscriber no.", "insurance id"],
    ),
    (
        Entity::ClaimNumber,
        &["claim #:", "claim number", "claim id"],
    ),
    (Entity::RxNumber, &["Rx#", "prescription number:", "rx no."]),
    (
        Entity::PriorAuth,
        &["prior authorization:", "prior auth no.", "preauth #"],
    ),
    (
        Entity::ProviderTaxId,
        &["provider TIN:", "billing provider tax id", "EIN"],
    ),
    (
        Entity::MedicalLicense,
        &["medical license no.", "physician license:", "RN license #"],
    ),
    (Entity::UkNhs, &["NHS number:", "NHS No.", "nhs_number="]),
    (Entity::UkNino, &["NI number", "national insurance no.", ""]),
    (
        Entity::UkPassport,
        &["passport no.", "UK passport:", "passport number"],
    ),
    (
        Entity::UkDrivingLicence,
        &["driving licence", "DVLA licence no.", ""],
    ),
    (Entity::CaSin, &["SIN:", "social insurance number", "SIN #"]),
    (Entity::EsNif, &["DNI", "NIF:", ""]),
    (Entity::EsNie, &["NIE", "NIE:", ""]),
    (Entity::ItFiscalCode, &["codice fiscale", "CF:", ""]),
    (
        Entity::DeTaxId,
        &[
            "Steuer-ID:",
            "Steueridentifikationsnummer",
            "steuerliche IdNr.",
        ],
    ),
    (
        Entity::DeSocialSecurity,
        &["Rentenversicherungsnummer", "SV-Nummer:", ""],
    ),
    (
        Entity::DeHealthInsurance,
        &["Versichertennummer:", "KVNR", "Krankenversichertennummer"],
    ),
    (Entity::FrNir, &["NIR", "numéro de sécurité sociale", ""]),
    (Entity::PlPesel, &["PESEL:", "nr PESEL", "pesel="]),
    (
        Entity::SePersonnummer,
        &["personnummer", "personnr:", "samordningsnummer"],
    ),
    (Entity::FiPersonalId, &["henkilötunnus", "hetu:", ""]),
    (Entity::InAadhaar, &["Aadhaar:", "aadhaar no.", "UID"]),
    (Entity::InPan, &["PAN:", "PAN card", ""]),
    (Entity::AuTfn, &["TFN", "tax file number:", "TFN:"]),
    (
        Entity::AuMedicare,
        &["Medicare card", "medicare no:", "Medicare number"],
    ),
    (
        Entity::AuAbn,
        &["ABN", "ABN:", "Australian Business Number"],
    ),
    (Entity::SgNric, &["NRIC", "FIN:", ""]),
    (Entity::ZaId, &["ID number", "SA ID no.", "identity number"]),
    (Entity::KrRrn, &["RRN", "resident registration number:", ""]),
    (Entity::Crypto, &["wallet", "send to", "BTC address"]),
    (
        Entity::DePassport,
        &["Reisepassnummer", "Reisepass:", "Passnummer:"],
    ),
    (
        Entity::DeIdCard,
        &["Personalausweisnummer", "Ausweis-Nr.", "Personalausweis:"],
    ),
    (
        Entity::DeDrivingLicence,
        &["Führerscheinnummer", "Führerschein-Nr.", "Fahrerlaubnis"],
    ),
    (
        Entity::EsPassport,
        &["pasaporte", "número de pasaporte:", "Spanish passport no."],
    ),
    (
        Entity::ItPassport,
        &["passaporto", "passaporto n.", "numero passaporto:"],
    ),
    (
        Entity::ItIdentityCard,
        &[
            "carta d'identità",
            "carta di identità n.",
            "carta d'identità:",
        ],
    ),
    (
        Entity::ItDrivingLicence,
        &["patente", "patente di guida n.", "patente n."],
    ),
    (Entity::ItVatCode, &["partita IVA", "P.IVA", "partita iva:"]),
    (
        Entity::InPassport,
        &["passport no.", "Indian passport:", "passport number"],
    ),
    (
        Entity::InVoterId,
        &["Voter ID:", "EPIC no.", "voter id card"],
    ),
    (
        Entity::KrPassport,
        &["Korean passport:", "passport no.", "passport number"],
    ),
    (
        Entity::KrDrivingLicence,
        &[
            "driver's license:",
            "Korean driver license",
            "driver licence no.",
        ],
    ),
    (Entity::NgNin, &["NIN:", "NIN", "NIMC NIN"]),
    (Entity::PhTin, &["TIN:", "BIR TIN", "TIN"]),
    (Entity::ThTnin, &["Thai ID:", "TNIN", "Thai national ID"]),
    (
        Entity::TrTckn,
        &["TC Kimlik No:", "TCKN", "T.C. kimlik numarası"],
    ),
];

/// A labelled identifier of a drawn type: `(entity, label, value)`.
pub fn identifier(rng: &mut Rng) -> (Entity, &'static str, String) {
    let (entity, labels) = *rng.pick(LABELLED);
    let label = *rng.pick(labels);
    (entity, label, value(rng, entity))
}

/// A look-alike of an identifier: a number or code near a label of something else, or an
/// identifier whose check digit fails.
pub fn decoy(rng: &mut Rng) -> String {
    match rng.below(15) {
        0 => format!("invoice no. INV-{}", rng.digits(7)),
        1 => format!(
            "tracking number 1Z{}{}",
            letters(rng, 6, UPPER),
            rng.digits(10)
        ),
        2 => format!("order no. {}", nonzero_digits(rng, 9)),
        3 => format!("PO {}", nonzero_digits(rng, 10)),
        4 => format!("ticket #{}", nonzero_digits(rng, 8)),
        5 => format!(
            "isbn {}-{}-{}-{}",
            rng.pick(&["978", "979"]),
            rng.below(10),
            rng.digits(5),
            rng.digits(4)
        ),
        6 => format!(
            "build {}.{}",
            rng.range(20_240_101, 20_261_231),
            rng.digits(4)
        ),
        7 => {
            // An NHS number with a wrong check digit, next to its label.
            let v = until(rng, |rng| {
                complete(&rng.digits(9), DIGITS, national::uk_nhs)
            });
            let wrong = (v.as_bytes()[9] - b'0' + 1 + rng.below(8) as u8) % 10;
            let bad = format!("{}{wrong}", &v[..9]);
            if national::uk_nhs(bad.as_bytes()) {
                "nhs number pending".to_owned()
            } else {
                format!("NHS number: {bad}")
            }
        }
        8 => format!("member since {}", rng.range(1990, 2025)),
        9 => format!("shipment {}", group(&rng.digits(12), &[4, 4, 4], '-')),
        10 => {
            // A Turkish identity number whose last check digit is off, next to its label.
            let v = value(rng, Entity::TrTckn);
            let wrong = (v.as_bytes()[10] - b'0' + 1) % 10;
            format!("TC Kimlik No: {}{wrong}", &v[..10])
        }
        11 => {
            // A German document number whose machine-readable check digit is off.
            let v = value(rng, Entity::DePassport);
            let v = complete(&v[..9], DIGITS, national::de_document).unwrap_or(v);
            let wrong = (v.as_bytes()[9] - b'0' + 1) % 10;
            format!("Reisepassnummer: {}{wrong}", &v[..9])
        }
        12 => {
            // A Thai id whose check digit is off.
            let v = value(rng, Entity::ThTnin).replace('-', "");
            let wrong = (v.as_bytes()[12] - b'0' + 1) % 10;
            format!("Thai ID: {}{wrong}", &v[..12])
        }
        13 => format!(
            "invoice {}-{}-{}",
            rng.range(100, 999),
            rng.digits(3),
            rng.digits(3)
        ),
        _ => format!(
            "Rechnungsnummer {}{}",
            letters(rng, 2, UPPER),
            rng.digits(9)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{crypto, Validator};

    #[test]
    fn every_drawn_identifier_passes_its_check() {
        let mut rng = Rng::new(11);
        let check = |entity: Entity, v: &str| -> bool {
            let b = v.as_bytes();
            match entity {
                Entity::Crypto => crypto::wallet(b),
                Entity::FrNir => national::fr_nir(b),
                Entity::AuMedicare => Validator::AuMedicare.check(b, 0, b.len()),
                Entity::UkNino => national::uk_nino(b),
                Entity::TrTckn => national::tr_tckn(b),
                Entity::DeDrivingLicence => national::de_driving_licence(b),
                Entity::DePassport | Entity::DeIdCard => national::de_document(b),
                _ => true,
            }
        };
        for _ in 0..3_000 {
            let (entity, _, v) = identifier(&mut rng);
            assert!(!v.is_empty(), "{entity}");
            assert!(check(entity, &v), "{entity} {v}");
        }
    }
}
