import Foundation

/// A read-only view of a `.safetensors` file holding Float32 tensors: an 8-byte little-endian
/// header length, a JSON header `{name: {dtype, shape, data_offsets}}`, then the raw data.
/// The file is memory-mapped; `floats(_:)` copies one tensor out.
struct TextWeightsFile {
    /// One tensor's entry in the header.
    struct Entry {
        var dtype: String
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    let url: URL
    let entries: [String: Entry]
    private let data: Data
    private let dataStart: Int

    /// Maps the file and parses its header.
    /// - Throws: `TextEncoderError.missingFile` / `.unreadableFile` for a missing or malformed file.
    init(url: URL) throws {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TextEncoderError.missingFile(path: url.path)
        }
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw TextEncoderError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        func bad(_ reason: String) -> TextEncoderError { .unreadableFile(path: url.path, reason: reason) }
        guard data.count >= 8 else { throw bad("shorter than a safetensors header") }
        var headerLength = 0
        for i in 0..<8 { headerLength |= Int(data[data.startIndex + i]) << (8 * i) }
        guard headerLength > 0, 8 + headerLength <= data.count else {
            throw bad("header length \(headerLength) does not fit a \(data.count)-byte file")
        }
        let header = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + 8 + headerLength))
        guard let json = try? JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw bad("the header is not a JSON object")
        }
        var entries: [String: Entry] = [:]
        let payload = data.count - 8 - headerLength
        for (name, value) in json where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int],
                  offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= payload else {
                throw bad("malformed header entry for tensor \(name)")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
        }
        self.url = url
        self.entries = entries
        self.data = data
        self.dataStart = 8 + headerLength
    }

    /// The values of Float32 tensor `name`, checked against `shape`.
    /// - Throws: `TextEncoderError.badWeights` when the tensor is absent, not F32 or misshapen.
    func floats(_ name: String, shape: [Int]) throws -> [Float] {
        guard let e = entries[name] else {
            throw TextEncoderError.badWeights(path: url.path, reason: "no tensor named \(name)")
        }
        guard e.dtype == "F32" else {
            throw TextEncoderError.badWeights(path: url.path, reason: "\(name) is \(e.dtype), expected F32")
        }
        guard e.shape == shape, e.end - e.begin == 4 * shape.reduce(1, *) else {
            throw TextEncoderError.badWeights(path: url.path, reason: "\(name) has shape \(e.shape), expected \(shape)")
        }
        let count = shape.reduce(1, *)
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBytes { dst in
            data.withUnsafeBytes { src in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[(dataStart + e.begin)..<(dataStart + e.end)]))
            }
        }
        // safetensors stores little-endian values; convert on a big-endian host.
        if UInt32(littleEndian: 1) != 1 {
            for i in out.indices { out[i] = Float(bitPattern: UInt32(littleEndian: out[i].bitPattern)) }
        }
        return out
    }
}
