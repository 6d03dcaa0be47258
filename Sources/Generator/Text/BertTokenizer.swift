import Foundation

/// The full BERT uncased tokenizer of all-MiniLM-L6-v2, equal to Hugging Face `tokenizers` with
/// the model's `tokenizer.json` as sentence-transformers calls it: special tokens written in the
/// text ("[MASK]", ...) are kept whole, the rest goes through `BasicTokenizer` and
/// `WordPieceTokenizer`, the pieces are truncated to `maxLength - 2` and wrapped in
/// [CLS] ... [SEP].
public struct BertTokenizer: Sendable {
    /// Token ids of one text, and which positions are real tokens.
    public struct Encoding: Sendable, Equatable {
        /// Token ids, [CLS] first and [SEP] last; at most `maxLength` of them.
        public var ids: [Int]
        /// 1 for each real token; 0 for padding (only in padded batches).
        public var attentionMask: [Int]
        /// Number of real (unpadded) tokens.
        public var count: Int { attentionMask.reduce(0, +) }
    }

    /// Normalisation and word splitting.
    public var basic: BasicTokenizer
    /// Word-to-piece splitting over the vocabulary.
    public let wordPiece: WordPieceTokenizer
    /// Most tokens per text, specials included (sentence-transformers' max_seq_length, 256).
    public var maxLength: Int
    /// Id of [CLS], the first token.
    public let clsID: Int
    /// Id of [SEP], the last token.
    public let sepID: Int
    /// Id of [PAD], used to pad batches.
    public let padID: Int
    /// Special tokens matched verbatim in the raw text, with their ids, longest first.
    private let specials: [(scalars: [Unicode.Scalar], id: Int)]

    /// The special tokens of BERT's vocabulary that the reference matches in raw text.
    public static let specialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

    /// Creates a tokenizer over a WordPiece vocabulary.
    /// - Throws: `TextEncoderError.unreadableFile` when the vocabulary lacks a special token.
    public init(wordPiece: WordPieceTokenizer, basic: BasicTokenizer = BasicTokenizer(), maxLength: Int = 256) throws {
        precondition(maxLength >= 2, "maxLength \(maxLength) must leave room for [CLS] and [SEP]")
        var specials: [(scalars: [Unicode.Scalar], id: Int)] = []
        for token in Self.specialTokens {
            guard let id = wordPiece.id(of: token) else {
                throw TextEncoderError.unreadableFile(path: "vocabulary", reason: "no \(token) token")
            }
            specials.append((Array(token.unicodeScalars), id))
        }
        self.wordPiece = wordPiece
        self.basic = basic
        self.maxLength = maxLength
        self.clsID = wordPiece.id(of: "[CLS]")!
        self.sepID = wordPiece.id(of: "[SEP]")!
        self.padID = wordPiece.id(of: "[PAD]")!
        self.specials = specials.sorted { $0.scalars.count > $1.scalars.count }
    }

    /// Loads the tokenizer of a model folder from its `vocab.txt`.
    /// - Throws: `TextEncoderError` when the file is missing or malformed.
    public init(vocabularyFile url: URL, maxLength: Int = 256) throws {
        try self.init(wordPiece: WordPieceTokenizer(vocabularyFile: url), maxLength: maxLength)
    }

    /// The pieces of `text` as token ids, without [CLS]/[SEP] and without truncation.
    public func pieces(_ text: String) -> [Int] {
        var ids: [Int] = []
        let scalars = Array(text.unicodeScalars)
        var segmentStart = 0
        var i = 0
        func flush(upTo end: Int) {
            guard end > segmentStart else { return }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[segmentStart..<end])
            for word in basic.words(String(view)) {
                ids.append(contentsOf: wordPiece.tokenize(scalars: word))
            }
        }
        // Leftmost-longest match of special tokens on the raw text (they all start with "[").
        while i < scalars.count {
            if scalars[i] == "[", let special = specials.first(where: { matches($0.scalars, in: scalars, at: i) }) {
                flush(upTo: i)
                ids.append(special.id)
                i += special.scalars.count
                segmentStart = i
            } else {
                i += 1
            }
        }
        flush(upTo: scalars.count)
        return ids
    }

    /// Tokenises one text: [CLS], its pieces truncated to `maxLength - 2`, [SEP].
    public func encode(_ text: String) -> Encoding {
        let body = pieces(text).prefix(maxLength - 2)
        let ids = [clsID] + body + [sepID]
        return Encoding(ids: ids, attentionMask: Array(repeating: 1, count: ids.count))
    }

    /// Tokenises several texts and pads them with [PAD] (mask 0) to the longest one.
    public func encode(batch texts: [String]) -> [Encoding] {
        var encodings = texts.map(encode)
        let longest = encodings.map(\.ids.count).max() ?? 0
        for i in encodings.indices {
            let pad = longest - encodings[i].ids.count
            encodings[i].ids += Array(repeating: padID, count: pad)
            encodings[i].attentionMask += Array(repeating: 0, count: pad)
        }
        return encodings
    }

    /// The token strings of some ids ("[UNK]" for ids outside the vocabulary).
    public func tokens(_ ids: [Int]) -> [String] {
        ids.map { $0 >= 0 && $0 < wordPiece.vocabulary.count ? wordPiece.vocabulary[$0] : wordPiece.unknownToken }
    }

    private func matches(_ pattern: [Unicode.Scalar], in text: [Unicode.Scalar], at i: Int) -> Bool {
        guard i + pattern.count <= text.count else { return false }
        for k in 0..<pattern.count where text[i + k] != pattern[k] { return false }
        return true
    }
}
