//! The fideslang taxonomy, compiled in: every `fides_key` of fideslang's default data
//! categories and data subjects (the files `fideslang_categories.txt` and
//! `fideslang_subjects.txt` beside this one, checked against the `fideslang` package by
//! `scripts/ci-fideslang.sh`), and the nearest known name for a misspelt one.

/// The list as shipped: comments (`#`) name the fideslang version it came from.
const LIST: &str = include_str!("fideslang_categories.txt");
/// The data subjects, as shipped.
const SUBJECTS: &str = include_str!("fideslang_subjects.txt");

/// The fideslang version the list was taken from.
pub const FIDESLANG_VERSION: &str = "3.1.4";

/// Every data category, in the taxonomy's order.
pub fn categories() -> impl Iterator<Item = &'static str> {
    keys(LIST)
}

/// Every data subject (`patient`, `customer`, `employee`, …), in the taxonomy's order.
pub fn subjects() -> impl Iterator<Item = &'static str> {
    keys(SUBJECTS)
}

/// Whether `key` is a fideslang data subject.
pub fn is_subject(key: &str) -> bool {
    subjects().any(|s| s == key)
}

fn keys(list: &'static str) -> impl Iterator<Item = &'static str> {
    list.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
}

/// Whether `key` is a fideslang data category.
pub fn is_category(key: &str) -> bool {
    categories().any(|c| c == key)
}

/// The known category closest to `key`: the same last segment under another parent first,
/// else the smallest edit distance (if it is small enough to be a typo).
pub fn nearest(key: &str) -> Option<&'static str> {
    let last = key.rsplit('.').next().unwrap_or(key);
    if let Some(c) = categories().find(|c| c.rsplit('.').next() == Some(last)) {
        return Some(c);
    }
    let (best, distance) = categories()
        .map(|c| (c, edit_distance(key, c)))
        .min_by_key(|&(_, d)| d)?;
    (distance <= key.len().max(4) / 3).then_some(best)
}

/// Levenshtein distance over characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_holds_the_default_taxonomy_and_its_version() {
        assert_eq!(categories().count(), 85);
        assert!(is_category("user.contact.email"));
        assert!(is_category("user.health_and_medical"));
        assert!(is_category("user.financial.bank_account"));
        assert!(!is_category("user.contact.emial"));
        assert!(LIST.contains(&format!("fideslang {FIDESLANG_VERSION} ")));
        assert!(SUBJECTS.contains(&format!("fideslang {FIDESLANG_VERSION} ")));
        assert_eq!(subjects().count(), 15);
        assert!(is_subject("patient") && is_subject("customer") && !is_subject("patients"));
    }

    #[test]
    fn a_misspelt_category_gets_the_nearest_name() {
        assert_eq!(nearest("user.contact.emial"), Some("user.contact.email"));
        assert_eq!(nearest("user.email"), Some("user.contact.email"));
        assert_eq!(
            nearest("user.health_and_medicl"),
            Some("user.health_and_medical")
        );
        assert_eq!(nearest("completely.unrelated.thing"), None);
    }
}
