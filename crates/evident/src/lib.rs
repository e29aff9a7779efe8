//! # evident
//!
//! The Evident compliance engine: the audit event schema, storage, and the sequencer that
//! turns events into entries of the evidence ledger ([`evident_ledger`]).
//!
//! [`Engine`] is the facade: open a data directory, append events, read and query them,
//! prove inclusion and consistency, serve tiles, verify the whole log, erase a person's data,
//! manage API keys. The HTTP server and the CLI are thin layers over it.
//!
//! ```
//! # fn main() -> Result<(), evident::Error> {
//! let dir = tempfile::tempdir().unwrap();
//! let engine = evident::Engine::open(dir.path(), true)?;
//! let event = evident::AuditEvent::from_json(serde_json::json!({
//!     "actor": {"id": "alice", "ip": "192.0.2.7"},
//!     "action": "record.read",
//!     "resource": {"type": "patient_record", "id": "p-1"},
//!     "outcome": "success"
//! }))?;
//! let receipt = engine.append_blocking(vec![event])?;
//! assert_eq!(receipt.receipts[0].index, 0);
//! assert_eq!(engine.verify(|_| {})?.entries, 1);
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod backup;
pub mod datadir;

pub use evident_access as access;
pub use evident_controls as controls;
pub use evident_core::{apikey, canonical, event, intake, objects, personal, redaction, sequencer};
pub use evident_crypto as crypto;
pub use evident_privacy as privacy;
pub use evident_privacy::ErasureReport;

/// Storage: the core's one trait ([`evident_core::store`]) and the embedded backend.
pub mod store {
    pub use evident_core::store::*;
    pub use evident_store_sqlite as sqlite;
}

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use evident_ledger::tiles::TilePath;
use evident_ledger::tlog_proof::TlogProof;
use evident_ledger::Hash;

pub use apikey::{ApiKey, NewApiKey, Role};
pub use event::{AuditEvent, PreparedEntry};
pub use evident_core::log::{EventRecord, InclusionProof, Page};
pub use evident_core::verify::{verify_store, verify_store_sealed, VerifyReport};
pub use evident_core::{Error, Result};
pub use sequencer::{BatchReceipt, Receipt, SignedCheckpoint};

use evident_core::recorder::{Appending, PooledStore, Recorder};
use sequencer::Sequencer;
use store::sqlite::{SqliteBackend, SqliteStore};
use store::{ApiKeyRecord, EventQuery, LogStore};

pub use evident_core::intake::MAX_BATCH_EVENTS;

/// The TLS versions `evident serve` offers when it serves TLS (its rustls configuration in
/// the server's `tls.rs`), newest first, as policy documents name them.
pub const SERVED_TLS_VERSIONS: [&str; 2] = ["TLS 1.3", "TLS 1.2"];

/// An open data directory with its sequencer running.
pub struct Engine {
    dir: PathBuf,
    origin: String,
    backend: SqliteBackend,
    readers: Mutex<Vec<SqliteStore>>,
    sequencer: Sequencer,
    indexer: Mutex<Option<store::sqlite::Indexer>>,
    redaction: redaction::EventRedactor,
    key_cache: crypto::keyring::KeyCache,
    pub(crate) access_state: access::AccessState,
    controls_state: controls::ControlsState,
    key_auth_cache: apikey::AuthCache,
    root: crypto::root::RootKey,
    pub(crate) token_keys: std::sync::OnceLock<Arc<crypto::tokens::VaultKeys>>,
    personal_seal: std::sync::OnceLock<Arc<personal::PersonalSeal>>,
}

/// The personal-data seal of a data directory, for verifying a copy of it without an engine
/// (opens the root key's provider from the environment when the values are sealed).
pub fn open_personal_seal(dir: &Path) -> Result<Option<personal::PersonalSeal>> {
    let store = datadir::connect_existing(dir)?;
    crypto::root::personal_seal_of(&*store, dir, &datadir::env_root())
}

/// A reader connection borrowed from the pool.
struct Reader<'a> {
    engine: &'a Engine,
    store: Option<SqliteStore>,
}

impl std::ops::Deref for Reader<'_> {
    type Target = SqliteStore;
    fn deref(&self) -> &SqliteStore {
        // Present from creation until drop.
        self.store.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl std::ops::DerefMut for Reader<'_> {
    fn deref_mut(&mut self) -> &mut SqliteStore {
        self.store.as_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let (Some(store), Ok(mut pool)) = (self.store.take(), self.engine.readers.lock()) {
            if pool.len() < 16 {
                pool.push(store);
            }
        }
    }
}

