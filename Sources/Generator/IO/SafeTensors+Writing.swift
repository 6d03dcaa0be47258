import AtomicFiles
import Foundation

extension SafeTensors {
    /// One tensor to write: a name, a dtype, a shape and its elements.
    public struct Entry: Sendable {
        /// How the elements are given.
        enum Payload: Sendable {
            case bytes([UInt8])
            case floats([Float])
        }

        /// The tensor's name in the file.
        public let name: String
        /// The element type stored in the file.
        public let dtype: DType
        /// The dimensions, outermost first; empty for a scalar.
        public let shape: [Int]
        let payload: Payload

        /// A tensor given as raw little-endian bytes of `dtype` (count must be
        /// `shape.product * dtype.byteSize`; checked when written).
        public init(name: String, dtype: DType, shape: [Int], bytes: [UInt8]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.payload = .bytes(bytes)
        }

        /// A tensor given as `Float` values, stored as `dtype`: F32 (exact), F16 or BF16 (rounded
        /// to nearest, ties to even), or F64 (exact). Any other dtype is refused when written.
        public init(name: String, shape: [Int], floats: [Float], as dtype: DType = .f32) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.payload = .floats(floats)
        }

        /// A U8 tensor (e.g. video frames [N, T, H, W, 3]).
        public init(name: String, shape: [Int], uint8: [UInt8]) {
            self.init(name: name, dtype: .u8, shape: shape, bytes: uint8)
        }

        /// An I64 tensor (e.g. step counters or token ids).
        public init(name: String, shape: [Int], int64: [Int64]) {
            let bytes = int64.withUnsafeBytes { [UInt8]($0) }
            self.init(name: name, dtype: .i64, shape: shape, bytes: bytes)
        }

