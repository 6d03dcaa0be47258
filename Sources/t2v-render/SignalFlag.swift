import Foundation

/// The flag the signal handler sets: written only by the handler (async-signal-safe), read by
/// the job between units of work.
private nonisolated(unsafe) var signalCount: sig_atomic_t = 0
private nonisolated(unsafe) var lastSignal: sig_atomic_t = 0

/// The handler: counts the signal and, on the first, writes one line with `write(2)` (the only
/// output that is safe here); a second signal exits at once with status 130.
private func handleSignal(_ sig: Int32) {
    signalCount += 1
    lastSignal = sig
    if signalCount > 1 { _exit(128 + sig) }
    let message: StaticString = "\nt2v-render: stopping after the current step; press Ctrl-C again to abort\n"
    _ = write(STDERR_FILENO, message.utf8Start, message.utf8CodeUnitCount)
}

/// Turns SIGINT and SIGTERM into a flag long jobs poll between units of work, so they stop
/// cleanly (finished work kept, partial output removed) instead of dying mid-write.
/// A second signal exits at once with status 130.
///
/// A plain `sigaction` handler, installed synchronously: a signal that arrives any time after
/// `install()` returns is never lost (a dispatch signal source, by contrast, is armed
/// asynchronously and the signal is ignored until then).
final class SignalFlag: @unchecked Sendable {
    private static let shared = SignalFlag()
    private static var installed = false

    /// True once SIGINT or SIGTERM arrived.
    var isSet: Bool { signalCount > 0 }

    /// The signal that stopped the command (SIGINT or SIGTERM), nil when none arrived; the tool
    /// then exits with 128 + its number (130, 143), as shells report a command a signal ended.
    static var received: Int32? { signalCount > 0 ? Int32(lastSignal) : nil }

    /// Installs the handlers (idempotent) and returns the shared flag.
    static func install() -> SignalFlag {
        if !installed {
            installed = true
            for sig in [SIGINT, SIGTERM] {
                var action = sigaction()
                action.__sigaction_handler.sa_handler = handleSignal
                sigemptyset(&action.sa_mask)
                action.sa_flags = SA_RESTART
                sigaction(sig, &action, nil)
            }
        }
        return shared
    }
}
