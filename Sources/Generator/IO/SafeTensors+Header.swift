// Parsing and validating a safetensors header. A small strict JSON reader (RFC 8259) is used
// instead of JSONSerialization so that duplicate keys are seen, integers are read exactly as
// 64-bit values, nesting depth is bounded and no input can crash the process.

extension SafeTensors {
    /// The largest header the reader accepts, as in the reference implementation (100 MB).
    public static let maxHeaderSize = 100_000_000

    /// The parsed header: tensors sorted by offset, metadata, and where the data buffer starts.
    struct Header {
        var tensors: [TensorInfo]
        var metadata: [String: String]
        var dataStart: Int
    }

    /// Parses and validates the header of a complete file image `file` (header length prefix,
    /// header and data buffer). Every check is made before anything is allocated from a size the
    /// file claims; errors name `path`.
    static func parseHeader(_ file: UnsafeRawBufferPointer, path: String) throws -> Header {
        func fail(_ message: String) -> SafeTensorsError { .invalidFile(path: path, message: message) }
        let fileSize = file.count
        guard fileSize >= 8 else {
            throw fail("the file is \(fileSize) bytes long, shorter than the 8-byte header length "
                + "prefix; it is truncated or not a safetensors file")
        }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(file[i]) << (8 * UInt64(i)) }
        guard n <= UInt64(maxHeaderSize) else {
            throw fail("the header length prefix claims \(n) bytes, more than the \(maxHeaderSize)-byte "
                + "limit; the file is corrupt or not a safetensors file")
        }
        let headerLength = Int(n)
        guard headerLength <= fileSize - 8 else {
            throw fail("the header length prefix claims \(headerLength) bytes but only \(fileSize - 8) "
                + "follow it; the file is truncated")
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: file[8..<(8 + headerLength)])
        guard let text = String(validating: headerBytes, as: UTF8.self) else {
            throw fail("the \(headerLength)-byte header is not valid UTF-8; the file is corrupt")
        }
        let root: SafeTensorsJSON
        do {
            var parser = SafeTensorsJSONParser(text)
            root = try parser.parseDocument()
        } catch let error as SafeTensorsJSONParser.Failure {
            throw fail("the header is not valid JSON: \(error.message)")
        }
        guard case .object(let members) = root else {
            throw fail("the header is JSON but not an object ({...}); the file is corrupt")
        }

        var tensors: [TensorInfo] = []
        tensors.reserveCapacity(members.count)
        var metadata: [String: String]? = nil
        var seen = Set<String>()
        for (key, value) in members {
            guard seen.insert(key).inserted else {
                throw fail(key == "__metadata__"
                    ? "the header has more than one \"__metadata__\" entry"
                    : "the header names tensor '\(key)' more than once")
            }
            if key == "__metadata__" {
                metadata = try parseMetadata(value, fail: fail)
            } else {
                tensors.append(try parseTensorInfo(name: key, value, fail: fail))
            }
        }