/// A pooled reader as the parts see a store: any [`LogStore`].
struct DynReader<'a>(Reader<'a>);

impl std::ops::Deref for DynReader<'_> {
    type Target = dyn LogStore;
    fn deref(&self) -> &(dyn LogStore + 'static) {
        &*self.0
    }
}

impl std::ops::DerefMut for DynReader<'_> {
    fn deref_mut(&mut self) -> &mut (dyn LogStore + 'static) {
        &mut *self.0
    }
}

/// The engine as its parts see it.
impl Recorder for Engine {
    fn append(&self, events: Vec<AuditEvent>) -> Appending<'_> {
        Box::pin(Engine::append(self, events))
    }

    fn append_blocking(&self, events: Vec<AuditEvent>) -> Result<BatchReceipt> {
        Engine::append_blocking(self, events)
    }

    fn connect_store(&self) -> Result<Box<dyn LogStore>> {
        Engine::connect_store(self)
    }

    fn pooled_store(&self) -> Result<PooledStore<'_>> {
        Engine::pooled_store(self)
    }

    fn snapshot_store(&self, into: &Path) -> Result<u64> {
        self.backend.snapshot_into(into)
    }

    fn redaction(&self) -> &redaction::EventRedactor {
        Engine::redaction(self)
    }

    fn dir(&self) -> &Path {
        Engine::dir(self)
    }

    fn origin(&self) -> &str {
        Engine::origin(self)
    }
}

impl Engine {
    /// Opens a data directory (creating it first if `create`) and starts the sequencer.
    pub fn open(dir: &Path, create: bool) -> Result<Self> {
        let root = datadir::env_root();
        if create {
            datadir::init_with(dir, None, &root)?;
        } else {
            datadir::existing_db(dir)?;
        }
        let signer = datadir::load_signer_with(dir, &root)?;
        let backend = SqliteBackend::open(&dir.join(datadir::DB_FILE))?;
        let writer = backend.connect_writer()?;
        datadir::check_store_origin(&writer, signer.name())?;
        let origin = signer.name().to_string();
        let redaction =
            redaction::EventRedactor::new(&datadir::load_redaction_key_with(dir, &root)?)?;
        let personal_seal = std::sync::OnceLock::new();
        if let Some(seal) = crypto::root::personal_seal_of(&writer, dir, &root)? {
            let _ = personal_seal.set(Arc::new(seal));
        }
        let sequencer = Sequencer::start(Box::new(writer), signer)?;
        let indexer = backend.start_indexer()?;
        let engine = Self {
            key_cache: crypto::keyring::KeyCache::default(),
            access_state: access::AccessState::default(),
            controls_state: controls::ControlsState::default(),
            key_auth_cache: apikey::AuthCache::default(),
            // A provider opened to unseal the directory's keys serves the keyring too.
            root: crypto::root::RootKey::from_opener(&root),
            token_keys: std::sync::OnceLock::new(),
            personal_seal,
            redaction,
            indexer: Mutex::new(Some(indexer)),
            dir: dir.to_path_buf(),
            origin,
            backend,
            readers: Mutex::new(Vec::new()),
            sequencer,
        };
        // A consent change logged by a process that died before writing its row gets the
        // row now, before anything reads consent. A repair that cannot write (a full disk)
        // must not keep the engine from opening to serve reads: it is tried again at the
        // next open, since its high-water mark did not move.
        if let Err(e) = engine.consent().repair(engine.log().size()) {
            tracing::warn!(error = %e, "consent rows could not be checked against the ledger; retried at the next open");
        }
        Ok(engine)
    }

