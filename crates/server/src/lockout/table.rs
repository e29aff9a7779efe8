//! The lockout table: failed-login counters per credential, per credential at one client
//! address and per client address; the pauses and locks they set off; which addresses each
//! credential has authenticated from; and the bound on its size.
//!
//! One rule decides every request ([`LockoutTable::judge`]): a lock or pause in force on any
//! of the request's counters refuses it, whether its credential is right or wrong, except
//! that a credential's own lock and an address's lock are waived for a credential presented
//! from an address it has authenticated from before. The lock of that credential *at* that
//! address is never waived. So ten wrong secrets from anywhere lock a key everywhere but
//! where it is known to work, and ten from one of those places lock it there too.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use prometheus_client::metrics::gauge::Gauge;

use super::policy::LockoutPolicy;

/// How many addresses a credential is remembered to have authenticated from (the most
/// recent): enough for a service key shared by a fleet of replicas.
const KNOWN_ADDRESSES: usize = 64;

/// A credential failed logins are held against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Credential {
    /// an API key id as parsed from `evk_<id>_…`, whether or not such a key exists (so the
    /// answers never tell which ids exist)
    ApiKey(String),
    /// the subject of an OIDC token whose signature verified; a token that does not verify
    /// proves nothing about its `sub` and is held against its address only
    Subject(String),
}

impl Credential {
    /// `apikey:<id>` or `oidc:<sub>`, as the ledger names the actor elsewhere.
    pub(crate) fn label(&self) -> String {
        match self {
            Self::ApiKey(id) => format!("apikey:{id}"),
            Self::Subject(sub) => format!("oidc:{sub}"),
        }
    }

    /// The inverse of [`Credential::label`].
    pub(crate) fn from_label(label: &str) -> Option<Self> {
        if let Some(id) = label.strip_prefix("apikey:") {
            return Some(Self::ApiKey(id.to_string()));
        }
        label
            .strip_prefix("oidc:")
            .map(|sub| Self::Subject(sub.to_string()))
    }
}

/// A client's network: an IPv4 address, or the /64 an IPv6 address is in (one host's share
/// of IPv6, so rotating addresses inside it does not escape the address counter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ClientNet(IpAddr);

impl ClientNet {
    /// The network of a peer address (an IPv4-mapped IPv6 address counts as IPv4).
    pub(crate) fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V6(v6) => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                Self(IpAddr::V6(bits.into()))
            }
            v4 => Self(v4),
        }
    }

    /// The network's first address (what the ledger records as `actor.ip`).
    pub(crate) fn ip(self) -> IpAddr {
        self.0
    }
}

impl fmt::Display for ClientNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

/// What a counter counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Scope {
    /// every failure of one credential, from anywhere
    Credential(Credential),
    /// the failures of one credential from one address
    CredentialAt(Credential, ClientNet),
    /// every failure from one address, whatever it presented
    Address(ClientNet),
}

impl Scope {
    /// `credential`, `credential_at_address` or `address`, as the API and ledger name it.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Credential(_) => "credential",
            Self::CredentialAt(..) => "credential_at_address",
            Self::Address(_) => "address",
        }
    }

    /// The credential counted, if any.
    pub(crate) fn credential(&self) -> Option<&Credential> {
        match self {
            Self::Credential(c) | Self::CredentialAt(c, _) => Some(c),
            Self::Address(_) => None,
        }
    }

    /// The address counted, if any.
    pub(crate) fn address(&self) -> Option<ClientNet> {
        match self {
            Self::CredentialAt(_, a) | Self::Address(a) => Some(*a),
            Self::Credential(_) => None,
        }
    }

    /// Rebuilds a scope from its parts as the ledger records them.
    pub(crate) fn from_parts(
        kind: &str,
        credential: Option<Credential>,
        address: Option<ClientNet>,
    ) -> Option<Self> {
        match (kind, credential, address) {
            ("credential", Some(c), _) => Some(Self::Credential(c)),
            ("credential_at_address", Some(c), Some(a)) => Some(Self::CredentialAt(c, a)),
            ("address", _, Some(a)) => Some(Self::Address(a)),
            _ => None,
        }
    }

    /// Which of these goes first when the table is full of locks: an address's lock (an
    /// attacker with many addresses can make many), then a credential's at one address,
    /// then a credential's own.
    fn eviction_rank(&self) -> u8 {
        match self {
            Self::Address(_) => 2,
            Self::CredentialAt(..) => 3,
            Self::Credential(_) => 4,
        }
    }
}