        /// The tensor's declared shape, dtype and name, without its data.
        public var spec: TensorSpec { TensorSpec(name: name, dtype: dtype, shape: shape) }
    }

    /// A tensor declared up front for `StreamWriter`: name, dtype and shape.
    public struct TensorSpec: Sendable, Equatable {
        /// The tensor's name in the file.
        public var name: String
        /// The element type stored in the file.
        public var dtype: DType
        /// The dimensions, outermost first; empty for a scalar.
        public var shape: [Int]

        /// Declares a tensor.
        public init(name: String, dtype: DType, shape: [Int]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
        }
    }

    /// Encodes `entries` and `metadata` as a complete safetensors image in memory, laid out as the
    /// reference writer does: tensors ordered by dtype (widest first, in the reference's order)
    /// then by name (bytewise), metadata keys sorted, header padded with spaces to a multiple of
    /// 8 bytes. The same input always gives the same bytes. An empty `metadata` writes no
    /// `"__metadata__"` entry.
    /// - Throws: `SafeTensorsError.invalidArgument` for duplicate names, negative dimensions, or
    ///   data that does not match the shape.
    public static func serialize(_ entries: [Entry], metadata: [String: String] = [:]) throws -> [UInt8] {
        let path = "<memory>"
        let layout = try Layout(specs: entries.map(\.spec), metadata: metadata, path: path)
        var out = layout.prefixAndHeader
        out.reserveCapacity(layout.fileSize)
        let byName = Dictionary(entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for t in layout.tensors {
            try encode(byName[t.name]!, expectedBytes: t.byteCount, path: path) { out.append(contentsOf: $0) }
        }
        return out
    }

    /// Writes `entries` and `metadata` to `url` atomically (a temporary file beside `url`, fsync,
    /// rename), with the layout of `serialize(_:metadata:)`.
    /// - Throws: `SafeTensorsError.invalidArgument` for inconsistent entries, `.io` when the file
    ///   cannot be written.
    public static func write(_ entries: [Entry], metadata: [String: String] = [:], to url: URL) throws {
        let writer = try StreamWriter(url: url, tensors: entries.map(\.spec), metadata: metadata)
        for e in entries {
            try encode(e, expectedBytes: nil, path: url.path) { try writer.append(e.name, bytes: $0) }
        }
        try writer.finish()
    }

    /// Calls `sink` with the little-endian bytes of `entry` in chunks. Checks the element count
    /// and, when `expectedBytes` is given, the total byte count.
    private static func encode(_ entry: Entry, expectedBytes: Int?, path: String,
                               _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let count = try elementCount(entry.spec, path: path)
        switch entry.payload {
        case .bytes(let bytes):
            let needed = count * entry.dtype.byteSize
            guard bytes.count == needed else {
                throw SafeTensorsError.invalidArgument(path: path, message: "tensor '\(entry.name)': "
                    + "\(entry.dtype.rawValue) with shape \(entry.shape) needs \(needed) bytes, \(bytes.count) given")
            }
            try bytes.withUnsafeBytes(sink)
        case .floats(let values):
            guard values.count == count else {
                throw SafeTensorsError.invalidArgument(path: path, message: "tensor '\(entry.name)': shape "
                    + "\(entry.shape) has \(count) elements, \(values.count) values given")
            }
            try encodeFloats(values[...], as: entry.dtype, name: entry.name, path: path, sink)
        }
    }

    /// Converts `values` to `dtype` and passes the bytes to `sink` in bounded chunks.
    static func encodeFloats(_ values: ArraySlice<Float>, as dtype: DType, name: String, path: String,
                             _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        switch dtype {
        case .f32:
            try values.withUnsafeBytes(sink)
        case .f16, .bf16:
            let chunk = 1 << 16
            var buffer = [UInt16](repeating: 0, count: min(chunk, values.count))
            var start = values.startIndex
            while start < values.endIndex {
                let end = min(start + chunk, values.endIndex)
                for i in start..<end {
                    buffer[i - start] = dtype == .f16 ? Float16Conversion.halfBits(from: values[i])
                        : Float16Conversion.bfloat16Bits(from: values[i])
                }
                try buffer.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<(2 * (end - start))])) }
                start = end
            }
        case .f64:
            let doubles = values.map(Double.init)
            try doubles.withUnsafeBytes(sink)
        default:
            throw SafeTensorsError.invalidArgument(path: path, message: "tensor '\(name)': Float values can be "
                + "stored as F32, F16, BF16 or F64, not \(dtype.rawValue); give raw bytes instead")
        }
    }

    /// The element count of `spec`, refusing negative dimensions and overflow.
    static func elementCount(_ spec: TensorSpec, path: String) throws -> Int {
        var n = 1
        for d in spec.shape {
            guard d >= 0 else {
                throw SafeTensorsError.invalidArgument(path: path, message: "tensor '\(spec.name)' has a negative "
                    + "dimension in shape \(spec.shape)")
            }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            guard !o else {
                throw SafeTensorsError.invalidArgument(path: path, message: "tensor '\(spec.name)': shape "
                    + "\(spec.shape) overflows")
            }
            n = p
        }
        let (bytes, o) = n.multipliedReportingOverflow(by: spec.dtype.byteSize)
        guard !o else {
            throw SafeTensorsError.invalidArgument(path: path, message: "tensor '\(spec.name)': shape "
                + "\(spec.shape) overflows")
        }
        _ = bytes
        return n
    }

    /// The file layout for a set of tensor specs: header bytes and each tensor's offsets.
    struct Layout {
        /// The 8-byte length prefix followed by the padded JSON header.
        var prefixAndHeader: [UInt8]
        /// The tensors in file order.
        var tensors: [TensorInfo]
        /// Total file size in bytes.
        var fileSize: Int

        init(specs: [TensorSpec], metadata: [String: String], path: String) throws {
            var seen = Set<String>()
            for s in specs {
                guard s.name != "__metadata__" else {
                    throw SafeTensorsError.invalidArgument(path: path, message: "a tensor cannot be named "
                        + "\"__metadata__\" (the key is reserved for the metadata map)")
                }
                guard seen.insert(s.name).inserted else {
                    throw SafeTensorsError.invalidArgument(path: path, message: "tensor name '\(s.name)' is given "
                        + "more than once")
                }
            }
            let ordered = specs.sorted { a, b in
                if a.dtype.layoutRank != b.dtype.layoutRank { return a.dtype.layoutRank > b.dtype.layoutRank }
                return Array(a.name.utf8).lexicographicallyPrecedes(Array(b.name.utf8))
            }
            var json: [UInt8] = [UInt8(ascii: "{")]
            var first = true
            if !metadata.isEmpty {
                json += Array("\"__metadata__\":{".utf8)
                let keys = metadata.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
                for (i, k) in keys.enumerated() {
                    if i > 0 { json.append(UInt8(ascii: ",")) }
                    Layout.appendJSONString(k, to: &json)
                    json.append(UInt8(ascii: ":"))
                    Layout.appendJSONString(metadata[k]!, to: &json)
                }
                json.append(UInt8(ascii: "}"))
                first = false
            }
            var offset = 0
            var infos: [TensorInfo] = []
            infos.reserveCapacity(ordered.count)
            for s in ordered {
                let n = try SafeTensors.elementCount(s, path: path) * s.dtype.byteSize
                let (end, o) = offset.addingReportingOverflow(n)
                guard !o else {
                    throw SafeTensorsError.invalidArgument(path: path, message: "the tensors' total size overflows")
                }
                infos.append(TensorInfo(name: s.name, dtype: s.dtype, shape: s.shape, dataOffsets: offset..<end))
                if !first { json.append(UInt8(ascii: ",")) }
                first = false
                Layout.appendJSONString(s.name, to: &json)
                json += Array(":{\"dtype\":\"\(s.dtype.rawValue)\",\"shape\":[".utf8)
                json += Array(s.shape.map(String.init).joined(separator: ",").utf8)
                json += Array("],\"data_offsets\":[\(offset),\(end)]}".utf8)
                offset = end
            }
            json.append(UInt8(ascii: "}"))
            // Pad with spaces so the data buffer starts 8-byte aligned, as the reference does.
            json += [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8)
            guard json.count <= SafeTensors.maxHeaderSize else {
                throw SafeTensorsError.invalidArgument(path: path, message: "the header would be \(json.count) "
                    + "bytes, more than readers accept (\(SafeTensors.maxHeaderSize)); use fewer tensors or "
                    + "shorter names/metadata")
            }
            var prefix = [UInt8](repeating: 0, count: 8)
            for i in 0..<8 { prefix[i] = UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * UInt64(i))) }
            self.prefixAndHeader = prefix + json
            self.tensors = infos
            self.fileSize = 8 + json.count + offset
        }

        /// Appends `s` as a JSON string the way serde_json writes it: `"` and `\` escaped,
        /// control characters as \b \f \n \r \t or \u00xx (lowercase hex), everything else as
        /// raw UTF-8.
        static func appendJSONString(_ s: String, to out: inout [UInt8]) {
            let hex = Array("0123456789abcdef".utf8)
            out.append(UInt8(ascii: "\""))
            for c in s.utf8 {
                switch c {
                case 0x22: out += [0x5C, 0x22]
                case 0x5C: out += [0x5C, 0x5C]
                case 0x08: out += [0x5C, UInt8(ascii: "b")]
                case 0x0C: out += [0x5C, UInt8(ascii: "f")]
                case 0x0A: out += [0x5C, UInt8(ascii: "n")]
                case 0x0D: out += [0x5C, UInt8(ascii: "r")]
                case 0x09: out += [0x5C, UInt8(ascii: "t")]
                case 0x00..<0x20:
                    out += Array("\\u00".utf8) + [hex[Int(c >> 4)], hex[Int(c & 0xF)]]
                default: out.append(c)
                }
            }
            out.append(UInt8(ascii: "\""))
        }
    }
}

