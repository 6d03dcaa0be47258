import Foundation

/// Greedy longest-match-first WordPiece over a fixed vocabulary, as in BERT and Hugging Face
/// `tokenizers`' `WordPiece` model: a word is split into the longest vocabulary entry that
/// starts it, then the longest `##`-prefixed entry that continues it, and so on. A word with no
/// such split, or longer than `maxInputCharactersPerWord` Unicode scalars, becomes one unknown
/// token.
public struct WordPieceTokenizer: Sendable {
    /// The vocabulary, indexed by token id.
    public let vocabulary: [String]
    /// The unknown token ("[UNK]").
    public let unknownToken: String
    /// The id of `unknownToken`.
    public let unknownID: Int
    /// The prefix marking a piece that continues a word ("##").
    public let continuingPrefix: String
    /// Words longer than this many Unicode scalars become `unknownToken` (100 in BERT).
    public var maxInputCharactersPerWord: Int

    /// Token ids keyed by their UTF-8 bytes: Swift `String` equality is canonical equivalence,
    /// the reference compares code points exactly.
    private let ids: [[UInt8]: Int]

    /// Creates a tokenizer over `vocabulary` (token id = index).
    /// - Throws: `TextEncoderError.unreadableFile` (path "vocabulary") when `unknownToken` is
    ///   not in the vocabulary.
    public init(vocabulary: [String], unknownToken: String = "[UNK]", continuingPrefix: String = "##",
                maxInputCharactersPerWord: Int = 100) throws {
        var ids: [[UInt8]: Int] = [:]
        ids.reserveCapacity(vocabulary.count)
        for (i, token) in vocabulary.enumerated() where ids[Array(token.utf8)] == nil {
            ids[Array(token.utf8)] = i
        }
        guard let unk = ids[Array(unknownToken.utf8)] else {
            throw TextEncoderError.unreadableFile(path: "vocabulary",
                                                  reason: "the unknown token \(unknownToken) is not in it")
        }
        self.vocabulary = vocabulary
        self.ids = ids
        self.unknownToken = unknownToken
        self.unknownID = unk
        self.continuingPrefix = continuingPrefix
        self.maxInputCharactersPerWord = maxInputCharactersPerWord
    }

    /// Loads a BERT `vocab.txt` (one token per line, id = line number from 0).
    /// - Throws: `TextEncoderError.missingFile` or `.unreadableFile` when the file is missing,
    ///   not UTF-8, or lacks "[UNK]".
    public init(vocabularyFile url: URL) throws {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TextEncoderError.missingFile(path: url.path)
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TextEncoderError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TextEncoderError.unreadableFile(path: url.path, reason: "not UTF-8 text")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        if lines.last == "" { lines.removeLast() }
        do {
            try self.init(vocabulary: lines)
        } catch {
            throw TextEncoderError.unreadableFile(path: url.path, reason: "no [UNK] token; not a BERT vocab.txt")
        }
    }

    /// The id of `token`, or nil when it is not in the vocabulary.
    public func id(of token: String) -> Int? { ids[Array(token.utf8)] }

    /// The token ids of one word (no whitespace or punctuation splitting is done here).
    public func tokenize(word: String) -> [Int] { tokenize(scalars: Array(word.unicodeScalars)) }

    /// The token ids of one word given as Unicode scalars.
    func tokenize(scalars word: [Unicode.Scalar]) -> [Int] {
        if word.isEmpty { return [] }
        if word.count > maxInputCharactersPerWord { return [unknownID] }
        let utf8 = word.map { Array(String($0).utf8) }
        let prefix = Array(continuingPrefix.utf8)
        var pieces: [Int] = []
        var start = 0
        var key: [UInt8] = []
        key.reserveCapacity(4 * word.count + prefix.count)
        while start < word.count {
            var end = word.count
            var found: Int? = nil
            while start < end {
                key.removeAll(keepingCapacity: true)
                if start > 0 { key.append(contentsOf: prefix) }
                for i in start..<end { key.append(contentsOf: utf8[i]) }
                if let id = ids[key] { found = id; break }
                end -= 1
            }
            guard let id = found else { return [unknownID] }
            pieces.append(id)
            start = end
        }
        return pieces
    }
}
