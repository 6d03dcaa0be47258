import Foundation

/// What `Trainer` and `Distiller` checkpoints share: tensors grouped by a name prefix, and a
/// random stream's position as text.
extension SafeTensors {
    /// Every tensor whose name starts with `prefix`, keyed by the rest of its name.
    func tensors(prefixed prefix: String) throws -> [String: Tensor] {
        var group = [String: Tensor]()
        for info in tensors where info.name.hasPrefix(prefix) {
            group[String(info.name.dropFirst(prefix.count))] = Tensor(shape: info.shape, data: try floats(info.name))
        }
        return group
    }
}

extension Philox {
    /// The position as checkpoints store it: `seed,stream,offset`.
    var checkpointText: String { "\(seed),\(stream),\(offset)" }

    /// The generator at the position `checkpointText` gave; nil when the text is not three numbers.
    init?(checkpointText text: String) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { UInt64($0) }
        guard parts.count == 3, let seed = parts[0], let stream = parts[1], let offset = parts[2] else { return nil }
        self.init(seed: seed, stream: stream)
        advance(by: offset)
    }
}
