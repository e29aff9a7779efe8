//! The combined automaton (always-on rules and every keyword) run as a lazy DFA held
//! directly, with its pool of per-thread caches.

use std::sync::Arc;

use regex_automata::hybrid::regex::{Cache as LazyCache, Regex as LazyRegex};
use regex_automata::util::pool::Pool;
use regex_automata::{meta, Anchored, Input, Match};

/// Like `meta::Regex`'s own pool, so the detector keeps the auto traits it had (shared
/// between threads, usable under `catch_unwind`).
pub(super) type CachePool = Pool<
    LazyCache,
    Box<dyn Fn() -> LazyCache + Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe>,
>;

/// The combined automaton, run as a lazy DFA held directly rather than through
/// `meta::Regex`: a keyword's start is its end less its length, so keyword hits (a third of
/// all matches) skip the reverse search that finds where a match starts.
pub(super) struct Combined {
    pub(super) lazy: Arc<LazyRegex>,
    pub(super) caches: CachePool,
    /// the same automaton behind `meta`, for the (not expected) case where the lazy DFA
    /// gives up on an input
    pub(super) fallback: meta::Regex,
}

impl Combined {
    /// The leftmost-first match in `hay[from..]`.
    pub(super) fn search(
        &self,
        hay: &[u8],
        from: usize,
        keyword_len: impl Fn(usize) -> Option<usize>,
    ) -> Option<Match> {
        let input = Input::new(hay).span(from..hay.len());
        let mut cache = self.caches.get();
        let (forward, reverse) = cache.as_parts_mut();
        let end = match self.lazy.forward().try_search_fwd(forward, &input) {
            Ok(Some(end)) => end,
            Ok(None) => return None,
            Err(_) => return self.fallback.search(&input),
        };
        let pattern = end.pattern();
        if let Some(len) = keyword_len(pattern.as_usize()) {
            return Some(Match::new(pattern, end.offset() - len..end.offset()));
        }
        if end.offset() == from {
            return Some(Match::new(pattern, from..from));
        }
        let back = input
            .clone()
            .span(from..end.offset())
            .anchored(Anchored::Yes)
            .earliest(false);
        match self.lazy.reverse().try_search_rev(reverse, &back) {
            Ok(Some(start)) => Some(Match::new(pattern, start.offset()..end.offset())),
            _ => self.fallback.search(&input),
        }
    }
}