/// A lock in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lock {
    /// its id, for the API and the ledger
    pub(crate) id: String,
    /// what is locked
    pub(crate) scope: Scope,
    /// the failures that set it off
    pub(crate) failures: u32,
    /// when it began, µs since the epoch
    pub(crate) locked_at_us: i64,
    /// when it ends unless lifted first, µs since the epoch
    pub(crate) until_us: i64,
    until: Instant,
}

impl Lock {
    /// How long it still lasts at `now`.
    pub(crate) fn remaining(&self, now: Instant) -> Duration {
        self.until.saturating_duration_since(now)
    }
}

/// One counter and what it has set off.
#[derive(Debug)]
struct Entry {
    failures: u32,
    window_start: Instant,
    touched: Instant,
    paused_until: Option<Instant>,
    /// boxed: most entries never lock, and the table is kept small
    lock: Option<Box<Lock>>,
    /// for a credential: the addresses it authenticated from, most recent last
    known: Vec<ClientNet>,
}

impl Entry {
    fn new(now: Instant) -> Self {
        Self {
            failures: 0,
            window_start: now,
            touched: now,
            paused_until: None,
            lock: None,
            known: Vec::new(),
        }
    }

    /// Ends an expired lock or pause, and forgets failures older than one lock duration.
    fn expire(&mut self, now: Instant, window: Duration) {
        if self.lock.as_ref().is_some_and(|l| l.until <= now) {
            self.lock = None;
            self.failures = 0;
        }
        if self.paused_until.is_some_and(|p| p <= now) {
            self.paused_until = None;
        }
        if self.lock.is_none() && now.saturating_duration_since(self.window_start) >= window {
            self.failures = 0;
            self.paused_until = None;
        }
    }

    /// How long this entry still refuses requests at `now`, and its lock's id.
    fn blocks(&self, now: Instant) -> Option<(Duration, Option<&str>)> {
        if let Some(lock) = &self.lock {
            return Some((lock.remaining(now), Some(lock.id.as_str())));
        }
        self.paused_until
            .filter(|p| *p > now)
            .map(|p| (p - now, None))
    }

    fn knows(&self, address: ClientNet) -> bool {
        self.known.contains(&address)
    }

    fn learn(&mut self, address: ClientNet) {
        if self.known.last() == Some(&address) {
            return; // the usual case: the same client again
        }
        self.known.retain(|a| *a != address);
        if self.known.len() == KNOWN_ADDRESSES {
            self.known.remove(0);
        }
        self.known.push(address);
    }
}

/// What the table says about one authentication attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// the credential is right and nothing holds it back
    Admit,
    /// refused whatever the credential: a lock or pause is in force for `retry_after`;
    /// `lock` names the lock, if it is one
    Blocked {
        retry_after: Duration,
        lock: Option<String>,
    },
    /// the credential is wrong, and the failure was counted; `pause` is how long its sender
    /// must now wait, `locked` the locks this failure set off (to record in the ledger)
    Counted {
        pause: Option<Duration>,
        locked: Vec<Lock>,
    },
}

/// The lockout state of one server, bounded by its policy's `max_tracked`.
pub(crate) struct LockoutTable {
    policy: LockoutPolicy,
    entries: Mutex<HashMap<Scope, Entry>>,
    next_id: AtomicU64,
    /// how many entries the table holds, kept current for `/metrics`
    tracked: Gauge,
}

impl LockoutTable {
    /// An empty table under `policy`, keeping its size in `tracked`.
    pub(crate) fn new(policy: LockoutPolicy, tracked: Gauge) -> Self {
        Self {
            policy,
            entries: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            tracked,
        }
    }

