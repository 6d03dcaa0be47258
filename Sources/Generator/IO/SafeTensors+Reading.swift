import Foundation

#if _endian(big)
#error("SafeTensors reads little-endian data in place and assumes a little-endian host")
#endif

extension SafeTensors {
    /// Opens, maps and validates the safetensors file at `url`.
    /// - Throws: `SafeTensorsError.io` when the file cannot be opened or mapped,
    ///   `SafeTensorsError.invalidFile` when it is not a valid safetensors file.
    public convenience init(contentsOf url: URL) throws {
        try self.init(path: url.path)
    }

    /// Opens, maps and validates the safetensors file at `path`. The file is mapped read-only and
    /// stays mapped until this object is released; nothing but the header is read now.
    /// - Throws: `SafeTensorsError.io` when the file cannot be opened or mapped,
    ///   `SafeTensorsError.invalidFile` when it is not a valid safetensors file.
    public convenience init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let err = errno
            throw SafeTensorsError.io(path: path, message: "cannot open the file: \(String(cString: strerror(err)))"
                + (err == ENOENT ? " (check the path)" : ""))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw SafeTensorsError.io(path: path, message: "cannot stat the file: \(String(cString: strerror(errno)))")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw SafeTensorsError.io(path: path, message: "not a regular file (give the path of a .safetensors file, "
                + "not a folder or device)")
        }
        let size = Int(st.st_size)
        guard size >= 8 else {
            // Too short to map usefully; the header parser reports it like any other short input.
            _ = try [UInt8](repeating: 0, count: size).withUnsafeBytes { try SafeTensors.parseHeader($0, path: path) }
            throw SafeTensorsError.invalidFile(path: path, message: "the file is too short")
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw SafeTensorsError.io(path: path, message: "cannot map the file: \(String(cString: strerror(errno)))")
        }
        let mapping = UnsafeRawBufferPointer(start: base, count: size)
        let header: Header
        do {
            header = try SafeTensors.parseHeader(mapping, path: path)
        } catch {
            munmap(base, size)
            throw error
        }
        self.init(path: path, tensors: header.tensors, metadata: header.metadata, mapping: mapping,
                  isMapped: true, dataStart: header.dataStart)
    }

    /// Parses and validates a safetensors image held in memory (copied once). `name` stands in
    /// for the path in error messages.
    /// - Throws: `SafeTensorsError.invalidFile` when the bytes are not a valid safetensors file.
    public convenience init(bytes: [UInt8], name: String = "<memory>") throws {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        storage.copyBytes(from: bytes)
        let image = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(storage)[0..<bytes.count])
        let header: Header
        do {
            header = try SafeTensors.parseHeader(image, path: name)
        } catch {
            storage.deallocate()
            throw error
        }
        self.init(path: name, tensors: header.tensors, metadata: header.metadata,
                  mapping: UnsafeRawBufferPointer(start: storage.baseAddress, count: bytes.count),
                  isMapped: false, dataStart: header.dataStart)
    }

    /// The header entry of tensor `name`.
    /// - Throws: `SafeTensorsError.tensorNotFound` listing the names that exist.
    public func info(_ name: String) throws -> TensorInfo {
        guard let i = index[name] else {
            let known = tensors.prefix(8).map { "'\($0.name)'" }.joined(separator: ", ")
            let more = tensors.count > 8 ? " and \(tensors.count - 8) more" : ""
            throw SafeTensorsError.tensorNotFound(path: path, message: "no tensor named '\(name)'; the file has "
                + (tensors.isEmpty ? "no tensors" : "\(known)\(more)"))
        }
        return tensors[i]
    }

    /// Calls `body` with the raw little-endian bytes of tensor `name` as they lie in the mapped
    /// file (no copy). The pointer is valid only inside `body`; do not let it escape.
    /// - Throws: `SafeTensorsError.tensorNotFound`, or whatever `body` throws.
    public func withUnsafeBytes<R>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let t = try info(name)
        return try withExtendedLifetime(self) {
            try body(bytesOf(t))
        }
    }

    /// A copy of the raw bytes of tensor `name`, whatever its dtype.
    /// - Throws: `SafeTensorsError.tensorNotFound`.
    public func data(_ name: String) throws -> [UInt8] {
        let t = try info(name)
        return [UInt8](bytesOf(t))
    }

    /// The elements of tensor `name` as `Float`, row-major. F32 is copied; F16 and BF16 are
    /// widened exactly; F64 is rounded to nearest.
    /// - Throws: `SafeTensorsError.tensorNotFound`, or `.unsupportedConversion` for other dtypes.
    public func floats(_ name: String) throws -> [Float] {
        let t = try info(name)
        let src = bytesOf(t)
        let n = t.elementCount
        switch t.dtype {
        case .f32:
            return [Float](unsafeUninitializedCapacity: n) { buf, count in
                if n > 0 { UnsafeMutableRawPointer(buf.baseAddress!).copyMemory(from: src.baseAddress!, byteCount: n * 4) }
                count = n
            }
        case .f16:
            return [Float](unsafeUninitializedCapacity: n) { buf, count in
                for i in 0..<n {
                    buf[i] = Float16Conversion.float(fromHalfBits: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                }
                count = n
            }
        case .bf16:
            return [Float](unsafeUninitializedCapacity: n) { buf, count in
                for i in 0..<n {
                    buf[i] = Float16Conversion.float(fromBFloat16Bits: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                }
                count = n
            }
        case .f64:
            return [Float](unsafeUninitializedCapacity: n) { buf, count in
                for i in 0..<n { buf[i] = Float(src.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
                count = n
            }
        default:
            throw SafeTensorsError.unsupportedConversion(path: path, message: "tensor '\(name)' is \(t.dtype.rawValue); "
                + "floats() reads F32, F16, BF16 or F64 (use int64s(), bytes() or withUnsafeBytes())")
        }
    }

    /// The elements of U8 (or BOOL) tensor `name`, row-major.
    /// - Throws: `SafeTensorsError.tensorNotFound`, or `.unsupportedConversion` for other dtypes.
    public func bytes(_ name: String) throws -> [UInt8] {
        let t = try info(name)
        guard t.dtype == .u8 || t.dtype == .bool else {
            throw SafeTensorsError.unsupportedConversion(path: path, message: "tensor '\(name)' is \(t.dtype.rawValue); "
                + "bytes() reads U8 or BOOL (use data() for the raw bytes of any dtype)")
        }
        return [UInt8](bytesOf(t))
    }

    /// The elements of integer tensor `name` (I64, I32, I16, I8, U32, U16, U8, BOOL) as `Int64`.
    /// - Throws: `SafeTensorsError.tensorNotFound`, or `.unsupportedConversion` for float and
    ///   U64 tensors (U64 may not fit).
    public func int64s(_ name: String) throws -> [Int64] {
        let t = try info(name)
        let src = bytesOf(t)
        let n = t.elementCount
        func load<T: BinaryInteger>(_: T.Type) -> [Int64] {
            let size = MemoryLayout<T>.size
            return (0..<n).map { Int64(src.loadUnaligned(fromByteOffset: size * $0, as: T.self)) }
        }
        switch t.dtype {
        case .i64: return load(Int64.self)
        case .i32: return load(Int32.self)
        case .i16: return load(Int16.self)
        case .i8: return load(Int8.self)
        case .u32: return load(UInt32.self)
        case .u16: return load(UInt16.self)
        case .u8, .bool: return load(UInt8.self)
        default:
            throw SafeTensorsError.unsupportedConversion(path: path, message: "tensor '\(name)' is \(t.dtype.rawValue); "
                + "int64s() reads I64, I32, I16, I8, U32, U16, U8 or BOOL")
        }
    }

    /// The mapped bytes of `t` (valid while `self` lives).
    func bytesOf(_ t: TensorInfo) -> UnsafeRawBufferPointer {
        let start = dataStart + t.dataOffsets.lowerBound
        return UnsafeRawBufferPointer(rebasing: mapping[start..<(start + t.byteCount)])
    }
}