extension SafeTensors {
    /// Writes a safetensors file whose tensors are all declared up front and whose data arrives
    /// piece by piece, so a large tensor (e.g. a dataset shard [N, T, H, W, 3] of U8 frames) is
    /// never held in memory whole. Each tensor has its own write cursor: `append` writes the next
    /// bytes of that tensor, in any interleaving across tensors. The file is built under a
    /// temporary name beside the target and appears only when `finish()` succeeds (fsync +
    /// rename); a writer released without `finish()` removes its temporary file.
    public final class StreamWriter {
        /// The final path of the file.
        public let url: URL
        /// The tensors in file order, with their offsets.
        public let tensors: [TensorInfo]

        private let tempPath: String
        private var fd: Int32
        private let dataStart: Int
        private var written: [Int]
        private let index: [String: Int]
        private var finished = false

        /// Creates the temporary file beside `url` and writes the header for `tensors` and
        /// `metadata` (layout as in `SafeTensors.serialize`).
        /// - Throws: `SafeTensorsError.invalidArgument` for duplicate names or bad shapes, `.io`
        ///   when the temporary file cannot be created.
        public init(url: URL, tensors specs: [TensorSpec], metadata: [String: String] = [:]) throws {
            let path = url.path
            let layout = try Layout(specs: specs, metadata: metadata, path: path)
            self.url = url
            self.tensors = layout.tensors
            self.dataStart = layout.prefixAndHeader.count
            self.written = [Int](repeating: 0, count: layout.tensors.count)
            var index = [String: Int]()
            for (i, t) in layout.tensors.enumerated() { index[t.name] = i }
            self.index = index
            self.tempPath = AtomicFile.temporaryPath(for: path)
            fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw SafeTensorsError.io(path: path, message: "cannot create the temporary file '\(tempPath)': "
                    + "\(String(cString: strerror(errno))) (check that the folder exists and is writable)")
            }
            do {
                try layout.prefixAndHeader.withUnsafeBytes { try pwriteAll($0, at: 0) }
                // Size the file now so every tensor's region exists even before it is written.
                guard ftruncate(fd, off_t(layout.fileSize)) == 0 else {
                    throw SafeTensorsError.io(path: path, message: "cannot size the temporary file to "
                        + "\(layout.fileSize) bytes: \(String(cString: strerror(errno))) (disk full?)")
                }
            } catch {
                close(fd)
                fd = -1
                unlink(tempPath)
                throw error
            }
        }

