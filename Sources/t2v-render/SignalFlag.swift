import Foundation

/// Turns SIGINT and SIGTERM into a flag long jobs poll between units of work, so they stop
/// cleanly (finished work kept, partial output removed) instead of dying mid-write.
/// A second signal exits at once with status 130.
final class SignalFlag: @unchecked Sendable {
    private static let shared = SignalFlag()
    private let lock = NSLock()
    private var set = false
    private var sources: [DispatchSourceSignal] = []

    /// True once SIGINT or SIGTERM arrived.
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return set }

    /// Installs the handlers (idempotent) and returns the shared flag.
    static func install() -> SignalFlag {
        let flag = shared
        flag.lock.lock()
        defer { flag.lock.unlock() }
        if flag.sources.isEmpty {
            for sig in [SIGINT, SIGTERM] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler {
                    flag.lock.lock()
                    let already = flag.set
                    flag.set = true
                    flag.lock.unlock()
                    if already { exit(130) }
                    FileHandle.standardError.write(Data("\nt2v-render: stopping after the current step (signal \(sig)); press Ctrl-C again to abort\n".utf8))
                }
                source.resume()
                flag.sources.append(source)
            }
        }
        return flag
    }
}
