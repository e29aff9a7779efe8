//! [`LogStore`] for [`SqliteStore`]: each method handed to the module that owns its tables.
//! The one thing decided here is that the writer's append holds the commit gate.

use evident_ledger::audit::StoredCheckpoint;

use evident_core::store::{
    ApiKeyRecord, AppendOutcome, BreakGlassRecord, ConsentRecord, ControlStatusRecord, EventQuery,
    LogStore, NewEntry, ResealFn, ScanVisitor, StoredEntry, StoredKeyVersion, StoredPersonal,
    StoredPolicyVersion, StoredToken, TokenInsert,
};
use evident_core::Result;

use crate::backend::{hold, SqliteStore};
use crate::{
    apikeys, consent, controls, entries, keys, meta, personal, policy, query, scan, tokens,
};

impl LogStore for SqliteStore {
    fn meta(&self, key: &str) -> Result<Option<String>> {
        meta::meta(&self.conn, key)
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        meta::set_meta(&mut self.conn, key, value)
    }

    fn size(&self) -> Result<u64> {
        entries::size(&self.conn)
    }

    fn leaf_hashes(
        &self,
        from: u64,
        to: u64,
        f: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        entries::leaf_hashes(&self.conn, from, to, f)
    }

    fn append(
        &mut self,
        base: u64,
        entries: &[NewEntry<'_>],
        checkpoint: &StoredCheckpoint,
    ) -> Result<AppendOutcome> {
        let gate = self.commit_gate.clone();
        let _committing = gate.as_deref().map(hold);
        entries::append(&mut self.conn, base, entries, checkpoint)
    }

    fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        entries::latest_checkpoint(&self.conn)
    }

    fn checkpoint_covering(&self, size: u64) -> Result<Option<StoredCheckpoint>> {
        entries::checkpoint_covering(&self.conn, size)
    }

    fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>> {
        entries::checkpoints(&self.conn)
    }

    fn entry(&self, index: u64) -> Result<Option<StoredEntry>> {
        entries::entry(&self.conn, index)
    }

    fn entries(&self, from: u64, to: u64) -> Result<Vec<StoredEntry>> {
        entries::entries(&self.conn, from, to)
    }

    fn scan_range(&self, from: u64, to: u64, f: &mut ScanVisitor<'_>) -> Result<()> {
        scan::scan_range(&self.conn, from, to, f)
    }

    fn stray_entry(&self) -> Result<Option<i64>> {
        scan::stray_entry(&self.conn)
    }

    fn orphan_personal(&self, size: u64) -> Result<Option<(i64, String)>> {
        scan::orphan_personal(&self.conn, size)
    }

    fn query(&self, q: &EventQuery) -> Result<Vec<StoredEntry>> {
        query::query(&self.conn, q)
    }

    fn personal_of(&self, index: u64) -> Result<Vec<StoredPersonal>> {
        personal::personal_of(&self.conn, index)
    }

    fn erase_subject(&mut self, subject: &str) -> Result<u64> {
        personal::erase_subject(&mut self.conn, subject)
    }

    fn purge_personal(&mut self, action: &str, before_us: i64) -> Result<u64> {
        personal::purge_personal(&mut self.conn, action, before_us)
    }

    fn insert_key_version(&mut self, name: &str, wrapped: &[u8], created_us: i64) -> Result<u32> {
        keys::insert_key_version(&mut self.conn, name, wrapped, created_us)
    }

    fn key_versions(&self, name: &str) -> Result<Vec<StoredKeyVersion>> {
        keys::key_versions(&self.conn, name)
    }

    fn key_names(&self) -> Result<Vec<String>> {
        keys::key_names(&self.conn)
    }

    fn set_key_state(&mut self, name: &str, version: u32, state: &str) -> Result<bool> {
        keys::set_key_state(&mut self.conn, name, version, state)
    }

    fn destroy_key_version(&mut self, name: &str, version: u32) -> Result<bool> {
        keys::destroy_key_version(&mut self.conn, name, version)
    }

    fn reserve_key_uses(&mut self, name: &str, version: u32, uses: u64) -> Result<u64> {
        keys::reserve_key_uses(&mut self.conn, name, version, uses)
    }