        deinit {
            if !finished { abandon() }
        }

        /// Appends the next `bytes.count` bytes of tensor `name` (little-endian elements of its
        /// dtype, any chunking, even splitting an element).
        /// - Throws: `SafeTensorsError.invalidArgument` for an unknown name or data past the
        ///   tensor's end, `.io` when the write fails.
        public func append(_ name: String, bytes: UnsafeRawBufferPointer) throws {
            let i = try slot(name)
            let t = tensors[i]
            guard bytes.count <= t.byteCount - written[i] else {
                throw SafeTensorsError.invalidArgument(path: url.path, message: "tensor '\(name)' holds \(t.byteCount) "
                    + "bytes; \(written[i]) are written and \(bytes.count) more were given")
            }
            try pwriteAll(bytes, at: dataStart + t.dataOffsets.lowerBound + written[i])
            written[i] += bytes.count
        }

        /// Appends raw bytes to tensor `name`; see `append(_:bytes:)`.
        public func append(_ name: String, bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try append(name, bytes: $0) }
        }

        /// Appends `values` to Float tensor `name`, converted to its dtype (F32, F16, BF16 or F64;
        /// F16/BF16 round to nearest, ties to even).
        /// - Throws: `SafeTensorsError.invalidArgument` for a non-float tensor or too many values.
        public func append(_ name: String, floats values: [Float]) throws {
            let t = tensors[try slot(name)]
            try SafeTensors.encodeFloats(values[...], as: t.dtype, name: name, path: url.path) {
                try append(name, bytes: $0)
            }
        }

        /// Bytes still expected for tensor `name`.
        /// - Throws: `SafeTensorsError.invalidArgument` for an unknown name.
        public func remainingBytes(_ name: String) throws -> Int {
            let i = try slot(name)
            return tensors[i].byteCount - written[i]
        }

        /// Checks that every tensor is complete, flushes the file to disk and renames it to `url`.
        /// - Throws: `SafeTensorsError.invalidArgument` naming incomplete tensors (the temporary
        ///   file is then removed), `.io` when fsync or rename fails.
        public func finish() throws {
            guard !finished, fd >= 0 else {
                throw SafeTensorsError.invalidArgument(path: url.path, message: "the writer was already finished")
            }
            let incomplete = tensors.indices.filter { written[$0] != tensors[$0].byteCount }
            guard incomplete.isEmpty else {
                abandon()
                let list = incomplete.prefix(5).map { "'\(tensors[$0].name)' (\(written[$0]) of \(tensors[$0].byteCount) bytes)" }
                throw SafeTensorsError.invalidArgument(path: url.path, message: "tensors were left incomplete: "
                    + list.joined(separator: ", ") + (incomplete.count > 5 ? " and \(incomplete.count - 5) more" : "")
                    + "; nothing was written")
            }
            close(fd)
            fd = -1
            // Marked finished first: the commit removes the temporary file itself when it fails.
            finished = true
            do {
                try AtomicFile.commit(tempPath, to: url.path)
            } catch let error as AtomicFileError {
                throw SafeTensorsError.io(path: url.path, message: error.reason)
            }
        }

        /// Closes and removes the temporary file; the target is left untouched.
        public func cancel() {
            abandon()
        }

        private func abandon() {
            if fd >= 0 {
                close(fd)
                fd = -1
            }
            if !finished {
                unlink(tempPath)
                finished = true
            }
        }

        private func slot(_ name: String) throws -> Int {
            guard !finished, fd >= 0 else {
                throw SafeTensorsError.invalidArgument(path: url.path, message: "the writer is finished or cancelled")
            }
            guard let i = index[name] else {
                throw SafeTensorsError.invalidArgument(path: url.path, message: "no tensor '\(name)' was declared "
                    + "(declared: \(tensors.map(\.name).joined(separator: ", ")))")
            }
            return i
        }

        private func pwriteAll(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
            var done = 0
            while done < bytes.count {
                let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SafeTensorsError.io(path: url.path, message: "write failed: \(String(cString: strerror(errno))) "
                        + "(disk full?)")
                }
                done += n
            }
        }
    }

    /// Creates a `StreamWriter`, runs `body` with it and finishes the file; if `body` throws, the
    /// temporary file is removed and the target is left untouched.
    /// - Throws: whatever `body` throws, or the writer's errors.
    public static func withStreamWriter<R>(url: URL, tensors: [TensorSpec], metadata: [String: String] = [:],
                                           _ body: (StreamWriter) throws -> R) throws -> R {
        let writer = try StreamWriter(url: url, tensors: tensors, metadata: metadata)
        do {
            let result = try body(writer)
            try writer.finish()
            return result
        } catch {
            writer.cancel()
            throw error
        }
    }
}
