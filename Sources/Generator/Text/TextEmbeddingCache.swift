import Foundation

/// A thread-safe least-recently-used cache of text embeddings, keyed by the exact text (its
/// UTF-8 bytes), so a prompt repeated across renders or guidance passes is encoded once.
/// Each entry holds the pooled vector and the token states (about 1.5 KB per token).
public final class TextEmbeddingCache: @unchecked Sendable {
    /// Most entries kept; the least recently used one is dropped beyond this.
    public let capacity: Int

    private var entries: [[UInt8]: (embedding: TextEmbedding, lastUse: UInt64)] = [:]
    private var clock: UInt64 = 0
    private let lock = NSLock()

    /// Creates an empty cache holding at most `capacity` (≥ 1) embeddings.
    public init(capacity: Int = 64) {
        precondition(capacity >= 1, "TextEmbeddingCache: capacity \(capacity) must be at least 1")
        self.capacity = capacity
    }

    /// Number of cached embeddings.
    public var count: Int { lock.withLock { entries.count } }

    /// The cached embedding of `text` (marking it recently used), or nil.
    public func cached(_ text: String) -> TextEmbedding? {
        lock.withLock {
            let key = Array(text.utf8)
            guard var entry = entries[key] else { return nil }
            clock += 1
            entry.lastUse = clock
            entries[key] = entry
            return entry.embedding
        }
    }

    /// Stores `embedding` as the embedding of `text`, dropping the least recently used entry
    /// when the cache is full.
    public func insert(_ embedding: TextEmbedding, for text: String) {
        lock.withLock {
            let key = Array(text.utf8)
            if entries[key] == nil, entries.count >= capacity,
               let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
                entries.removeValue(forKey: oldest)
            }
            clock += 1
            entries[key] = (embedding, clock)
        }
    }

    /// The embedding of `text`: from the cache, or computed with `encoder` and stored.
    /// - Throws: what `encoder.encode(_:)` throws.
    public func embedding(for text: String, encoder: TextEncoder) throws -> TextEmbedding {
        if let hit = cached(text) { return hit }
        let e = try encoder.encode(text)
        insert(e, for: text)
        return e
    }

    /// Empties the cache.
    public func removeAll() { lock.withLock { entries.removeAll() } }
}
