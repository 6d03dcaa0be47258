import Foundation

/// A progress line on stderr: a bar with rate and ETA when stderr is a terminal, otherwise a
/// plain line every few seconds (so logs stay readable). `quiet` silences it.
final class ProgressBar {
    private let total: Int
    private let label: String
    private let unit: String
    private let quiet: Bool
    private let isTerminal: Bool
    private let start = Date()
    private var lastDraw = Date.distantPast

    /// A bar for `total` steps of `unit` (e.g. "clips", "steps").
    init(total: Int, label: String, unit: String, quiet: Bool) {
        self.total = max(total, 1)
        self.label = label
        self.unit = unit
        self.quiet = quiet
        self.isTerminal = isatty(STDERR_FILENO) == 1
    }

    /// Redraws with `done` steps finished and an optional suffix (e.g. the loss).
    func update(_ done: Int, rateCount: Int? = nil, suffix: String = "") {
        guard !quiet else { return }
        let now = Date()
        let final = done >= total
        let interval = isTerminal ? 0.1 : 5.0
        guard final || now.timeIntervalSince(lastDraw) >= interval else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        // On a resumed run only `rateCount` steps happened in this process: both the rate and the
        // ETA come from those, not from `done` (which counts the earlier run's steps too).
        let made = rateCount ?? done
        let rate = elapsed > 0 ? Double(made) / elapsed : 0
        let eta = made > 0 && rate > 0 ? Double(total - done) / rate : .nan
        let pct = Double(done) / Double(total)
        let stats = String(format: "%d/%d %.2f %@/s ETA %@ %@", done, total, rate, unit, ProgressBar.clock(eta), suffix)
        if isTerminal {
            let width = 30
            let filled = Int(pct * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(Data("\r\u{1B}[K\(label) \(bar) \(stats)".utf8))
            if final { FileHandle.standardError.write(Data("\n".utf8)) }
        } else {
            FileHandle.standardError.write(Data("\(label): \(stats)\n".utf8))
        }
    }

    /// "m:ss" (or "h:mm:ss"); "--:--" when unknown.
    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                         : String(format: "%d:%02d", s / 60, s % 60)
    }
}