        // Tensors must tile the data buffer: sorted by offsets, each starts where the previous
        // ends, and the last ends at the end of the file (the reference's validate() +
        // MetadataIncompleteBuffer).
        let dataStart = 8 + headerLength
        let bufferSize = fileSize - dataStart
        tensors.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name)
            < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name) }
        var expected = 0
        var previous: String? = nil
        for t in tensors {
            let begin = t.dataOffsets.lowerBound, end = t.dataOffsets.upperBound
            if end > bufferSize {
                throw fail("tensor '\(t.name)' has data_offsets [\(begin), \(end)] past the end of the "
                    + "\(bufferSize)-byte data buffer; the file is truncated")
            }
            if begin < expected {
                throw fail("tensor '\(t.name)' data_offsets [\(begin), \(end)] overlap tensor "
                    + "'\(previous ?? "")' which ends at \(expected)")
            }
            if begin > expected {
                throw fail("bytes \(expected)..<\(begin) of the data buffer belong to no tensor (a hole "
                    + "before tensor '\(t.name)'); the reference implementation rejects such files")
            }
            expected = end
            previous = t.name
        }
        if expected != bufferSize {
            throw fail("the data buffer is \(bufferSize) bytes but the tensors cover only \(expected); "
                + "\(bufferSize - expected) trailing bytes belong to no tensor (wrong header or extra data)")
        }
        return Header(tensors: tensors, metadata: metadata ?? [:], dataStart: dataStart)
    }

    private static func parseMetadata(_ value: SafeTensorsJSON, fail: (String) -> SafeTensorsError) throws
        -> [String: String]
    {
        guard case .object(let members) = value else {
            throw fail("\"__metadata__\" must be an object of strings, found \(value.kindName)")
        }
        var result = [String: String](minimumCapacity: members.count)
        for (key, item) in members {
            guard case .string(let s) = item else {
                throw fail("\"__metadata__\" entry '\(key)' must be a string, found \(item.kindName)")
            }
            guard result.updateValue(s, forKey: key) == nil else {
                throw fail("\"__metadata__\" has key '\(key)' more than once")
            }
        }
        return result
    }

    private static func parseTensorInfo(name: String, _ value: SafeTensorsJSON,
                                        fail: (String) -> SafeTensorsError) throws -> TensorInfo {
        guard case .object(let fields) = value else {
            throw fail("tensor '\(name)' must be an object with dtype, shape and data_offsets, "
                + "found \(value.kindName)")
        }
        func field(_ key: String) throws -> SafeTensorsJSON {
            let matches = fields.filter { $0.0 == key }
            guard matches.count == 1 else {
                throw fail(matches.isEmpty ? "tensor '\(name)' has no \"\(key)\""
                    : "tensor '\(name)' has \"\(key)\" more than once")
            }
            return matches[0].1
        }
        // dtype
        guard case .string(let dtypeName) = try field("dtype") else {
            throw fail("tensor '\(name)': \"dtype\" must be a string such as \"F32\"")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw fail("tensor '\(name)' has dtype \"\(dtypeName)\" which this reader does not support "
                + "(supported: \(DType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        // shape
        guard case .array(let dims) = try field("shape") else {
            throw fail("tensor '\(name)': \"shape\" must be an array of non-negative integers")
        }
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        var elements = 1
        for d in dims {
            guard case .number(let lexeme) = d, let v = SafeTensorsJSONParser.nonNegativeInt(lexeme) else {
                throw fail("tensor '\(name)': \"shape\" entries must be non-negative integers that fit "
                    + "in 64 bits, found \(d.summary)")
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: v)
            guard !overflow else {
                throw fail("tensor '\(name)': shape [\(dims.map(\.summary).joined(separator: ", "))] has an element count that "
                    + "overflows 64 bits")
            }
            elements = product
            shape.append(v)
        }
        let (byteCount, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else {
            throw fail("tensor '\(name)': shape \(shape) of \(dtypeName) needs more bytes than fit in 64 bits")
        }
        // data_offsets
        guard case .array(let offsets) = try field("data_offsets"), offsets.count == 2 else {
            throw fail("tensor '\(name)': \"data_offsets\" must be an array [begin, end] of two integers")
        }
        guard case .number(let b) = offsets[0], let begin = SafeTensorsJSONParser.nonNegativeInt(b),
              case .number(let e) = offsets[1], let end = SafeTensorsJSONParser.nonNegativeInt(e)
        else {
            throw fail("tensor '\(name)': \"data_offsets\" must hold two non-negative integers that fit "
                + "in 64 bits, found [\(offsets[0].summary), \(offsets[1].summary)]")
        }
        guard begin <= end else {
            throw fail("tensor '\(name)' has data_offsets [\(begin), \(end)] with begin after end")
        }
        guard end - begin == byteCount else {
            throw fail("tensor '\(name)': \(dtypeName) with shape \(shape) needs \(byteCount) bytes but "
                + "data_offsets [\(begin), \(end)] span \(end - begin)")
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
    }
}

/// A JSON value. Objects keep their members in order, duplicates included, so the caller can
/// reject them; numbers keep their text so integers are converted exactly.
enum SafeTensorsJSON {
    case object([(String, SafeTensorsJSON)])
    case array([SafeTensorsJSON])
    case string(String)
    case number(Substring)
    case bool(Bool)
    case null

    /// "an object", "a string", ... for error messages.
    var kindName: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }

    /// A short rendering for error messages.
    var summary: String {
        switch self {
        case .number(let s): return String(s.prefix(40))
        case .string(let s): return "\"\(s.prefix(40))\""
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        default: return kindName
        }
    }
}

/// A strict recursive-descent JSON parser over UTF-8 (RFC 8259), with a nesting limit.
struct SafeTensorsJSONParser {
    /// A parse failure with a message that names the byte offset.
    struct Failure: Error { let message: String }

    /// The deepest nesting accepted; a safetensors header needs 3.
    static let maxDepth = 64

    private let text: String
    private let bytes: [UInt8]
    private var pos = 0

    init(_ text: String) {
        self.text = text
        self.bytes = Array(text.utf8)
    }

    /// Parses one value surrounded by optional whitespace and nothing else.
    mutating func parseDocument() throws -> SafeTensorsJSON {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard pos == bytes.count else { throw failure("unexpected text after the top-level value") }
        return value
    }

    /// The value of a JSON integer lexeme if it is a non-negative integer (no fraction, no
    /// exponent) that fits in `Int`.
    static func nonNegativeInt(_ lexeme: Substring) -> Int? {
        guard !lexeme.isEmpty, lexeme.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(lexeme)
    }

    private func failure(_ what: String) -> Failure {
        Failure(message: "\(what) at byte \(pos) of the header")
    }

    private mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws -> SafeTensorsJSON {
        guard depth < Self.maxDepth else { throw failure("JSON nested deeper than \(Self.maxDepth) levels") }
        guard pos < bytes.count else { throw failure("unexpected end of the header") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure("unexpected character '\(Character(Unicode.Scalar(bytes[pos])))'")
        }
    }

    private mutating func expectLiteral(_ word: String) throws {
        let w = Array(word.utf8)
        guard pos + w.count <= bytes.count, Array(bytes[pos..<(pos + w.count)]) == w else {
            throw failure("invalid literal (expected \(word))")
        }
        pos += w.count
    }

    private mutating func parseObject(depth: Int) throws -> SafeTensorsJSON {
        pos += 1  // {
        var members: [(String, SafeTensorsJSON)] = []
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") {
            pos += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else {
                throw failure("expected a quoted key in an object")
            }
            let key = try parseString()
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw failure("expected ':'") }
            pos += 1
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            members.append((key, value))
            skipWhitespace()
            guard pos < bytes.count else { throw failure("unterminated object") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(members) }
            throw failure("expected ',' or '}' in an object")
        }
    }

    private mutating func parseArray(depth: Int) throws -> SafeTensorsJSON {
        pos += 1  // [
        var items: [SafeTensorsJSON] = []
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") {
            pos += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard pos < bytes.count else { throw failure("unterminated array") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            throw failure("expected ',' or ']' in an array")
        }
    }

    private mutating func parseNumber() throws -> SafeTensorsJSON {
        let start = pos
        func digits() -> Int {
            let s = pos
            while pos < bytes.count, bytes[pos] >= 0x30, bytes[pos] <= 0x39 { pos += 1 }
            return pos - s
        }
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < bytes.count else { throw failure("unterminated number") }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
        } else if digits() == 0 {
            throw failure("invalid number")
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            guard digits() > 0 else { throw failure("invalid number (no digits after '.')") }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard digits() > 0 else { throw failure("invalid number (no digits in exponent)") }
        }
        let utf8 = text.utf8
        let lo = utf8.index(utf8.startIndex, offsetBy: start)
        let hi = utf8.index(lo, offsetBy: pos - start)
        return .number(text[lo..<hi])
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard pos + 4 <= bytes.count else { throw failure("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw failure("invalid hex digit in \\u escape")
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    private mutating func parseString() throws -> String {
        pos += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else { throw failure("unterminated string") }
            let c = bytes[pos]
            pos += 1
            switch c {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard pos < bytes.count else { throw failure("unterminated escape") }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        guard pos + 2 <= bytes.count, bytes[pos] == UInt8(ascii: "\\"),
                              bytes[pos + 1] == UInt8(ascii: "u") else {
                            throw failure("unpaired surrogate in \\u escape")
                        }
                        pos += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw failure("invalid surrogate pair") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw failure("unpaired surrogate in \\u escape")
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw failure("invalid \\u escape") }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default:
                    throw failure("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
                }
            case 0x00..<0x20:
                throw failure("unescaped control character in a string")
            default:
                out.append(c)
            }
        }
    }
}