    /// A connection from the engine's pool (for the token vault's reads and writes, which
    /// are too frequent to open a connection each).
    pub(crate) fn pooled_store(&self) -> Result<PooledStore<'_>> {
        Ok(Box::new(DynReader(self.reader()?)))
    }

    /// The access part: decisions, policy packs, break-glass, reviews.
    pub fn access(&self) -> access::Access<'_> {
        access::Access::new(self, &self.access_state)
    }

    /// The controls part: the catalog, checks run against this engine, status, history.
    pub fn controls(&self) -> controls::Controls<'_> {
        controls::Controls::new(
            self,
            self.access(),
            self.log(),
            &self.controls_state,
            controls::HostFacts {
                own_keys_sealed: datadir::keys_sealed(&self.dir),
            },
        )
    }

    /// What the controls part's policy documents read that only the facade knows: the TLS
    /// versions `evident serve` offers ([`SERVED_TLS_VERSIONS`]) and the active data map's
    /// retention periods (a map that does not read is named as the reason they are absent).
    pub fn policy_inputs(&self) -> controls::policy_docs::PolicyInputs {
        let mut inputs = controls::policy_docs::PolicyInputs {
            tls_versions: SERVED_TLS_VERSIONS.iter().map(|v| v.to_string()).collect(),
            ..Default::default()
        };
        match privacy::datamap::store::MapStore::new(&self.dir).load_active() {
            Ok(Some(map)) => {
                let rows = map
                    .systems
                    .iter()
                    .flat_map(|system| {
                        system
                            .tables
                            .iter()
                            .map(|t| controls::policy_docs::RetentionRow {
                                system: system.name.clone(),
                                table: t.name.clone(),
                                retention: t.retention.to_string(),
                                runs_from: t.retention_from.clone().unwrap_or_default(),
                                purpose: t.purpose.clone(),
                                lawful_basis: t.lawful_basis.name().to_string(),
                            })
                    })
                    .collect();
                inputs.data_map = Some((map.hash, rows));
            }
            Ok(None) => {}
            Err(e) => inputs.data_map_problem = Some(e.to_string()),
        }
        inputs
    }

    /// The record of processing activities (GDPR Art. 30) of `map`, as of `now_us`: the map,
    /// the consent purposes the ledger holds, and the live standing of every control that the
    /// catalog maps to GDPR Art. 32 (the security measures).
    pub fn record_of_processing(
        &self,
        map: &privacy::datamap::DataMap,
        now_us: i64,
    ) -> Result<privacy::ropa::Record> {
        let controls = self.controls();
        let catalog = controls.catalog()?;
        let security: std::collections::BTreeSet<&str> = catalog
            .controls
            .iter()
            .filter(|c| {
                c.frameworks
                    .get("gdpr")
                    .is_some_and(|reqs| reqs.iter().any(|r| r == "Art.32"))
            })
            .map(|c| c.id.as_str())
            .collect();
        let measures: Vec<privacy::ropa::Measure> = controls
            .status(now_us)?
            .into_iter()
            .filter(|s| security.contains(s.control.as_str()))
            .map(|s| privacy::ropa::Measure {
                result: s.shown_result(),
                control: s.control,
                title: s.title,
                checked: s.checked,
            })
            .collect();
        let consent = privacy::ropa::consent_purposes(&self.log())?;
        Ok(privacy::ropa::build(
            map,
            &consent,
            &measures,
            &event::format_time(now_us),
        ))
    }

    fn reader(&self) -> Result<Reader<'_>> {
        let pooled = self.readers.lock().ok().and_then(|mut p| p.pop());
        let store = match pooled {
            Some(store) => store,
            None => self.backend.connect()?,
        };
        Ok(Reader {
            engine: self,
            store: Some(store),
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The log's origin line (also its key name).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The C2SP verifier key (`name+hex8+base64`) auditors check checkpoints with.
    pub fn verifier_key(&self) -> String {
        self.sequencer.shared.verifier.to_key_string()
    }

    /// The number of durable, signed entries.
    pub fn size(&self) -> u64 {
        self.sequencer.shared.committed.load(Ordering::Acquire)
    }

    /// Redacts, validates and encodes events, all or none; answers how many values were
    /// redacted (see [`redaction`]).
    pub fn prepare(&self, events: &[AuditEvent]) -> Result<(Vec<PreparedEntry>, usize)> {
        intake::prepare_batch(&self.redaction, self.personal_seal(), events)
    }

    /// The keyring with the root-key provider `EVIDENT_KEY_PROVIDER` names (see
    /// [`crypto::provider_from_env`]; `local` by default); the provider is opened once per
    /// engine, and a missing root key is made if `create`.
    pub fn keyring(&self, create: bool) -> Result<crypto::keyring::Keyring<'_>> {
        let provider = self.root.open(self, create)?;
        Ok(crypto::keyring::Keyring::new(self.key_host(), provider))
    }

    /// The card-token vault over this engine's keyring (see [`crypto::tokens`]).
    pub fn token_vault(&self, create: bool) -> Result<crypto::tokens::TokenVault<'_>> {
        crypto::tokens::TokenVault::open(
            self.key_host(),
            self.access(),
            self.keyring(create)?,
            &self.token_keys,
        )
    }

    /// Records which provider wraps this directory's keys (on first use) and refuses another:
    /// its wrapped keys would not open, and the message says which provider to configure.
    pub fn check_provider(&self, provider: &dyn crypto::KeyProvider) -> Result<()> {
        crypto::root::check_provider(self, provider)
    }

    /// Seals this directory's own keys (`signing.key`, `redaction.key`) with the root key of
    /// the configured provider (made if missing), so that they are unreadable without it; logged
    /// as `evident.keys.sealed`. Answers the files sealed now.
    pub fn seal_own_keys(&self, actor: &str) -> Result<Vec<&'static str>> {
        let keyring = self.keyring(true)?;
        let provider = self
            .root
            .get()
            .ok_or_else(|| Error::Crypto("no root key".into()))?;
        crypto::root::seal_directory(
            self,
            &provider,
            &keyring.provider(),
            &self.personal_seal,
            actor,
        )
    }

    /// The keyring if its root-key provider is already open (never opens one: opening may
    /// stretch a passphrase or call a KMS, which an async caller must not wait for inline).
    pub fn keyring_if_open(&self) -> Option<crypto::keyring::Keyring<'_>> {
        self.root
            .get()
            .map(|p| crypto::keyring::Keyring::new(self.key_host(), p))
    }

    /// Uses `provider` for the root key from now on (before the first [`Engine::keyring`]);
    /// answers false if a provider was already in use.
    pub fn set_key_provider(&self, provider: Arc<dyn crypto::KeyProvider>) -> bool {
        self.root.set(provider)
    }

    /// The keyring over a provider the caller chose (tests, other drivers).
    pub fn keyring_with(
        &self,
        provider: Arc<dyn crypto::KeyProvider>,
    ) -> crypto::keyring::Keyring<'_> {
        crypto::keyring::Keyring::new(self.key_host(), provider)
    }

    /// Whether decrypting with the key `name` needs an access decision (see
    /// [`crypto::keyring::Keyring::classify`]); needs no root key.
    pub fn key_is_regulated(&self, name: &str) -> Result<bool> {
        self.key_host().key_is_regulated(name)
    }

    /// The engine as the crypto part sees it.
    fn key_host(&self) -> crypto::host::KeyHost<'_> {
        crypto::host::KeyHost::new(self, &self.key_cache)
    }

    pub(crate) fn connect_store(&self) -> Result<Box<dyn LogStore>> {
        Ok(Box::new(self.backend.connect()?))
    }

    /// The engine's redactor: built-in rules and this data directory's pseudonym key.
    pub fn redaction(&self) -> &redaction::EventRedactor {
        &self.redaction
    }

    /// Appends events; answers once they are durable and covered by a signed checkpoint.
    pub async fn append(&self, events: Vec<AuditEvent>) -> Result<BatchReceipt> {
        let (prepared, redacted) = self.prepare(&events)?;
        let mut receipt = self.sequencer.append(prepared).await?;
        receipt.redacted = redacted;
        Ok(receipt)
    }

    /// [`Engine::append`] outside an async runtime.
    pub fn append_blocking(&self, events: Vec<AuditEvent>) -> Result<BatchReceipt> {
        let (prepared, redacted) = self.prepare(&events)?;
        let mut receipt = self.sequencer.append_blocking(prepared)?;
        receipt.redacted = redacted;
        Ok(receipt)
    }

    /// This directory's personal-data seal, once its personal values are sealed.
    fn personal_seal(&self) -> Option<&personal::PersonalSeal> {
        self.personal_seal.get().map(|s| &**s)
    }

    /// Appends already prepared entries.
    pub async fn append_prepared(&self, mut entries: Vec<PreparedEntry>) -> Result<BatchReceipt> {
        intake::seal_personal(self.personal_seal(), &mut entries)?;
        self.sequencer.append(entries).await
    }

    /// [`Engine::append_prepared`] outside an async runtime.
    pub fn append_prepared_blocking(
        &self,
        mut entries: Vec<PreparedEntry>,
    ) -> Result<BatchReceipt> {
        intake::seal_personal(self.personal_seal(), &mut entries)?;
        self.sequencer.append_blocking(entries)
    }

    /// The log: reads, queries, proofs, tiles and full verification.
    pub fn log(&self) -> evident_core::log::Log<'_> {
        evident_core::log::Log::new(self, &self.sequencer.shared, self.personal_seal())
    }

    /// One event by index; see [`evident_core::log::Log::event`].
    pub fn event(&self, index: u64, reveal: bool) -> Result<EventRecord> {
        self.log().event(index, reveal)
    }

    /// The exact bytes of entry `index`; see [`evident_core::log::Log::entry_bytes`].
    pub fn entry_bytes(&self, index: u64) -> Result<Vec<u8>> {
        self.log().entry_bytes(index)
    }

    /// One page of events matching `query`; see [`evident_core::log::Log::query`].
    pub fn query(&self, query: &EventQuery) -> Result<Page> {
        self.log().query(query)
    }

    /// The latest signed checkpoint.
    pub fn checkpoint(&self) -> Option<Arc<SignedCheckpoint>> {
        self.log().checkpoint()
    }

    /// See [`evident_core::log::Log::inclusion_proof`].
    pub fn inclusion_proof(&self, index: u64, size: Option<u64>) -> Result<InclusionProof> {
        self.log().inclusion_proof(index, size)
    }

    /// See [`evident_core::log::Log::consistency_proof`].
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>> {
        self.log().consistency_proof(first, second)
    }

    /// See [`evident_core::log::Log::tlog_proof`].
    pub fn tlog_proof(&self, index: u64) -> Result<TlogProof> {
        self.log().tlog_proof(index)
    }

    /// See [`evident_core::log::Log::tile`].
    pub fn tile(&self, path: &TilePath) -> Result<Vec<u8>> {
        self.log().tile(path)
    }

    /// See [`evident_core::log::Log::verify`].
    pub fn verify(&self, progress: impl FnMut(u64)) -> Result<VerifyReport> {
        self.log().verify(progress)
    }

    /// The privacy part: erasure of a data subject.
    pub fn privacy(&self) -> privacy::Privacy<'_> {
        privacy::Privacy::new(self.key_host())
    }

    /// Data-subject requests: open, verify, approve or deny, extend, run over the data map's
    /// systems and this ledger, status (see [`privacy::dsr`]).
    pub fn dsr(&self) -> privacy::dsr::Dsr<'_> {
        privacy::dsr::Dsr::new(self.key_host(), self.log(), &self.dir)
    }

    /// The consent part: grants, withdrawals, GPC opt-outs, current state, history, import.
    pub fn consent(&self) -> privacy::consent::Consent<'_> {
        privacy::consent::Consent::new(self.key_host())
    }

    /// The legal holds: placed, lifted and folded back from the ledger.
    pub fn holds(&self) -> privacy::holds::Holds<'_> {
        privacy::holds::Holds::new(self.key_host(), self.log())
    }

    /// Retention purges over the data map's systems, legal holds permitting, each logged as
    /// `evident.privacy.retention.*` (see [`privacy::retention`]).
    pub fn retention(&self) -> privacy::retention::Retention<'_> {
        privacy::retention::Retention::new(self.key_host(), self.log())
    }

    /// Destroys every stored personal value of `subject` and logs the erasure; see
    /// [`privacy::Privacy::erase_subject`].
    pub fn erase_subject(&self, subject: &str, actor: &str) -> Result<ErasureReport> {
        self.privacy().erase_subject(subject, actor)
    }

    /// API keys: create, revoke, list, authenticate.
    pub fn apikeys(&self) -> apikey::ApiKeys<'_> {
        apikey::ApiKeys::new(self, &self.key_auth_cache)
    }

    /// Creates an API key and logs its creation; see [`apikey::ApiKeys::create`].
    pub fn create_api_key(
        &self,
        role: Role,
        label: Option<&str>,
        actor: &str,
    ) -> Result<NewApiKey> {
        self.apikeys().create(role, label, actor)
    }

    /// Revokes an API key and logs the revocation; see [`apikey::ApiKeys::revoke`].
    pub fn revoke_api_key(&self, id: &str, actor: &str) -> Result<()> {
        self.apikeys().revoke(id, actor)
    }

    /// All API keys (without secrets).
    pub fn api_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        self.apikeys().list()
    }

    /// Checks a bearer token; see [`apikey::ApiKeys::authenticate`].
    pub fn authenticate(&self, token: &str) -> Result<Option<ApiKey>> {
        self.apikeys().authenticate(token)
    }

    /// Stops the sequencer after the queued appends.
    pub fn shutdown(&self) {
        self.sequencer.shutdown();
        if let Ok(mut indexer) = self.indexer.lock() {
            indexer.take();
        }
    }

    /// Brings the query indexes up to the log now, in this thread (the background indexer
    /// does this continuously); returns how many entries were indexed.
    pub fn index_now(&self) -> Result<u64> {
        let store = self.backend.connect()?;
        let mut total = 0u64;
        loop {
            match store.index_pending()? {
                0 => return Ok(total),
                n => total += n as u64,
            }
        }
    }
}