    /// The policy it enforces.
    pub(crate) fn policy(&self) -> &LockoutPolicy {
        &self.policy
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<Scope, Entry>> {
        // a panic elsewhere while holding the lock leaves consistent counters behind
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The failure limit of a scope; 0 when the policy counts no such failures.
    fn limit(&self, scope: &Scope) -> u32 {
        match scope {
            Scope::Address(_) => self.policy.address_max_attempts(),
            _ => self.policy.max_attempts(),
        }
    }

    /// The counters an attempt touches: the credential at its address, the credential, the
    /// address (`None` where the attempt has no such part).
    fn scopes(credential: Option<&Credential>, address: Option<ClientNet>) -> [Option<Scope>; 3] {
        [
            credential
                .zip(address)
                .map(|(c, a)| Scope::CredentialAt(c.clone(), a)),
            credential.map(|c| Scope::Credential(c.clone())),
            address.map(Scope::Address),
        ]
    }

    /// Judges an attempt by `credential` (if one could be told) from `address` (if known)
    /// that was `valid` or not, and counts it if it failed.
    pub(crate) fn judge(
        &self,
        credential: Option<&Credential>,
        address: Option<ClientNet>,
        valid: bool,
    ) -> Verdict {
        self.judge_at(credential, address, valid, Instant::now())
    }

    fn judge_at(
        &self,
        credential: Option<&Credential>,
        address: Option<ClientNet>,
        valid: bool,
        now: Instant,
    ) -> Verdict {
        let [at_address, of_credential, of_address] = Self::scopes(credential, address);
        let remembers = self.policy.max_attempts() > 0 || self.policy.address_max_attempts() > 0;
        if !remembers {
            return if valid {
                Verdict::Admit
            } else {
                Verdict::Counted {
                    pause: None,
                    locked: Vec::new(),
                }
            };
        }
        let window = self.policy.duration();
        let mut entries = self.entries();
        let known = match (&of_credential, address) {
            (Some(scope), Some(a)) => entries.get(scope).is_some_and(|e| e.knows(a)),
            _ => false,
        };
        let mut blocked: Option<(Duration, Option<String>)> = None;
        for (scope, waived) in [
            (&at_address, false),
            (&of_credential, known),
            (&of_address, known),
        ] {
            let Some(scope) = scope.as_ref().filter(|s| !waived && self.limit(s) > 0) else {
                continue;
            };
            let Some(entry) = entries.get_mut(scope) else {
                continue;
            };
            entry.expire(now, window);
            let Some((left, lock)) = entry.blocks(now) else {
                continue;
            };
            let lock = lock.map(str::to_string);
            blocked = match blocked {
                Some((longest, first)) => Some((longest.max(left), first.or(lock))),
                None => Some((left, lock)),
            };
        }
        if let Some((retry_after, lock)) = blocked {
            return Verdict::Blocked { retry_after, lock };
        }
        if valid {
            if let (Some(pair), Some(credential), Some(a)) = (at_address, of_credential, address) {
                // a success ends the run of failures of this credential at this address
                if entries.remove(&pair).is_some() {
                    self.tracked.dec();
                }
                let entry = self.entry(&mut entries, credential, now);
                entry.touched = now;
                entry.learn(a);
            }
            return Verdict::Admit;
        }
        let mut pause: Option<Duration> = None;
        let mut locked = Vec::new();
        for scope in [at_address, of_credential, of_address]
            .into_iter()
            .flatten()
        {
            let limit = self.limit(&scope);
            if limit == 0 {
                continue;
            }
            let entry = self.entry(&mut entries, scope.clone(), now);
            entry.expire(now, window);
            entry.touched = now;
            if entry.lock.is_some() {
                continue; // a lock waived for a known address; it already counts enough
            }
            if entry.failures == 0 {
                entry.window_start = now;
            }
            entry.failures += 1;
            if entry.failures >= limit {
                let lock = self.new_lock(scope, entry.failures, now);
                entry.lock = Some(Box::new(lock.clone()));
                entry.paused_until = None;
                pause = pause.max(Some(lock.remaining(now)));
                locked.push(lock);
            } else if let Some(p) = self.policy.pause_after(entry.failures, limit) {
                entry.paused_until = Some(now + p);
                pause = pause.max(Some(p));
            }
        }
        Verdict::Counted { pause, locked }
    }

    fn new_lock(&self, scope: Scope, failures: u32, now: Instant) -> Lock {
        let locked_at_us = evident::event::now_us();
        let duration = self.policy.duration();
        let seq = self.next_id.fetch_add(1, Ordering::Relaxed);
        Lock {
            id: format!("{locked_at_us:x}-{seq}"),
            scope,
            failures,
            locked_at_us,
            until_us: locked_at_us
                .saturating_add(i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)),
            until: now + duration,
        }
    }

    /// The entry of `scope`, made (and room made for it) if missing.
    fn entry<'m>(
        &self,
        entries: &'m mut HashMap<Scope, Entry>,
        scope: Scope,
        now: Instant,
    ) -> &'m mut Entry {
        if !entries.contains_key(&scope) {
            if entries.len() >= self.policy.max_tracked() {
                self.make_room(entries, now);
            }
            self.tracked
                .set(i64::try_from(entries.len() + 1).unwrap_or(i64::MAX));
        }
        entries.entry(scope).or_insert_with(|| Entry::new(now))
    }

    /// Forgets an eighth of the table: idle counters first (least recently seen first),
    /// then paused ones, then locks (addresses' first, soonest to end first). Forgetting in
    /// batches keeps the cost per new entry constant.
    fn make_room(&self, entries: &mut HashMap<Scope, Entry>, now: Instant) {
        let window = self.policy.duration();
        let mut ranked: Vec<((u8, Instant), Scope)> = entries
            .iter_mut()
            .map(|(scope, entry)| {
                entry.expire(now, window);
                let rank = match (&entry.lock, entry.paused_until) {
                    (Some(lock), _) => (scope.eviction_rank(), lock.until),
                    (None, Some(_)) => (1, entry.touched),
                    (None, None) => (0, entry.touched),
                };
                (rank, scope.clone())
            })
            .collect();
        let batch = (self.policy.max_tracked() / 8).max(1).min(ranked.len());
        if batch == 0 {
            return;
        }
        if batch < ranked.len() {
            ranked.select_nth_unstable_by(batch - 1, |a, b| a.0.cmp(&b.0));
        }
        let mut evicted_locks = 0usize;
        for (_, scope) in ranked.into_iter().take(batch) {
            if entries.remove(&scope).is_some_and(|e| e.lock.is_some()) {
                evicted_locks += 1;
            }
        }
        if evicted_locks > 0 {
            tracing::warn!(
                target: crate::error::LOG_TARGET,
                evicted_locks,
                max_tracked = self.policy.max_tracked(),
                "the lockout table is full of locks; the soonest-ending were forgotten"
            );
        }
    }

    /// The locks in force, oldest first.
    pub(crate) fn locks(&self) -> Vec<Lock> {
        let now = Instant::now();
        let mut locks: Vec<Lock> = self
            .entries()
            .values()
            .filter_map(|e| e.lock.as_deref().cloned())
            .filter(|l| l.until > now)
            .collect();
        locks.sort_by(|a, b| (a.locked_at_us, &a.id).cmp(&(b.locked_at_us, &b.id)));
        locks
    }

    /// The lock in force with this id.
    pub(crate) fn find(&self, id: &str) -> Option<Lock> {
        self.locks().into_iter().find(|l| l.id == id)
    }

    /// Lifts the lock with this id and clears its counter; the lock, if it was in force.
    pub(crate) fn unlock(&self, id: &str) -> Option<Lock> {
        let now = Instant::now();
        let mut entries = self.entries();
        let entry = entries
            .values_mut()
            .find(|e| e.lock.as_ref().is_some_and(|l| l.id == id && l.until > now))?;
        entry.failures = 0;
        entry.paused_until = None;
        entry.lock.take().map(|lock| *lock)
    }

    /// Puts back a lock recorded in the ledger by an earlier run, if it has not ended.
    pub(crate) fn restore(
        &self,
        id: String,
        scope: Scope,
        failures: u32,
        locked_at_us: i64,
        until_us: i64,
    ) -> bool {
        let left_us = until_us.saturating_sub(evident::event::now_us());
        if left_us <= 0 {
            return false;
        }
        let now = Instant::now();
        let until = now + Duration::from_micros(u64::try_from(left_us).unwrap_or(0));
        let mut entries = self.entries();
        let entry = self.entry(&mut entries, scope.clone(), now);
        entry.failures = failures;
        entry.lock = Some(Box::new(Lock {
            id,
            scope,
            failures,
            locked_at_us,
            until_us,
            until,
        }));
        true
    }

    /// How many counters the table holds now.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.entries().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> LockoutPolicy {
        LockoutPolicy::default().with_address_max_attempts(50)
    }

    fn key(id: &str) -> Credential {
        Credential::ApiKey(id.to_string())
    }

    fn net(last: u8) -> ClientNet {
        ClientNet::of(IpAddr::from([192, 0, 2, last]))
    }

    /// Fails `n` times, waiting out each pause, from `now`; returns the time after.
    fn fail(
        t: &LockoutTable,
        c: &Credential,
        a: ClientNet,
        n: u32,
        mut now: Instant,
    ) -> (Instant, Verdict) {
        let mut last = Verdict::Admit;
        for _ in 0..n {
            last = t.judge_at(Some(c), Some(a), false, now);
            if let Verdict::Counted {
                pause: Some(p),
                locked,
            } = &last
            {
                if locked.is_empty() {
                    now += *p; // wait out a pause, not a lock
                }
            }
        }
        (now, last)
    }

    #[test]
    fn ten_failures_lock_the_key_even_for_its_right_secret() {
        let t = LockoutTable::new(policy(), Gauge::default());
        let start = Instant::now();
        let (now, last) = fail(&t, &key("k1"), net(9), 9, start);
        assert!(matches!(last, Verdict::Counted { locked, .. } if locked.is_empty()));
        let Verdict::Counted { locked, pause } =
            t.judge_at(Some(&key("k1")), Some(net(9)), false, now)
        else {
            panic!("the tenth failure is counted")
        };
        assert_eq!(pause, Some(LockoutPolicy::default().duration()));
        let kinds: Vec<_> = locked.iter().map(|l| l.scope.kind()).collect();
        assert_eq!(kinds, ["credential_at_address", "credential"]);
        // locked: even the right secret is refused, from here and from anywhere new
        for a in [net(9), net(10)] {
            assert!(matches!(
                t.judge_at(Some(&key("k1")), Some(a), true, now),
                Verdict::Blocked { lock: Some(_), .. }
            ));
        }
        // another key from the same address is not affected
        assert_eq!(
            t.judge_at(Some(&key("k2")), Some(net(9)), true, now),
            Verdict::Admit
        );
        // until the lock ends
        let later = now + LockoutPolicy::default().duration();
        assert_eq!(
            t.judge_at(Some(&key("k1")), Some(net(10)), true, later),
            Verdict::Admit
        );
    }

    #[test]
    fn slowing_comes_before_the_lock() {
        let t = LockoutTable::new(policy(), Gauge::default());
        let now = Instant::now();
        let (now, _) = fail(&t, &key("k1"), net(1), 5, now);
        let Verdict::Counted { pause, locked } =
            t.judge_at(Some(&key("k1")), Some(net(1)), false, now)
        else {
            panic!()
        };
        assert_eq!((pause, locked.len()), (Some(Duration::from_secs(1)), 0));
        // during the pause, nothing is checked or counted
        let Verdict::Blocked { retry_after, lock } =
            t.judge_at(Some(&key("k1")), Some(net(1)), true, now)
        else {
            panic!("paused")
        };
        assert_eq!((retry_after, lock), (Duration::from_secs(1), None));
    }

    #[test]
    fn a_known_address_keeps_working_while_the_key_is_locked_elsewhere() {
        let t = LockoutTable::new(policy(), Gauge::default());
        let now = Instant::now();
        let home = net(1);
        assert_eq!(
            t.judge_at(Some(&key("k1")), Some(home), true, now),
            Verdict::Admit
        );
        // an attacker who learnt the key id fails ten times from two other places
        let (now, _) = fail(&t, &key("k1"), net(66), 5, now);
        let (now, _) = fail(&t, &key("k1"), net(67), 5, now);
        assert!(t
            .locks()
            .iter()
            .any(|l| l.scope == Scope::Credential(key("k1"))));
        // the key's own service, from where it always worked, is let through
        assert_eq!(
            t.judge_at(Some(&key("k1")), Some(home), true, now),
            Verdict::Admit
        );
        // but not a new place, even with the right secret
        assert!(matches!(
            t.judge_at(Some(&key("k1")), Some(net(2)), true, now),
            Verdict::Blocked { .. }
        ));
        // and ten wrong secrets from the known place lock it there too
        let (now, _) = fail(&t, &key("k1"), home, 10, now);
        assert!(matches!(
            t.judge_at(Some(&key("k1")), Some(home), true, now),
            Verdict::Blocked { .. }
        ));
    }

    #[test]
    fn an_address_lock_spares_credentials_known_there() {
        let t = LockoutTable::new(policy().with_address_max_attempts(4), Gauge::default());
        let now = Instant::now();
        let nat = net(1);
        assert_eq!(
            t.judge_at(Some(&key("svc")), Some(nat), true, now),
            Verdict::Admit
        );
        let mut now = now;
        for _ in 0..4 {
            if let Verdict::Counted {
                pause: Some(p),
                locked,
            } = t.judge_at(None, Some(nat), false, now)
            {
                if locked.is_empty() {
                    now += p;
                }
            }
        }
        assert!(t.locks().iter().any(|l| l.scope == Scope::Address(nat)));
        assert!(matches!(
            t.judge_at(None, Some(nat), false, now),
            Verdict::Blocked { .. }
        ));
        assert!(matches!(
            t.judge_at(Some(&key("new")), Some(nat), true, now),
            Verdict::Blocked { .. }
        ));
        assert_eq!(
            t.judge_at(Some(&key("svc")), Some(nat), true, now),
            Verdict::Admit
        );
    }

    #[test]
    fn unlocking_clears_the_counter() {
        let t = LockoutTable::new(policy(), Gauge::default());
        let (now, _) = fail(&t, &key("k1"), net(1), 10, Instant::now());
        for lock in t.locks() {
            assert_eq!(t.unlock(&lock.id).map(|l| l.id), Some(lock.id.clone()));
            assert!(t.unlock(&lock.id).is_none());
        }
        assert_eq!(
            t.judge_at(Some(&key("k1")), Some(net(1)), true, now),
            Verdict::Admit
        );
        assert!(matches!(
            t.judge_at(Some(&key("k1")), Some(net(1)), false, now),
            Verdict::Counted { pause: None, .. }
        ));
    }

    #[test]
    fn the_table_stays_bounded_and_keeps_its_locks() {
        let t = LockoutTable::new(policy().with_max_tracked(64), Gauge::default());
        let now = Instant::now();
        fail(&t, &key("victim"), net(1), 10, now);
        for i in 0..10_000u32 {
            let ip = IpAddr::from((0x0a00_0000 + i).to_be_bytes());
            t.judge_at(None, Some(ClientNet::of(ip)), false, now);
            assert!(t.tracked() <= 64);
        }
        assert!(t
            .locks()
            .iter()
            .any(|l| l.scope == Scope::Credential(key("victim"))));
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(ClientNet::of(a), ClientNet::of(b));
        assert_eq!(ClientNet::of(a).to_string(), "2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(ClientNet::of(mapped).to_string(), "192.0.2.7");
        assert_eq!(ClientNet::of(ClientNet::of(a).ip()), ClientNet::of(a));
    }

    #[test]
    fn a_disabled_policy_counts_nothing() {
        let t = LockoutTable::new(LockoutPolicy::danger_disabled(), Gauge::default());
        let (now, _) = fail(&t, &key("k1"), net(1), 100, Instant::now());
        assert_eq!(
            t.judge_at(Some(&key("k1")), Some(net(1)), true, now),
            Verdict::Admit
        );
        assert_eq!(t.tracked(), 0);
    }
}
