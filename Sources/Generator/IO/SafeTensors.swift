import Foundation

/// A safetensors file opened for reading: the header is parsed and validated up front, and the
/// data buffer stays memory-mapped (read-only) for as long as this object lives, so opening a
/// large weights file costs one `mmap` and no copies. Tensor data is copied only when a
/// conversion (`floats`, `bytes`, `int64s`, `data`) is asked for; `withUnsafeBytes` gives the
/// mapped bytes themselves.
///
/// Format (https://github.com/huggingface/safetensors): an 8-byte little-endian `UInt64` header
/// length N, N bytes of UTF-8 JSON `{name: {"dtype", "shape", "data_offsets": [begin, end]},
/// "__metadata__": {String: String}}`, then the data buffer; offsets are relative to the start of
/// the data buffer, tensors are little-endian and row-major. Validation follows the reference
/// implementation (see `docs/safetensors-and-rng.md`): tensors must tile the data buffer exactly,
/// with no overlap, no hole and no trailing bytes.
///
/// Reading and writing live in `SafeTensors+Reading.swift` and `SafeTensors+Writing.swift`.
public final class SafeTensors {
    /// The path the file was opened from, as given (used in error messages).
    public let path: String
    /// The tensors in the order of their data in the file (by offset).
    public let tensors: [TensorInfo]
    /// The free-form string map stored under `"__metadata__"` (empty when absent).
    public let metadata: [String: String]
    /// The size of the whole file in bytes.
    public let fileSize: Int

    /// Position of each tensor in `tensors`, by name.
    let index: [String: Int]
    /// The whole file image: a read-only mapping of the file, or an owned heap copy for
    /// `init(bytes:name:)`.
    let mapping: UnsafeRawBufferPointer
    /// Whether `mapping` came from `mmap` (else it was allocated and is deallocated).
    let isMapped: Bool
    /// Offset of the data buffer from the start of the file (8 + header length).
    let dataStart: Int

    init(path: String, tensors: [TensorInfo], metadata: [String: String], mapping: UnsafeRawBufferPointer,
         isMapped: Bool, dataStart: Int) {
        self.isMapped = isMapped
        self.path = path
        self.tensors = tensors
        self.metadata = metadata
        self.mapping = mapping
        self.fileSize = mapping.count
        self.dataStart = dataStart
        var index = [String: Int](minimumCapacity: tensors.count)
        for (i, t) in tensors.enumerated() { index[t.name] = i }
        self.index = index
    }

    deinit {
        guard let base = mapping.baseAddress else { return }
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), mapping.count)
        } else {
            base.deallocate()
        }
    }

    /// The tensor names in file order.
    public var names: [String] { tensors.map(\.name) }

    /// Whether the file holds a tensor called `name`.
    public func contains(_ name: String) -> Bool { index[name] != nil }
}

/// A `SafeTensors` never changes after `init` and its mapping is read-only, so one instance may
/// be read from many threads at once (e.g. parallel weight conversion).
extension SafeTensors: @unchecked Sendable {}

extension SafeTensors {
    /// The element types a safetensors file may declare, spelled as in the file (`"F32"`, ...).
    /// Sub-byte and complex types of newer format revisions are refused with a clear error.
    public enum DType: String, Sendable, CaseIterable, Codable {
        /// Boolean, one byte per element (0 or 1).
        case bool = "BOOL"
        /// Unsigned 8-bit integer.
        case u8 = "U8"
        /// Signed 8-bit integer.
        case i8 = "I8"
        /// 8-bit float, 5 exponent bits and 2 mantissa bits.
        case f8e5m2 = "F8_E5M2"
        /// 8-bit float, 4 exponent bits and 3 mantissa bits.
        case f8e4m3 = "F8_E4M3"
        /// Signed 16-bit integer.
        case i16 = "I16"
        /// Unsigned 16-bit integer.
        case u16 = "U16"
        /// IEEE half precision float.
        case f16 = "F16"
        /// bfloat16 (the top 16 bits of an IEEE single).
        case bf16 = "BF16"
        /// Signed 32-bit integer.
        case i32 = "I32"
        /// Unsigned 32-bit integer.
        case u32 = "U32"
        /// IEEE single precision float.
        case f32 = "F32"
        /// IEEE double precision float.
        case f64 = "F64"
        /// Signed 64-bit integer.
        case i64 = "I64"
        /// Unsigned 64-bit integer.
        case u64 = "U64"

        /// Bytes per element.
        public var byteSize: Int {
            switch self {
            case .bool, .u8, .i8, .f8e5m2, .f8e4m3: return 1
            case .i16, .u16, .f16, .bf16: return 2
            case .i32, .u32, .f32: return 4
            case .f64, .i64, .u64: return 8
            }
        }

        /// The reference writer's layout rank: tensors are stored by descending rank (wider and
        /// later types first), then by name. This is the declaration order of the reference
        /// implementation's `Dtype` enum.
        var layoutRank: Int { Self.allCases.firstIndex(of: self)! }
    }

    /// One tensor's header entry: where its bytes are and how to read them.
    public struct TensorInfo: Sendable, Equatable {
        /// The tensor's name (the JSON key).
        public let name: String
        /// The element type.
        public let dtype: DType
        /// The dimensions, outermost first (row-major); empty for a scalar.
        public let shape: [Int]
        /// The byte range of the data, relative to the start of the data buffer.
        public let dataOffsets: Range<Int>

        /// The number of elements (the product of `shape`; 1 for a scalar).
        public var elementCount: Int { shape.reduce(1, *) }
        /// The number of data bytes (`elementCount * dtype.byteSize`).
        public var byteCount: Int { dataOffsets.count }

        /// Creates a header entry (validation happens where entries are read or written).
        public init(name: String, dtype: DType, shape: [Int], dataOffsets: Range<Int>) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.dataOffsets = dataOffsets
        }
    }
}

/// Why a safetensors file could not be read or written. Every case carries the file's path and a
/// message that says what is wrong and, where it helps, what to do; `description` joins them.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The file could not be opened, mapped, written, synced or renamed (the OS error is in the
    /// message).
    case io(path: String, message: String)
    /// The file is not a valid safetensors file: truncated, bad header length, bad JSON, bad
    /// offsets, inconsistent dtype/shape/offsets, duplicate names.
    case invalidFile(path: String, message: String)
    /// The file has no tensor of the requested name.
    case tensorNotFound(path: String, message: String)
    /// The tensor exists but its dtype cannot be converted to the requested element type.
    case unsupportedConversion(path: String, message: String)
    /// Arguments given to a writer are inconsistent (shape vs byte count, duplicate names, data
    /// appended past a tensor's end, a tensor left incomplete).
    case invalidArgument(path: String, message: String)

    /// The file the error is about.
    public var path: String {
        switch self {
        case .io(let p, _), .invalidFile(let p, _), .tensorNotFound(let p, _),
             .unsupportedConversion(let p, _), .invalidArgument(let p, _):
            return p
        }
    }

    /// What went wrong, without the path.
    public var message: String {
        switch self {
        case .io(_, let m), .invalidFile(_, let m), .tensorNotFound(_, let m),
             .unsupportedConversion(_, let m), .invalidArgument(_, let m):
            return m
        }
    }

    /// "safetensors file '<path>': <message>".
    public var description: String { "safetensors file '\(path)': \(message)" }

    /// Same as `description`, for `localizedDescription`.
    public var errorDescription: String? { description }
}
