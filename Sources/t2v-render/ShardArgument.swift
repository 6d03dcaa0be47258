/// The one parser of `i/N` shard selections (`extract --shard`, `render --shard`): two decimal
/// integers with 0 <= i < N.
enum ShardArgument {
    static func parse(_ text: String) -> (index: Int, count: Int)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let i = Int(parts[0]), let n = Int(parts[1]), n > 0, i < n else { return nil }
        return (i, n)
    }
}
