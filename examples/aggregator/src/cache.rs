//! The tool-result cache: bounded in entries and bytes, private to one client, and only for
//! tools that declare they have no side effects.
//!
//! A result is reused only by the client identity that produced it (the MCP session, or the
//! authenticated principal), so one client never sees another's result. Only tools whose
//! annotations say `readOnlyHint: true` or `idempotentHint: true` (and not `destructiveHint`), or
//! that the configuration names, are cached. Expired entries are purged on every insert; past
//! either bound the oldest entries are evicted. Its size in bytes is
//! `only1mcp_memory_usage_bytes{type="cache"}`.

use only1mcp_obs::catalogue::{MEMORY_USAGE_BYTES, MemoryType};
use rmcp::model::{CallToolResponse, Tool};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// Bounds and lifetime of cached results.
#[derive(Debug, Clone)]
pub(crate) struct CacheLimits {
    /// How long a result is reused.
    pub(crate) ttl: Duration,
    /// At most this many results.
    pub(crate) max_entries: usize,
    /// At most this many bytes of keys and serialized results.
    pub(crate) max_bytes: usize,
    /// Tools cached whatever their annotations say.
    pub(crate) always: HashSet<String>,
}

impl Default for CacheLimits {
    fn default() -> Self {
        CacheLimits {
            ttl: Duration::from_secs(30),
            max_entries: 4096,
            max_bytes: 16 << 20,
            always: HashSet::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    identity: String,
    tool: String,
    arguments: String,
}

impl Key {
    fn bytes(&self) -> usize {
        self.identity.len() + self.tool.len() + self.arguments.len()
    }
}

#[derive(Debug)]
struct Entry {
    at: Instant,
    seq: u64,
    bytes: usize,
    response: CallToolResponse,
}

#[derive(Debug, Default)]
struct Store {
    entries: HashMap<Key, Entry>,
    /// Insertion order: with one TTL for all, also the order of expiry.
    order: VecDeque<(u64, Key)>,
    bytes: usize,
    seq: u64,
}

impl Store {
    fn remove_oldest(&mut self) {
        if let Some((seq, key)) = self.order.pop_front()
            && self.entries.get(&key).is_some_and(|e| e.seq == seq)
            && let Some(entry) = self.entries.remove(&key)
        {
            self.bytes -= entry.bytes;
        }
    }
}

/// The cache; see the module docs.
#[derive(Debug)]
pub(crate) struct ToolCache {
    limits: CacheLimits,
    store: Mutex<Store>,
    /// Tools whose results may be reused, learnt from `tools/list`.
    cacheable: RwLock<HashSet<String>>,
}

/// Whether a tool's annotations say a second call may reuse the first one's result.
fn declares_cacheable(tool: &Tool) -> bool {
    tool.annotations.as_ref().is_some_and(|a| {
        a.destructive_hint != Some(true)
            && (a.read_only_hint == Some(true) || a.idempotent_hint == Some(true))
    })
}

impl ToolCache {
    pub(crate) fn new(limits: CacheLimits) -> Self {
        ToolCache {
            limits,
            store: Mutex::default(),
            cacheable: RwLock::default(),
        }
    }

    /// Learns which of the listed tools may be cached.
    pub(crate) fn learn(&self, tools: &[Tool]) {
        let mut cacheable = self
            .cacheable
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        for tool in tools {
            if declares_cacheable(tool) {
                cacheable.insert(tool.name.to_string());
            } else {
                cacheable.remove(tool.name.as_ref());
            }
        }
    }

    fn key(&self, identity: Option<&str>, tool: &str, arguments: &str) -> Option<Key> {
        let identity = identity?;
        let allowed = self.limits.always.contains(tool)
            || self
                .cacheable
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .contains(tool);
        allowed.then(|| Key {
            identity: identity.to_owned(),
            tool: tool.to_owned(),
            arguments: arguments.to_owned(),
        })
    }

    /// The fresh result this identity got for the same call, if the tool may be cached.
    pub(crate) fn get(
        &self,
        identity: Option<&str>,
        tool: &str,
        arguments: &str,
    ) -> Option<CallToolResponse> {
        let key = self.key(identity, tool, arguments)?;
        let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        store
            .entries
            .get(&key)
            .filter(|e| e.at.elapsed() < self.limits.ttl)
            .map(|e| e.response.clone())
    }

    /// Keeps a result for this identity; purges what expired and evicts past the bounds.
    pub(crate) fn put(
        &self,
        identity: Option<&str>,
        tool: &str,
        arguments: &str,
        response: &CallToolResponse,
    ) {
        let Some(key) = self.key(identity, tool, arguments) else {
            return;
        };
        // Only complete results are kept: an `input_required` or task answer is one exchange.
        let CallToolResponse::Complete(result) = response else {
            return;
        };
        let size = key.bytes() + serde_json::to_string(result).map_or(usize::MAX, |s| s.len());
        if size > self.limits.max_bytes / 4 || self.limits.max_entries == 0 {
            return;
        }
        let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let store = &mut *store;
        store.seq += 1;
        let seq = store.seq;
        let entry = Entry {
            at: Instant::now(),
            seq,
            bytes: size,
            response: response.clone(),
        };
        if let Some(old) = store.entries.insert(key.clone(), entry) {
            store.bytes -= old.bytes;
        }
        store.bytes += size;
        store.order.push_back((seq, key));
        self.evict(store);
        MEMORY_USAGE_BYTES
            .labels(MemoryType::Cache)
            .set(store.bytes as f64);
    }

    fn evict(&self, store: &mut Store) {
        let expired = |store: &Store| {
            store.order.front().is_some_and(|(seq, key)| {
                store
                    .entries
                    .get(key)
                    .is_none_or(|e| e.seq != *seq || e.at.elapsed() >= self.limits.ttl)
            })
        };
        while expired(store)
            || store.entries.len() > self.limits.max_entries
            || store.bytes > self.limits.max_bytes
        {
            store.remove_oldest();
        }
    }

    /// Entries and bytes held.
    pub(crate) fn size(&self) -> (usize, usize) {
        let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        (store.entries.len(), store.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::{CallToolResult, ContentBlock, ToolAnnotations};

    fn tool(name: &str, read_only: bool) -> Tool {
        let mut tool = Tool::new(name.to_owned(), "t", serde_json::Map::new());
        tool.annotations = Some(ToolAnnotations::new().read_only(read_only));
        tool
    }

    fn response(text: &str) -> CallToolResponse {
        CallToolResult::success(vec![ContentBlock::text(text.to_owned())]).into()
    }

    #[test]
    fn only_read_only_tools_are_cached_and_only_for_their_client() {
        let cache = ToolCache::new(CacheLimits::default());
        cache.learn(&[tool("files_echo", true), tool("files_write", false)]);
        cache.put(Some("a"), "files_echo", "{}", &response("a's"));
        cache.put(Some("a"), "files_write", "{}", &response("w"));
        cache.put(None, "files_echo", "{}", &response("anonymous"));
        assert!(cache.get(Some("a"), "files_echo", "{}").is_some());
        assert!(cache.get(Some("b"), "files_echo", "{}").is_none());
        assert!(cache.get(Some("a"), "files_write", "{}").is_none());
        assert!(cache.get(None, "files_echo", "{}").is_none());
        assert_eq!(cache.size().0, 1);
    }

    #[test]
    fn entries_and_bytes_stay_under_their_bounds() {
        let limits = CacheLimits {
            max_entries: 100,
            max_bytes: 20_000,
            ..CacheLimits::default()
        };
        let cache = ToolCache::new(limits);
        cache.learn(&[tool("t", true)]);
        for i in 0..10_000 {
            cache.put(Some("a"), "t", &format!("{{\"i\":{i}}}"), &response("x"));
            let (entries, bytes) = cache.size();
            assert!(
                entries <= 100 && bytes <= 20_000,
                "{entries} entries, {bytes} bytes"
            );
        }
        // The newest survive.
        assert!(cache.get(Some("a"), "t", "{\"i\":9999}").is_some());
        assert!(cache.get(Some("a"), "t", "{\"i\":0}").is_none());
    }

    #[test]
    fn expired_entries_are_purged_on_insert() {
        let limits = CacheLimits {
            ttl: Duration::ZERO,
            ..CacheLimits::default()
        };
        let cache = ToolCache::new(limits);
        cache.learn(&[tool("t", true)]);
        for i in 0..100 {
            cache.put(Some("a"), "t", &i.to_string(), &response("x"));
        }
        assert!(cache.size().0 <= 1);
    }
}
