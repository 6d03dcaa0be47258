/// A hash of a string that is the same on every machine and every run (64-bit FNV-1a over the
/// UTF-8 bytes), unlike Swift's per-process seeded `Hasher`. `extract --shard i/N` uses it to
/// split inputs deterministically across machines.
public enum StableHash {
    /// 64-bit FNV-1a of `text`'s UTF-8 bytes.
    public static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// True when `key` belongs to shard `index` of `count` (0-based index).
    public static func belongs(_ key: String, toShard index: Int, of count: Int) -> Bool {
        precondition(count > 0 && index >= 0 && index < count, "shard \(index)/\(count) out of range")
        return fnv1a64(key) % UInt64(count) == UInt64(index)
    }
}
