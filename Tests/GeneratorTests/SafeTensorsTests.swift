import Foundation
import XCTest
@testable import Generator

/// SafeTensors reading, writing and validation against files written by Python's safetensors
/// (numpy and torch APIs); fixtures come from Tests/GeneratorTests/Scripts/make_safetensors_fixtures.py.
final class SafeTensorsTests: XCTestCase {
    private var tempDir: URL!

    override func setUpWithError() throws {
        tempDir = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tempDir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tempDir)
    }

    private func fixture(_ name: String) throws -> SafeTensors {
        try SafeTensors(contentsOf: TestUtils.fixture("safetensors/\(name)"))
    }

    private func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    // MARK: - Reading files written by Python

    func testReadsNumpyWrittenFile() throws {
        let f = try fixture("numpy_mixed.safetensors")
        XCTAssertEqual(Set(f.names), ["weight_f32", "half_f16", "double_f64", "frames_u8", "steps_i64",
                                      "mask_bool", "scalar", "empty"])
        XCTAssertEqual(f.metadata, ["note": "caf\u{e9} \u{2713} \"quoted\" back\\slash\nnew line\ttab \u{1}"])

        let w = try f.info("weight_f32")
        XCTAssertEqual(w.dtype, .f32)
        XCTAssertEqual(w.shape, [2, 3, 4])
        var expected = (0..<24).map { (Float($0) - 11.5) / 3 }
        expected[0] = -0.0
        expected[23] = 3.4028235e38
        expected[22] = Float(bitPattern: 1)
        expected[21] = .infinity
        XCTAssertEqual(bits(try f.floats("weight_f32")), bits(expected), "F32 must be read bit-exactly")

        XCTAssertEqual(try f.info("half_f16").dtype, .f16)
        let halves: [Float] = [0, -0.0, 65504, 6.103515625e-05, 5.960464477539063e-08, 0.333251953125,
                               -.infinity, 2.5]
        XCTAssertEqual(bits(try f.floats("half_f16")), bits(halves))

        XCTAssertEqual(try f.floats("double_f64"), [Float(Double.pi), Float(-1e-300), .infinity, Float(0.1)])

        XCTAssertEqual(try f.info("frames_u8").shape, [2, 2, 2, 3])
        XCTAssertEqual(try f.bytes("frames_u8"), (0..<24).map { UInt8($0 * 37 % 256) })
        XCTAssertEqual(try f.int64s("steps_i64"), [0, -1, (1 << 62) + 3, Int64.min])
        XCTAssertEqual(try f.bytes("mask_bool"), [1, 0, 1])

        let scalar = try f.info("scalar")
        XCTAssertEqual(scalar.shape, [])
        XCTAssertEqual(scalar.elementCount, 1)
        XCTAssertEqual(try f.floats("scalar"), [7.25])
        XCTAssertEqual(try f.info("empty").shape, [0, 3])
        XCTAssertEqual(try f.floats("empty"), [])

        // Zero-copy access sees the same bytes as the copying accessor.
        let raw = try f.withUnsafeBytes("weight_f32") { [UInt8]($0) }
        XCTAssertEqual(raw, try f.data("weight_f32"))
        XCTAssertEqual(raw.count, 96)
    }

    func testReadsTorchBF16File() throws {
        let f = try fixture("torch_bf16.safetensors")
        let info = try f.info("bf16")
        XCTAssertEqual(info.dtype, .bf16)
        XCTAssertEqual(info.shape, [3, 4])
        XCTAssertEqual(f.metadata, ["format": "pt"])
        // torch widened the same BF16 values to F32; the widening is exact, so bits must match.
        XCTAssertEqual(bits(try f.floats("bf16")), bits(try f.floats("bf16_as_f32")))
    }

    func testLookupAndConversionErrorsNameTheProblem() throws {
        let f = try fixture("numpy_mixed.safetensors")
        XCTAssertThrowsError(try f.floats("nope")) { error in
            guard case SafeTensorsError.tensorNotFound(let path, let message) = error else {
                return XCTFail("wrong error \(error)")
            }
            XCTAssertTrue(path.hasSuffix("numpy_mixed.safetensors"))
            XCTAssertTrue(message.contains("no tensor named 'nope'"), message)
            XCTAssertTrue(message.contains("'weight_f32'"), message)
        }
        XCTAssertThrowsError(try f.floats("frames_u8")) { error in
            guard case SafeTensorsError.unsupportedConversion(_, let message) = error else {
                return XCTFail("wrong error \(error)")
            }
            XCTAssertTrue(message.contains("is U8"), message)
        }
        XCTAssertThrowsError(try f.bytes("weight_f32"))
        XCTAssertThrowsError(try f.int64s("weight_f32"))
        XCTAssertThrowsError(try SafeTensors(path: tempDir.appendingPathComponent("missing.safetensors").path)) { error in
            guard case SafeTensorsError.io(_, let message) = error else { return XCTFail("wrong error \(error)") }
            XCTAssertTrue(message.contains("No such file"), message)
        }
        XCTAssertThrowsError(try SafeTensors(contentsOf: tempDir)) { error in
            guard case SafeTensorsError.io(_, let message) = error else { return XCTFail("wrong error \(error)") }
            XCTAssertTrue(message.contains("not a regular file"), message)
        }
    }

    // MARK: - Conversions against numpy and torch

    func testFloatToHalfMatchesNumpy() throws {
        let f = try fixture("conversions.safetensors")
        let inputs = try f.floats("f16_inputs")
        let expected = try f.withUnsafeBytes("f16_numpy") { Array($0.bindMemory(to: UInt16.self)) }
        XCTAssertEqual(inputs.count, expected.count)
        XCTAssertGreaterThan(inputs.count, 10_000)
        var mismatches = 0
        for (x, e) in zip(inputs, expected) where Float16Conversion.halfBits(from: x) != e {
            if mismatches < 5 {
                XCTFail("halfBits(\(x) = 0x\(String(x.bitPattern, radix: 16))) = 0x\(String(Float16Conversion.halfBits(from: x), radix: 16)), numpy 0x\(String(e, radix: 16))")
            }
            mismatches += 1
        }
        XCTAssertEqual(mismatches, 0)
    }

    func testHalfToFloatMatchesNumpy() throws {
        let f = try fixture("conversions.safetensors")
        let patterns = try f.withUnsafeBytes("half_patterns") { Array($0.bindMemory(to: UInt16.self)) }
        let expected = try f.floats("half_values_numpy")
        XCTAssertEqual(patterns.count, expected.count)
        XCTAssertEqual(patterns.map { Float16Conversion.float(fromHalfBits: $0).bitPattern }, bits(expected))
        // The reader's F16 path gives the same values.
        XCTAssertEqual(bits(try f.floats("half_patterns")), bits(expected))
    }

    func testFloatToBFloat16MatchesTorch() throws {
        let f = try fixture("conversions.safetensors")
        let inputs = try f.floats("bf16_inputs")
        let expected = try f.withUnsafeBytes("bf16_torch") { Array($0.bindMemory(to: UInt16.self)) }
        XCTAssertEqual(inputs.count, expected.count)
        let got = inputs.map { Float16Conversion.bfloat16Bits(from: $0) }
        // NaN: ours is the canonical quiet NaN 0x7FC0; torch's vectorised path gives another NaN
        // pattern, so NaNs are compared as NaNs.
        let isNaN = { (b: UInt16) in b & 0x7F80 == 0x7F80 && b & 0x7F != 0 }
        XCTAssertEqual(got.filter(isNaN).count, expected.filter(isNaN).count)
        XCTAssertGreaterThan(got.filter(isNaN).count, 0)
        let bad = zip(got, expected).enumerated().filter { $0.element.0 != $0.element.1 && !(isNaN($0.element.0) && isNaN($0.element.1)) }
        XCTAssertTrue(bad.isEmpty, "first mismatches: \(bad.prefix(5).map { "\(inputs[$0.offset]) -> \($0.element.0) vs torch \($0.element.1)" })")
    }

    #if !(os(macOS) && arch(x86_64))
    /// Cross-check against the compiler's own Float16 conversion (compiler-rt) over a dense
    /// stride of all binary32 patterns and every binary16 pattern.
    func testHalfConversionMatchesSwiftFloat16() {
        var bad = 0
        var pattern: UInt32 = 0
        while true {
            let x = Float(bitPattern: pattern)
            if !x.isNaN, Float16Conversion.halfBits(from: x) != Float16(x).bitPattern { bad += 1 }
            let (next, overflow) = pattern.addingReportingOverflow(4099)
            if overflow { break }
            pattern = next
        }
        XCTAssertEqual(bad, 0)
        for h in 0...UInt16.max {
            let swift = Float(Float16(bitPattern: h))
            let ours = Float16Conversion.float(fromHalfBits: h)
            if swift.isNaN {
                XCTAssertTrue(ours.isNaN)
            } else {
                XCTAssertEqual(ours.bitPattern, swift.bitPattern, "half 0x\(String(h, radix: 16))")
                XCTAssertEqual(Float16Conversion.halfBits(from: ours), h, "round trip of 0x\(String(h, radix: 16))")
            }
        }
    }
    #endif

    // MARK: - Writing

    /// A set of tensors with every writable kind, used by the writing tests.
    private func sampleEntries() -> [SafeTensors.Entry] {
        let values: [Float] = [0, -0.0, 1, -2.5, 65504, 65520, 1e-8, 3.0e-5, .infinity, -.infinity,
                               0.1, 1234.5678]
        return [
            .init(name: "w32", shape: [3, 4], floats: values),
            .init(name: "w16", shape: [2, 6], floats: values, as: .f16),
            .init(name: "wbf", shape: [12], floats: values, as: .bf16),
            .init(name: "frames", shape: [2, 1, 2, 2, 3], uint8: (0..<24).map { UInt8($0 * 11 % 256) }),
            .init(name: "steps", shape: [3], int64: [7, -9, Int64.max]),
            .init(name: "w64", shape: [2], floats: [1.5, -3.25], as: .f64),
        ]
    }

    func testWriteReadRoundTripIsExact() throws {
        let url = tempDir.appendingPathComponent("roundtrip.safetensors")
        let entries = sampleEntries()
        try SafeTensors.write(entries, metadata: ["b": "2", "a": "1"], to: url)
        let f = try SafeTensors(contentsOf: url)
        XCTAssertEqual(f.metadata, ["a": "1", "b": "2"])
        let values: [Float] = [0, -0.0, 1, -2.5, 65504, 65520, 1e-8, 3.0e-5, .infinity, -.infinity, 0.1, 1234.5678]
        XCTAssertEqual(bits(try f.floats("w32")), bits(values))
        XCTAssertEqual(try f.info("w16").shape, [2, 6])
        XCTAssertEqual(bits(try f.floats("w16")), values.map {
            Float16Conversion.float(fromHalfBits: Float16Conversion.halfBits(from: $0)).bitPattern })
        XCTAssertEqual(try f.floats("w16")[5], .infinity, "65520 rounds to F16 infinity")
        XCTAssertEqual(bits(try f.floats("wbf")), values.map {
            Float16Conversion.float(fromBFloat16Bits: Float16Conversion.bfloat16Bits(from: $0)).bitPattern })
        XCTAssertEqual(try f.bytes("frames"), (0..<24).map { UInt8($0 * 11 % 256) })
        XCTAssertEqual(try f.int64s("steps"), [7, -9, Int64.max])
        XCTAssertEqual(try f.floats("w64"), [1.5, -3.25])
        // The reference layout: widest dtype first, then by name.
        XCTAssertEqual(f.names, ["steps", "w64", "w32", "wbf", "w16", "frames"])
        XCTAssertEqual(try f.info("steps").dataOffsets.lowerBound, 0)
    }

    /// F16/BF16 encoding runs in 65 536-value chunks; a tensor spanning several chunks must
    /// convert every value exactly as the scalar conversion does.
    func testLargeHalfTensorsSpanChunks() throws {
        var rng = Philox(seed: 8)
        let values = rng.normal(count: 200_003, mean: 0, std: 1000)
        let url = tempDir.appendingPathComponent("big.safetensors")
        try SafeTensors.write([.init(name: "h", shape: [values.count], floats: values, as: .f16),
                               .init(name: "b", shape: [values.count], floats: values, as: .bf16)], to: url)
        let f = try SafeTensors(contentsOf: url)
        XCTAssertEqual(bits(try f.floats("h")), values.map {
            Float16Conversion.float(fromHalfBits: Float16Conversion.halfBits(from: $0)).bitPattern })
        XCTAssertEqual(bits(try f.floats("b")), values.map {
            Float16Conversion.float(fromBFloat16Bits: Float16Conversion.bfloat16Bits(from: $0)).bitPattern })
    }

    func testWritingIsDeterministicAndRewriteIsByteIdentical() throws {
        let a = tempDir.appendingPathComponent("a.safetensors")
        let b = tempDir.appendingPathComponent("b.safetensors")
        let c = tempDir.appendingPathComponent("c.safetensors")
        try SafeTensors.write(sampleEntries(), metadata: ["x": "1", "y": "2"], to: a)
        try SafeTensors.write(sampleEntries().reversed(), metadata: ["y": "2", "x": "1"], to: b)
        XCTAssertEqual(try Data(contentsOf: a), try Data(contentsOf: b), "input order must not matter")
        // Read a back and write its raw tensors again.
        let f = try SafeTensors(contentsOf: a)
        let raw = try f.tensors.map { SafeTensors.Entry(name: $0.name, dtype: $0.dtype, shape: $0.shape, bytes: try f.data($0.name)) }
        try SafeTensors.write(raw, metadata: f.metadata, to: c)
        XCTAssertEqual(try Data(contentsOf: a), try Data(contentsOf: c))
        XCTAssertEqual([UInt8](try Data(contentsOf: a)), try SafeTensors.serialize(raw, metadata: f.metadata))
        // The header is padded with spaces to a multiple of 8, like the reference writer.
        let bytes = [UInt8](try Data(contentsOf: a))
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        XCTAssertEqual(n % 8, 0)
        XCTAssertEqual(bytes[8], UInt8(ascii: "{"))
    }

    /// Swift re-encodes the Python-written fixtures: the bytes must be identical to the
    /// reference writer's (tensor order, JSON formatting, string escapes, padding).
    func testLayoutIsByteIdenticalToReferenceWriter() throws {
        for name in ["numpy_mixed.safetensors", "torch_bf16.safetensors", "conversions.safetensors",
                     "philox_golden.safetensors"] {
            let url = TestUtils.fixture("safetensors/\(name)")
            let f = try SafeTensors(contentsOf: url)
            let entries = try f.tensors.map { SafeTensors.Entry(name: $0.name, dtype: $0.dtype, shape: $0.shape, bytes: try f.data($0.name)) }
            let ours = try SafeTensors.serialize(entries, metadata: f.metadata)
            XCTAssertEqual(ours, [UInt8](try Data(contentsOf: url)), "\(name) re-encoded differs from the reference")
        }
    }

    func testPythonReadsSwiftWrittenFile() throws {
        let url = tempDir.appendingPathComponent("for_python.safetensors")
        // numpy cannot hold BF16, so this file has the dtypes numpy loads; BF16 bytes are
        // checked against torch in testFloatToBFloat16MatchesTorch.
        let values: [Float] = [0, -0.0, 1, -2.5, 65504, 1e-8, 3.0e-5, 0.1, 1234.5678, -7, 8, 9]
        try SafeTensors.write([
            .init(name: "w32", shape: [3, 4], floats: values),
            .init(name: "w16", shape: [12], floats: values, as: .f16),
            .init(name: "frames", shape: [2, 2, 3], uint8: (0..<12).map { UInt8($0 * 23) }),
            .init(name: "steps", shape: [2], int64: [-5, 1 << 40]),
        ], metadata: ["producer": "swift", "caf\u{e9}": "\u{2713} \"q\"\n"], to: url)
        let script = """
        import json, sys
        from safetensors.numpy import load_file
        from safetensors import safe_open
        t = load_file(sys.argv[1])
        with safe_open(sys.argv[1], framework="np") as f:
            meta = f.metadata()
        out = {k: {"dtype": str(v.dtype), "shape": list(v.shape),
                   "values": [float(x) if v.dtype.kind == "f" else int(x) for x in v.reshape(-1)]}
               for k, v in t.items()}
        print(json.dumps({"tensors": out, "metadata": meta}))
        """
        let output = try runPython(script, args: [url.path])
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: Any]
        XCTAssertEqual(json["metadata"] as? [String: String], ["producer": "swift", "caf\u{e9}": "\u{2713} \"q\"\n"])
        let tensors = json["tensors"] as! [String: [String: Any]]
        XCTAssertEqual(Set(tensors.keys), ["w32", "w16", "frames", "steps"])
        func floats(_ k: String) -> [Float] { (tensors[k]!["values"] as! [NSNumber]).map { Float($0.doubleValue) } }
        func ints(_ k: String) -> [Int64] { (tensors[k]!["values"] as! [NSNumber]).map { $0.int64Value } }
        XCTAssertEqual(tensors["w32"]!["dtype"] as? String, "float32")
        XCTAssertEqual(tensors["w32"]!["shape"] as? [Int], [3, 4])
        XCTAssertEqual(bits(floats("w32")), bits(values))
        XCTAssertEqual(tensors["w16"]!["dtype"] as? String, "float16")
        XCTAssertEqual(bits(floats("w16")), values.map {
            Float16Conversion.float(fromHalfBits: Float16Conversion.halfBits(from: $0)).bitPattern })
        XCTAssertEqual(tensors["frames"]!["dtype"] as? String, "uint8")
        XCTAssertEqual(tensors["frames"]!["shape"] as? [Int], [2, 2, 3])
        XCTAssertEqual(ints("frames"), (0..<12).map { Int64(UInt8($0 * 23)) })
        XCTAssertEqual(tensors["steps"]!["dtype"] as? String, "int64")
        XCTAssertEqual(ints("steps"), [-5, 1 << 40])
    }

    private func runPython(_ script: String, args: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + args
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            struct PythonFailed: Error, CustomStringConvertible { let description: String }
            throw PythonFailed(description: "python3 with numpy and safetensors is needed (scripts/setup.sh "
                + "installs them); it failed with: \(String(decoding: errData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }

    func testStreamWriterAppendsClipByClip() throws {
        let url = tempDir.appendingPathComponent("shard.safetensors")
        let (n, t, h, w) = (3, 2, 4, 5)
        let clipBytes = t * h * w * 3
        func clip(_ i: Int) -> [UInt8] { (0..<clipBytes).map { UInt8(($0 * 7 + i * 31) % 256) } }
        let captions: [Float] = (0..<(n * 4)).map { Float($0) * 0.37 - 1 }
        try SafeTensors.withStreamWriter(url: url, tensors: [
            .init(name: "frames", dtype: .u8, shape: [n, t, h, w, 3]),
            .init(name: "captions", dtype: .f16, shape: [n, 4]),
        ], metadata: ["kind": "shard"]) { writer in
            for i in 0..<n {
                // Interleave the two tensors and split one clip in two uneven pieces.
                let c = clip(i)
                try writer.append("frames", bytes: Array(c[0..<7]))
                try writer.append("captions", floats: Array(captions[(i * 4)..<(i * 4 + 4)]))
                try writer.append("frames", bytes: Array(c[7...]))
            }
            XCTAssertEqual(try writer.remainingBytes("frames"), 0)
        }
        let f = try SafeTensors(contentsOf: url)
        XCTAssertEqual(try f.info("frames").shape, [n, t, h, w, 3])
        XCTAssertEqual(try f.bytes("frames"), (0..<n).flatMap(clip))
        XCTAssertEqual(try f.floats("captions"), captions.map {
            Float16Conversion.float(fromHalfBits: Float16Conversion.halfBits(from: $0)) })
        // Streaming gives the same bytes as writing everything at once.
        let whole = try SafeTensors.serialize([
            .init(name: "frames", shape: [n, t, h, w, 3], uint8: (0..<n).flatMap(clip)),
            .init(name: "captions", shape: [n, 4], floats: captions, as: .f16),
        ], metadata: ["kind": "shard"])
        XCTAssertEqual([UInt8](try Data(contentsOf: url)), whole)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tempDir.path), ["shard.safetensors"])
    }

    func testWriterErrorsLeaveNoFileBehind() throws {
        let url = tempDir.appendingPathComponent("out.safetensors")
        try SafeTensors.write([.init(name: "keep", shape: [1], floats: [1])], to: url)
        let before = try Data(contentsOf: url)

        func expectArgumentError(_ fragment: String, _ body: () throws -> Void) {
            XCTAssertThrowsError(try body()) { error in
                guard case SafeTensorsError.invalidArgument(let path, let message) = error else {
                    return XCTFail("wrong error \(error)")
                }
                XCTAssertTrue(message.contains(fragment), "'\(message)' lacks '\(fragment)'")
                XCTAssertFalse(path.isEmpty)
            }
        }
        expectArgumentError("more than once") {
            try SafeTensors.write([.init(name: "a", shape: [1], floats: [1]), .init(name: "a", shape: [1], floats: [2])], to: url)
        }
        expectArgumentError("needs 8 bytes, 7 given") {
            try SafeTensors.write([.init(name: "a", dtype: .f32, shape: [2], bytes: [UInt8](repeating: 0, count: 7))], to: url)
        }
        expectArgumentError("3 elements, 2 values given") {
            try SafeTensors.write([.init(name: "a", shape: [3], floats: [1, 2])], to: url)
        }
        expectArgumentError("negative dimension") {
            try SafeTensors.write([.init(name: "a", shape: [-1], floats: [])], to: url)
        }
        expectArgumentError("reserved") {
            try SafeTensors.write([.init(name: "__metadata__", shape: [1], floats: [1])], to: url)
        }
        expectArgumentError("not I32") {
            try SafeTensors.write([.init(name: "a", shape: [1], floats: [1], as: .i32)], to: url)
        }
        expectArgumentError("left incomplete: 'a' (4 of 8 bytes)") {
            try SafeTensors.withStreamWriter(url: url, tensors: [.init(name: "a", dtype: .f32, shape: [2])]) { w in
                try w.append("a", floats: [1])
            }
        }
        expectArgumentError("4 are written and 8 more") {
            try SafeTensors.withStreamWriter(url: url, tensors: [.init(name: "a", dtype: .f32, shape: [2])]) { w in
                try w.append("a", floats: [1])
                try w.append("a", floats: [2, 3])
            }
        }
        expectArgumentError("no tensor 'b' was declared") {
            try SafeTensors.withStreamWriter(url: url, tensors: [.init(name: "a", dtype: .f32, shape: [1])]) { w in
                try w.append("b", floats: [1])
            }
        }
        // A writer dropped without finish() removes its temporary file.
        do {
            let w = try SafeTensors.StreamWriter(url: url, tensors: [.init(name: "a", dtype: .u8, shape: [4])])
            try w.append("a", bytes: [1, 2])
        }
        XCTAssertEqual(try Data(contentsOf: url), before, "a failed write must leave the old file untouched")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tempDir.path), ["out.safetensors"])
        XCTAssertThrowsError(try SafeTensors.write([], to: tempDir.appendingPathComponent("no/such/dir.safetensors"))) { error in
            guard case SafeTensorsError.io(_, let message) = error else { return XCTFail("wrong error \(error)") }
            XCTAssertTrue(message.contains("check that the folder exists"), message)
        }
    }

    // MARK: - Validation of corrupt files

    /// A file image from a header string and a data buffer; `length` overrides the prefix.
    private func image(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
        image(Array(header.utf8), data: data, length: length)
    }

    private func image(_ header: [UInt8], data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
        let n = length ?? UInt64(header.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + header + data
    }

    private func expectInvalid(_ bytes: [UInt8], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensors(bytes: bytes, name: "bad.safetensors"), file: file, line: line) { error in
            guard case SafeTensorsError.invalidFile(let path, let message) = error else {
                return XCTFail("wrong error \(error)", file: file, line: line)
            }
            XCTAssertEqual(path, "bad.safetensors", file: file, line: line)
            XCTAssertTrue(message.contains(fragment), "'\(message)' lacks '\(fragment)'", file: file, line: line)
            XCTAssertTrue(String(describing: error).hasPrefix("safetensors file 'bad.safetensors': "),
                          file: file, line: line)
        }
    }

    private func tensor(_ name: String = "t", dtype: String = "F32", shape: String = "[2]", offsets: String = "[0,8]") -> String {
        "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
    }

    func testValidHandBuiltImageIsAccepted() throws {
        // The control for the corruption cases below: this image is valid.
        let f = try SafeTensors(bytes: image("{\(tensor())}", data: [UInt8](repeating: 0, count: 8)))
        XCTAssertEqual(f.names, ["t"])
        XCTAssertEqual(try SafeTensors(bytes: image("{}")).names, [])
        XCTAssertEqual(try SafeTensors(bytes: image(" {\"__metadata__\":{}} ")).metadata, [:])
    }

    func testShortFiles() throws {
        expectInvalid([], "0 bytes long, shorter than the 8-byte header length prefix")
        expectInvalid([1, 2, 3], "3 bytes long")
        // Also through the file path (the mmap branch refuses to map short files).
        let url = tempDir.appendingPathComponent("short.safetensors")
        try Data([1, 0, 0]).write(to: url)
        XCTAssertThrowsError(try SafeTensors(contentsOf: url)) { error in
            XCTAssertTrue("\(error)".contains("3 bytes long"), "\(error)")
            XCTAssertTrue("\(error)".contains(url.path), "\(error)")
        }
        let empty = tempDir.appendingPathComponent("empty.safetensors")
        try Data().write(to: empty)
        XCTAssertThrowsError(try SafeTensors(contentsOf: empty))
    }

    func testHeaderLengthChecks() {
        expectInvalid(image("{}", length: 1 << 42), "claims 4398046511104 bytes, more than the 100000000-byte limit")
        expectInvalid(image("{}", length: UInt64.max), "more than the 100000000-byte limit")
        expectInvalid(image("{}", length: 3), "claims 3 bytes but only 2 follow")
        expectInvalid(image("{}", length: 99_999_999), "only 2 follow it; the file is truncated")
    }

    func testHeaderEncodingAndJSONChecks() {
        expectInvalid(image([0x7B, 0xFF, 0x7D]), "not valid UTF-8")
        expectInvalid(image("{\"t\":"), "not valid JSON: unexpected end of the header")
        expectInvalid(image("{\"t\":{}} x"), "unexpected text after the top-level value")
        expectInvalid(image("{'t':1}"), "expected a quoted key")
        expectInvalid(image("[1, 2]"), "not an object")
        expectInvalid(image("{\"a\":\"\\q\"}"), "invalid escape")
        expectInvalid(image("{\"a\":\"\\ud800\"}"), "unpaired surrogate")
        expectInvalid(image("{\"a\":01}"), "expected ',' or '}' in an object at byte 6")
        expectInvalid(image(String(repeating: "[", count: 100_000)), "nested deeper than 64 levels")
        expectInvalid(image("{\"a\":\"x\u{1}\"}"), "unescaped control character")
    }

    func testWrongJSONTypes() {
        let data = [UInt8](repeating: 0, count: 8)
        expectInvalid(image("{\"t\":[1]}", data: data), "tensor 't' must be an object")
        expectInvalid(image("{\"t\":{\"dtype\":1,\"shape\":[2],\"data_offsets\":[0,8]}}", data: data), "\"dtype\" must be a string")
        expectInvalid(image("{\(tensor(dtype: "F128"))}", data: data), "dtype \"F128\" which this reader does not support")
        expectInvalid(image("{\(tensor(shape: "\"2\""))}", data: data), "\"shape\" must be an array")
        expectInvalid(image("{\(tensor(shape: "[-2]"))}", data: data), "non-negative integers that fit in 64 bits, found -2")
        expectInvalid(image("{\(tensor(shape: "[2.0]"))}", data: data), "found 2.0")
        expectInvalid(image("{\(tensor(shape: "[99999999999999999999]"))}", data: data), "fit in 64 bits")
        expectInvalid(image("{\(tensor(offsets: "[0,8,9]"))}", data: data), "must be an array [begin, end]")
        expectInvalid(image("{\(tensor(offsets: "[0,-8]"))}", data: data), "two non-negative integers")
        expectInvalid(image("{\"t\":{\"dtype\":\"F32\",\"shape\":[2]}}", data: data), "tensor 't' has no \"data_offsets\"")
        expectInvalid(image("{\"t\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", data: data),
                      "has \"dtype\" more than once")
        expectInvalid(image("{\"__metadata__\":[\"a\"]}"), "\"__metadata__\" must be an object of strings")
        expectInvalid(image("{\"__metadata__\":{\"a\":1}}"), "\"__metadata__\" entry 'a' must be a string, found a number")
        expectInvalid(image("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}"), "has key 'a' more than once")
    }

    func testOffsetAndSizeChecks() {
        let data8 = [UInt8](repeating: 0, count: 8)
        let data16 = [UInt8](repeating: 0, count: 16)
        expectInvalid(image("{\(tensor(offsets: "[8,16]"))}", data: data8), "past the end of the 8-byte data buffer")
        expectInvalid(image("{\(tensor(offsets: "[8,0]"))}", data: data8), "with begin after end")
        expectInvalid(image("{\(tensor(offsets: "[0,4]"))}", data: [0, 0, 0, 0]), "needs 8 bytes but data_offsets [0, 4] span 4")
        expectInvalid(image("{\(tensor(dtype: "F16"))}", data: data8), "F16 with shape [2] needs 4 bytes")
        expectInvalid(image("{\(tensor("a")),\(tensor("b", offsets: "[4,12]"))}", data: data16 + [0, 0, 0, 0] ),
                      "tensor 'b' data_offsets [4, 12] overlap tensor 'a' which ends at 8")
        expectInvalid(image("{\(tensor("a")),\(tensor("b", offsets: "[12,20]"))}", data: data16 + [0, 0, 0, 0]),
                      "bytes 8..<12 of the data buffer belong to no tensor")
        expectInvalid(image("{\(tensor())}", data: data16), "the tensors cover only 8; 8 trailing bytes")
        expectInvalid(image("{\(tensor(shape: "[4294967296,4294967296]"))}", data: data8),
                      "shape [4294967296, 4294967296] has an element count that overflows 64 bits")
        expectInvalid(image("{\(tensor(shape: "[2305843009213693952]"))}", data: data8), "needs more bytes than fit in 64 bits")
        expectInvalid(image("{\(tensor("a")),\(tensor("a", offsets: "[8,16]"))}", data: data16),
                      "names tensor 'a' more than once")
        expectInvalid(image("{\"__metadata__\":{},\"__metadata__\":{}}"), "more than one \"__metadata__\"")
    }

    /// Thousands of seeded byte flips, insertions and truncations of a valid file: each must be
    /// read correctly or refused with a SafeTensorsError, never crash or read out of bounds.
    func testSeededMutationFuzz() throws {
        let valid = try SafeTensors.serialize(sampleEntries(), metadata: ["k": "v", "note": "fuzz"])
        let headerEnd = 8 + valid[0..<8].enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        var rng = Philox(seed: 0xF022, stream: 0)
        var accepted = 0, refused = 0
        for iteration in 0..<4000 {
            var bytes = valid
            switch iteration % 4 {
            case 0:  // flip 1-4 random bits anywhere in the prefix or header
                for _ in 0...rng.nextInt(below: 4) {
                    bytes[rng.nextInt(below: headerEnd)] ^= UInt8(1 << rng.nextInt(below: 8))
                }
            case 1:  // replace a header byte with a JSON-significant character
                let chars = Array("{}[]\",:0123456789-e. x\\".utf8)
                bytes[8 + rng.nextInt(below: headerEnd - 8)] = chars[rng.nextInt(below: chars.count)]
            case 2:  // truncate anywhere
                bytes.removeLast(1 + rng.nextInt(below: bytes.count))
            default:  // insert or delete a byte inside the header, or corrupt the length prefix
                let at = 8 + rng.nextInt(below: headerEnd - 8)
                if rng.nextInt(below: 2) == 0 { bytes.insert(0x20, at: at) } else { bytes.remove(at: at) }
                if rng.nextInt(below: 3) == 0 { bytes[rng.nextInt(below: 8)] = UInt8(truncatingIfNeeded: rng.nextUInt32()) }
            }
            do {
                let f = try SafeTensors(bytes: bytes, name: "fuzz")
                for t in f.tensors {
                    XCTAssertEqual(try f.data(t.name).count, t.byteCount)
                    if [.f32, .f16, .bf16, .f64].contains(t.dtype) { XCTAssertEqual(try f.floats(t.name).count, t.elementCount) }
                }
                accepted += 1
            } catch let error as SafeTensorsError {
                XCTAssertFalse(error.message.isEmpty)
                refused += 1
            }
        }
        XCTAssertGreaterThan(refused, 2500, "most mutations must be refused")
        // The mmap path shares the parser; run a slice of the same kind of inputs through files.
        let url = tempDir.appendingPathComponent("fuzz.safetensors")
        for _ in 0..<100 {
            var bytes = valid
            if rng.nextInt(below: 2) == 0 {
                bytes.removeLast(1 + rng.nextInt(below: bytes.count))
            } else {
                bytes[rng.nextInt(below: headerEnd)] ^= UInt8(1 << rng.nextInt(below: 8))
            }
            try Data(bytes).write(to: url)
            do {
                let f = try SafeTensors(contentsOf: url)
                for t in f.tensors { XCTAssertEqual(try f.data(t.name).count, t.byteCount) }
            } catch let error as SafeTensorsError {
                XCTAssertTrue(error.path.hasSuffix("fuzz.safetensors"))
            }
        }
        XCTAssertGreaterThan(accepted, 0, "some harmless mutations (e.g. in the padding) must still read")
    }
}
