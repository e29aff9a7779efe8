//! Deciding the evaluations of a request: a small batch on the caller's thread, a large one
//! shared with helper threads started once per process, the verdicts back in the items'
//! order. Decisions are pure ([`crate::pdp::decide`]), so the order they are made in does
//! not change the answers; a part whose decision panics answers errors for its items.

use std::sync::Arc;

use crate::authzen::EvaluationRequest;
use crate::pack::CompiledPack;
use crate::pdp::{self, Verdict};
use evident_core::{Error, Result};

/// Items per thread below which a batch is decided on the caller's thread.
const PARALLEL_CHUNK: usize = 16;

/// One evaluation of a batch: well-formed, or the message saying why not.
type Item = std::result::Result<EvaluationRequest, String>;

fn decide_item(pack: &CompiledPack, item: &Item, now: i64) -> Result<Verdict> {
    match item {
        Ok(req) => pdp::decide(pack, req, now),
        Err(m) => Err(Error::BadRequest(m.clone())),
    }
}

/// The verdict of an item whose part of a batch panicked while being decided.
fn panicked() -> Error {
    Error::Integrity("a decision thread panicked".into())
}

/// Items a thread claims at a time from a large batch: small enough that a helper the host
/// does not run for a while holds back at most this many, large enough to cost little.
const CLAIM: usize = 8;

/// Threads that help decide large batches. They are started once per process: spawning
/// threads for every batch cost about a third of a 100-item batch's time on two cores.
struct DecisionHelpers {
    jobs: std::sync::mpsc::Sender<Box<dyn FnOnce() + Send>>,
}

impl DecisionHelpers {
    /// The process's helpers (one fewer than the cores), or `None` if they cannot be started.
    fn get(cores: usize) -> Option<&'static DecisionHelpers> {
        static HELPERS: std::sync::OnceLock<Option<DecisionHelpers>> = std::sync::OnceLock::new();
        HELPERS
            .get_or_init(|| {
                let (jobs, queue) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
                let queue = Arc::new(std::sync::Mutex::new(queue));
                let mut started = 0;
                for i in 1..cores {
                    let queue = queue.clone();
                    let spawned = std::thread::Builder::new()
                        .name(format!("evident-decide-{i}"))
                        .spawn(move || loop {
                            let job = match queue.lock() {
                                Ok(queue) => queue.recv(),
                                Err(_) => return,
                            };
                            let Ok(job) = job else { return };
                            job();
                        });
                    if spawned.is_ok() {
                        started += 1;
                    }
                }
                (started > 0).then_some(DecisionHelpers { jobs })
            })
            .as_ref()
    }
}

/// A large batch being decided: whoever is free claims the next [`CLAIM`] items.
struct BatchWork {
    pack: Arc<CompiledPack>,
    items: Arc<Vec<Item>>,
    now: i64,
    next: std::sync::atomic::AtomicUsize,
}

impl BatchWork {
    /// Claims and decides parts until none is left, sending each part's verdicts with the
    /// index of its first item. A part whose decision panics answers errors for its items.
    fn drain(&self, done: &std::sync::mpsc::Sender<(usize, Vec<Result<Verdict>>)>) {
        let len = self.items.len();
        loop {
            let first = self
                .next
                .fetch_add(CLAIM, std::sync::atomic::Ordering::Relaxed);
            if first >= len {
                return;
            }
            let part = &self.items[first..(first + CLAIM).min(len)];
            let verdicts = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                part.iter()
                    .map(|i| decide_item(&self.pack, i, self.now))
                    .collect::<Vec<_>>()
            }))
            .unwrap_or_else(|_| part.iter().map(|_| Err(panicked())).collect());
            if done.send((first, verdicts)).is_err() {
                return;
            }
        }
    }
}

/// Decides every well-formed item; a batch large enough is shared with the helper threads
/// (decisions are pure, so the answers are the same in any order). The caller decides too
/// and never waits for a helper that has not started: it only waits for parts a helper is
/// deciding at that moment. A malformed item's slot holds an error that the caller
/// replaces with the item's own message. Verdicts come back in the items' order.
pub(crate) fn decide_all(
    pack: &Arc<CompiledPack>,
    items: Vec<Item>,
    now: i64,
) -> (Arc<Vec<Item>>, Vec<Result<Verdict>>) {
    let items = Arc::new(items);
    let inline = |items: Arc<Vec<Item>>| {
        let verdicts = items.iter().map(|i| decide_item(pack, i, now)).collect();
        (items, verdicts)
    };
    if items.len() < 2 * PARALLEL_CHUNK {
        return inline(items);
    }
    // available_parallelism reads cgroup files: ask once per process
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let cores = *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let helpers_wanted = cores.min(items.len() / PARALLEL_CHUNK).saturating_sub(1);
    let Some(helpers) = (helpers_wanted > 0)
        .then(|| DecisionHelpers::get(cores))
        .flatten()
    else {
        return inline(items);
    };
    let len = items.len();
    let work = Arc::new(BatchWork {
        pack: pack.clone(),
        items: items.clone(),
        now,
        next: std::sync::atomic::AtomicUsize::new(0),
    });
    let (done, results) = std::sync::mpsc::channel::<(usize, Vec<Result<Verdict>>)>();
    for _ in 0..helpers_wanted {
        let (work, done) = (work.clone(), done.clone());
        // A helper that starts after the work is gone finds nothing left to claim.
        let _ = helpers.jobs.send(Box::new(move || work.drain(&done)));
    }
    work.drain(&done);
    drop(done);
    let mut verdicts: Vec<Option<Result<Verdict>>> = Vec::with_capacity(len);
    verdicts.resize_with(len, || None);
    let mut missing = len;
    // Every claimed part answers once; stop as soon as all have, not when every helper has
    // run (one the host has not scheduled yet would find nothing left to claim).
    while missing > 0 {
        let Ok((first, part)) = results.recv() else {
            break;
        };
        missing = missing.saturating_sub(part.len());
        for (slot, verdict) in verdicts.iter_mut().skip(first).zip(part) {
            *slot = Some(verdict);
        }
    }
    let verdicts = verdicts
        .into_iter()
        .map(|v| v.unwrap_or_else(|| Err(panicked())))
        .collect();
    (items, verdicts)
}
