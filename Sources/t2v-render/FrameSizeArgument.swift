/// The one parser of `WxH` frame sizes for every command: exactly two positive decimal integers
/// joined by one `x` (or `X`), each at most `limit`; "16x16x", "16x", "x16", "+16x16" and
/// "16x16x16" are refused.
enum FrameSizeArgument {
    static func parse(_ text: String, limit: Int) -> (width: Int, height: Int)? {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let w = Int(parts[0]), let h = Int(parts[1]), (1...limit).contains(w), (1...limit).contains(h) else { return nil }
        return (w, h)
    }
}
