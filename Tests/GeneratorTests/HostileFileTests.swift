import Foundation
import XCTest
@testable import Generator

/// Hostile inputs to the Generator's parsers: a safetensors header claiming terabytes, and text
/// built to be slow or odd for the tokenizer. Each is refused with a clear error or handled in
/// bounded time and memory. The fuzz targets in Fuzz/ explore the same entry points at random.
final class HostileFileTests: XCTestCase {
    /// A safetensors image: 8-byte little-endian header length, the header, then `data`.
    func image(_ header: String, data: [UInt8] = []) -> [UInt8] {
        let h = Array(header.utf8)
        var out = withUnsafeBytes(of: UInt64(h.count).littleEndian) { Array($0) }
        out += h
        out += data
        return out
    }

    func testHeaderClaimingTerabytesIsRefused() {
        let cases: [(String, String)] = [
            // 2^60 float32s (4 EiB) in 4 bytes of data.
            (#"{"x":{"dtype":"F32","shape":[1073741824,1073741824],"data_offsets":[0,4]}}"#, "x"),
            // The product of the shape overflows Int.
            (#"{"x":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}}"#, "x"),
            // Offsets of terabytes past a 4-byte buffer.
            (#"{"x":{"dtype":"U8","shape":[1099511627776],"data_offsets":[0,1099511627776]}}"#, "x"),
            // Offsets past Int64.
            (#"{"x":{"dtype":"U8","shape":[4],"data_offsets":[0,99999999999999999999999]}}"#, "x"),
        ]
        for (header, name) in cases {
            XCTAssertThrowsError(try SafeTensors(bytes: image(header, data: [0, 0, 0, 0]), name: "big.safetensors")) { error in
                let text = "\(error)"
                XCTAssertTrue(text.hasPrefix("safetensors file 'big.safetensors': "), text)
                XCTAssertTrue(text.contains("'\(name)'") || text.contains("data buffer") || text.contains("JSON"), text)
            }
        }
    }

    func testDeeplyNestedHeaderIsRefusedWithoutStackOverflow() {
        let header = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        XCTAssertThrowsError(try SafeTensors(bytes: image(header), name: "deep")) { error in
            XCTAssertTrue("\(error)".contains("not valid JSON"), "\(error)")
        }
    }

    func tokenizer() throws -> BertTokenizer {
        let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "##a", "##b", "ab", "!", "北"]
        return try BertTokenizer(wordPiece: WordPieceTokenizer(vocabulary: vocab), maxLength: 16)
    }

    /// A 400 KB word, 100 KB of punctuation, 20,000 combining marks and control characters: the
    /// encoding is capped at maxLength, the over-long word is one [UNK] (the reference's
    /// max_input_chars_per_word = 100 rule), accents are stripped and controls dropped.
    func testHostileTextStaysBounded() throws {
        let t = try tokenizer()
        let long = t.encode(String(repeating: "ab", count: 200_000))
        XCTAssertEqual(long.ids, [2, 1, 3])
        let punctuation = t.encode(String(repeating: "!", count: 100_000))
        XCTAssertEqual(punctuation.ids.count, 16)
        XCTAssertEqual(punctuation.ids.prefix(3), [2, 10, 10])
        XCTAssertEqual(punctuation.ids.last, 3, "truncated to maxLength with [SEP] last")
        let marks = t.encode("a" + String(repeating: "\u{0301}", count: 20_000) + " \u{0000}\u{FFFD}\u{200B}北")
        XCTAssertEqual(marks.ids, [2, 5, 11, 3], "[CLS] a 北 [SEP]")
        XCTAssertEqual(t.encode("").ids.prefix(2), [2, 3])
    }
}
