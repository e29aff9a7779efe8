//! The cases, and their one list: [`store_conformance!`](crate::store_conformance) turns it
//! into one `#[test]` per case in a backend's test crate, and into the registry that
//! [`run_case`] and [`run_all`] look cases up in. A case function left out of the list is
//! dead code, which the build refuses.

mod consent;
mod controls;
mod log;
mod personal;
mod query;
mod records;

use crate::fixture::Fixture;

/// Expands to one `#[test]` per conformance case, each running that case against a fresh
/// store from `$fresh`, a function (or closure) that makes one:
///
/// ```ignore
/// fn fresh() -> SqliteFixture { /* a new, empty database */ }
/// evident_store_conformance::store_conformance!(fresh);
/// ```
#[macro_export]
macro_rules! store_conformance {
    ($fresh:expr) => {
        $crate::store_conformance!(@each [@tests ($fresh)]);
    };
    // The one list of cases, as `group::case`, handed to one of the arms below.
    (@each [$($then:tt)*]) => {
        $crate::store_conformance!($($then)*
            log::a_fresh_store_is_empty
            log::appended_entries_read_back_as_stored
            log::an_append_at_a_stale_size_conflicts_and_stores_nothing
            log::a_failed_append_stores_nothing_and_the_store_stays_usable
            log::checkpoints_are_found_by_size
            log::what_was_committed_is_there_after_reopening
            personal::personal_values_are_kept_beside_their_entries
            personal::erasing_a_subject_removes_its_values_and_proofs_still_match
            personal::resealing_replaces_the_values_it_changes_or_none
            personal::purging_by_age_removes_values_of_one_action_and_proofs_still_match
            personal::a_scan_gives_each_entry_then_its_personal_values
            personal::a_scan_sees_an_append_beside_it_wholly_or_not_at_all
            query::queries_match_every_filter_in_both_orders
            query::queries_page_with_a_cursor
            records::meta_values_are_set_replaced_and_initialised_once
            records::api_keys_are_stored_listed_and_revoked_once
            records::key_versions_rotate_change_state_and_are_destroyed
            records::key_versions_made_at_once_from_several_connections_are_all_kept
            records::key_uses_are_reserved_and_keys_marked_regulated
            records::policy_versions_are_kept_and_the_newest_is_active
            records::break_glass_reviews_close_once
            records::tokens_are_unique_per_card_and_per_token
            controls::control_statuses_keep_the_latest_run
            controls::api_key_uses_only_move_forward
            consent::consent_keeps_every_change_and_the_newest_is_current
            consent::erasing_a_subject_removes_its_consent_records
        );
    };
    (@tests ($fresh:expr) $($group:ident :: $case:ident)*) => {
        $(
            #[test]
            fn $case() {
                $crate::run_case(stringify!($case), $fresh);
            }
        )*
    };
    (@registry $($group:ident :: $case:ident)*) => {
        /// Every case, by name.
        const CASES: &[Case] = &[$(Case { name: stringify!($case), run: $group::$case }),*];
    };
}

store_conformance!(@each [@registry]);

/// One case: it fails by panicking or by answering an error.
struct Case {
    name: &'static str,
    run: fn(&dyn Fixture) -> evident_core::Result<()>,
}

/// Runs the case called `name` against a fresh store from `fresh`; panics, naming the case,
/// if it fails. [`store_conformance!`](crate::store_conformance) calls this once per case.
pub fn run_case<F: Fixture>(name: &str, fresh: impl FnOnce() -> F) {
    let Some(case) = CASES.iter().find(|c| c.name == name) else {
        panic!("there is no conformance case `{name}`");
    };
    let fixture = fresh();
    if let Err(e) = (case.run)(&fixture) {
        panic!("conformance case `{name}` failed: {e}");
    }
}

/// Runs every case, each against a fresh store from `fresh`, in one test; panics at the
/// first that fails, naming it.
pub fn run_all<F: Fixture>(fresh: impl Fn() -> F) {
    for case in CASES {
        run_case(case.name, &fresh);
    }
}

#[cfg(test)]
mod tests {
    use super::CASES;

    /// A backend's test crate gets one function per case name: two cases of one name, in
    /// different groups, would not build there.
    #[test]
    fn every_case_has_a_name_of_its_own() {
        let mut names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CASES.len());
    }
}