    fn set_key_regulated(&mut self, name: &str, regulated: bool) -> Result<()> {
        keys::set_key_regulated(&mut self.conn, name, regulated)
    }

    fn regulated_keys(&self) -> Result<Vec<String>> {
        keys::regulated_keys(&self.conn)
    }

    fn reseal_personal(&mut self, seal: &mut ResealFn<'_>) -> Result<u64> {
        personal::reseal_personal(&mut self.conn, seal)
    }

    fn init_meta(&mut self, key: &str, value: &str) -> Result<String> {
        meta::init_meta(&mut self.conn, key, value)
    }

    fn insert_tokens(&mut self, tokens: &[StoredToken]) -> Result<Vec<TokenInsert>> {
        tokens::insert_tokens(&mut self.conn, tokens)
    }

    fn token_by_index(&self, format: &str, keep: &str, pan_index: &[u8]) -> Result<Option<String>> {
        tokens::token_by_index(&self.conn, format, keep, pan_index)
    }

    fn token(&self, token: &str) -> Result<Option<StoredToken>> {
        tokens::token(&self.conn, token)
    }

    fn token_counts(&self) -> Result<Vec<(String, String, u64)>> {
        tokens::token_counts(&self.conn)
    }

    fn insert_policy_version(&mut self, v: &StoredPolicyVersion) -> Result<()> {
        policy::insert_policy_version(&mut self.conn, v)
    }

    fn policy_version(&self, version: u64) -> Result<Option<StoredPolicyVersion>> {
        policy::policy_version(&self.conn, version)
    }

    fn policy_versions(&self) -> Result<Vec<StoredPolicyVersion>> {
        policy::policy_versions(&self.conn)
    }

    fn insert_break_glass(&mut self, r: &BreakGlassRecord) -> Result<()> {
        policy::insert_break_glass(&mut self.conn, r)
    }

    fn break_glass(&self, open_only: bool) -> Result<Vec<BreakGlassRecord>> {
        policy::break_glass(&self.conn, open_only)
    }

    fn close_break_glass(
        &mut self,
        id: &str,
        reviewer: &str,
        outcome: &str,
        note: &str,
        at_us: i64,
    ) -> Result<bool> {
        policy::close_break_glass(&mut self.conn, id, reviewer, outcome, note, at_us)
    }

    fn insert_api_key(&mut self, key: &ApiKeyRecord) -> Result<()> {
        apikeys::insert_api_key(&mut self.conn, key)
    }

    fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>> {
        apikeys::api_key(&self.conn, id)
    }

    fn api_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        apikeys::api_keys(&self.conn)
    }

    fn revoke_api_key(&mut self, id: &str, at_us: i64) -> Result<bool> {
        apikeys::revoke_api_key(&mut self.conn, id, at_us)
    }

    fn record_api_key_use(&mut self, id: &str, at_us: i64) -> Result<()> {
        apikeys::record_api_key_use(&mut self.conn, id, at_us)
    }

    fn api_key_uses(&self) -> Result<Vec<(String, i64)>> {
        apikeys::api_key_uses(&self.conn)
    }

    fn put_control_status(&mut self, status: &ControlStatusRecord) -> Result<bool> {
        controls::put_control_status(&mut self.conn, status)
    }

    fn control_status(&self, control: &str) -> Result<Option<ControlStatusRecord>> {
        controls::control_status(&self.conn, control)
    }

    fn control_statuses(&self) -> Result<Vec<ControlStatusRecord>> {
        controls::control_statuses(&self.conn)
    }

    fn put_consent(&mut self, record: &ConsentRecord) -> Result<bool> {
        consent::put_consent(&mut self.conn, record)
    }

    fn consent(&self, subject: &str, purpose: &str) -> Result<Option<ConsentRecord>> {
        consent::consent(&self.conn, subject, purpose)
    }

    fn consents_of(&self, subject: &str) -> Result<Vec<ConsentRecord>> {
        consent::consents_of(&self.conn, subject)
    }

    fn consent_history(&self, subject: &str, purpose: &str) -> Result<Vec<ConsentRecord>> {
        consent::consent_history(&self.conn, subject, purpose)
    }
}
