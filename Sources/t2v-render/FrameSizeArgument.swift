import ArgumentParser
import FrameIO

/// A `WxH` frame size, the one parser of sizes for every command (`render --size`, `encode
/// --size`, `extract --size`): exactly two positive decimal integers joined by one `x` (or `X`),
/// each at most 16384; "16x16x", "16x", "x16", "+16x16" and "16x16x16" are refused. Commands
/// check their own smaller limits.
struct FrameSize: ExpressibleByArgument, CustomStringConvertible, Equatable {
    var width: Int
    var height: Int

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let w = Int(parts[0]), let h = Int(parts[1]), (1...16384).contains(w), (1...16384).contains(h) else { return nil }
        (width, height) = (w, h)
    }

    var description: String { "\(width)x\(height)" }
    static var defaultCompletionKind: CompletionKind { .list(["256x256", "512x512", "32x32", "64x64", "128x128"]) }
}

/// A frame rate such as 8, 29.97 or 30000/1001 (`Rational(parsing:)`), for `--fps`.
extension Rational: ExpressibleByArgument {
    public init?(argument: String) {
        guard let r = Rational(parsing: argument) else { return nil }
        self = r
    }
}