/// Re-exported for callers that build their own queries.
pub use store::EventQuery as Query;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Verification in small segments (many per worker, checkpoints inside them, faults on
    /// their edges) names what verification in one segment names, for each kind of damage.
    #[test]
    fn small_segments_find_what_one_segment_finds() {
        let damages = [
            "",
            "DELETE FROM entries WHERE idx = 77;",
            "DELETE FROM entries WHERE idx BETWEEN 32 AND 47;",
            "DELETE FROM entries WHERE idx = 15;",
            "DELETE FROM entries WHERE idx >= 250;",
            "UPDATE entries SET data = CAST(replace(CAST(data AS TEXT), 'p-42\"', 'p-43\"') AS BLOB) WHERE idx = 42;",
            "UPDATE entries SET idx = -1 WHERE idx = 10; UPDATE entries SET idx = 10 WHERE idx = 11;
             UPDATE entries SET idx = 11 WHERE idx = -1;",
            "UPDATE entries SET leaf = x'00' WHERE idx = 16;",
            "UPDATE personal SET value = '\"198.51.100.9\"' WHERE idx = 5;",
            "UPDATE personal SET value = '\"198.51.100.9\"' WHERE idx = 200;
             DELETE FROM entries WHERE idx = 240;",
            "INSERT INTO personal SELECT idx + 1000, path, subject, salt, value FROM personal WHERE idx = 3;",
            "INSERT INTO personal SELECT -2, path, subject, salt, value FROM personal WHERE idx = 3;",
            "INSERT INTO entries SELECT -7, leaf, data, time_us, received_us, actor, action, rtype, rid, outcome FROM entries WHERE idx = 3;",
        ];
        for damage in damages {
            let dir = tempfile::tempdir().unwrap();
            let engine = Engine::open(dir.path(), true).unwrap();
            for chunk in (0..300u64).collect::<Vec<_>>().chunks(100) {
                let events = chunk
                    .iter()
                    .map(|&i| {
                        AuditEvent::from_json(json!({
                            "actor": {"id": "alice", "ip": format!("192.0.2.{}", i % 200)},
                            "action": "record.read",
                            "resource": {"type": "patient_record", "id": format!("p-{i}")},
                            "outcome": "success",
                            "metadata": {"n": i, "pad": "x".repeat(i as usize % 97)},
                        }))
                        .unwrap()
                    })
                    .collect();
                engine.append_blocking(events).unwrap();
            }
            engine.shutdown();
            drop(engine);
            let db = dir.path().join("evident.db");
            rusqlite::Connection::open(&db)
                .unwrap()
                .execute_batch(damage)
                .unwrap();
            let backend = SqliteBackend::open(&db).unwrap();
            let verifier = datadir::load_signer(dir.path()).unwrap().verifier();
            let connect = || -> Result<Box<dyn LogStore>> { Ok(Box::new(backend.connect()?)) };
            let outcome = |capacity| {
                evident_core::verify::verify_in_segments(
                    connect,
                    &verifier,
                    None,
                    capacity,
                    &mut |_| {},
                )
                .map(|r| (r.entries, r.bytes, r.checkpoints, r.personal, r.root))
                .map_err(|e| e.to_string())
            };
            let whole = outcome(evident_ledger::audit::SEGMENT_CAPACITY);
            assert_eq!(outcome(16), whole, "{damage}");
            assert_eq!(outcome(1), whole, "{damage}");
            assert_eq!(whole.is_ok(), damage.is_empty(), "{damage}: {whole:?}");
        }
    }
}
