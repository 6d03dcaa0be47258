/// BERT's basic (pre-WordPiece) tokenisation, matching Hugging Face `tokenizers`'
/// `BertNormalizer` + `BertPreTokenizer` (and Google BERT's `BasicTokenizer`):
///
/// 1. clean text: drop NUL, U+FFFD and control characters (general category C*, except tab, LF
///    and CR); map every whitespace character (Unicode `White_Space`) to a space;
/// 2. pad CJK ideographs with spaces, so each becomes its own word;
/// 3. strip accents (NFD, then drop non-spacing marks, category Mn); on by default when
///    lowercasing;
/// 4. lowercase, one Unicode scalar at a time (no context rules: capital sigma always becomes σ);
/// 5. split on whitespace, and split off every punctuation character as a word of its own
///    (ASCII 33-47, 58-64, 91-96, 123-126 and Unicode categories P*).
///
/// All work is on Unicode scalars, never grapheme clusters, as the reference does on Rust `char`s.
public struct BasicTokenizer: Sendable, Codable, Equatable {
    /// Lowercase the text (an uncased model).
    public var lowercase: Bool = true
    /// Strip accents; `nil` follows `lowercase`, as `tokenizers` does.
    public var stripAccents: Bool? = nil
    /// Put spaces around CJK ideographs.
    public var handleChineseCharacters: Bool = true
    /// Drop control characters and map whitespace to spaces.
    public var cleanText: Bool = true

    /// Creates a basic tokenizer; the defaults are those of an uncased BERT.
    public init(lowercase: Bool = true, stripAccents: Bool? = nil,
                handleChineseCharacters: Bool = true, cleanText: Bool = true) {
        self.lowercase = lowercase
        self.stripAccents = stripAccents
        self.handleChineseCharacters = handleChineseCharacters
        self.cleanText = cleanText
    }

    /// The normalised text (steps 1-4), before splitting into words.
    public func normalize(_ text: String) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: normalizedScalars(text))
        return String(view)
    }

    /// The words of `text` (steps 1-5) in order; punctuation characters are words of their own.
    public func tokenize(_ text: String) -> [String] {
        words(text).map { scalars in
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            return String(view)
        }
    }

    /// The words of `text` as Unicode scalar arrays (what WordPiece consumes).
    func words(_ text: String) -> [[Unicode.Scalar]] {
        let scalars = normalizedScalars(text)
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for s in scalars {
            if Self.isWhitespace(s) {
                if !current.isEmpty { words.append(current); current.removeAll(keepingCapacity: true) }
            } else if Self.isPunctuation(s) {
                if !current.isEmpty { words.append(current); current.removeAll(keepingCapacity: true) }
                words.append([s])
            } else {
                current.append(s)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// Steps 1-4 in the reference's order: clean, CJK padding, accent stripping, lowercasing.
    func normalizedScalars(_ text: String) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.unicodeScalars.count + 8)
        let space: Unicode.Scalar = " "
        for s in text.unicodeScalars {
            if cleanText {
                if s.value == 0 || s.value == 0xFFFD || Self.isControl(s) { continue }
                if Self.isWhitespace(s) { out.append(space); continue }
            }
            if handleChineseCharacters && Self.isChineseCharacter(s) {
                out.append(space); out.append(s); out.append(space)
            } else {
                out.append(s)
            }
        }
        if stripAccents ?? lowercase {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: out)
            let decomposed = String(view).decomposedStringWithCanonicalMapping
            out.removeAll(keepingCapacity: true)
            for s in decomposed.unicodeScalars where s.properties.generalCategory != .nonspacingMark {
                out.append(s)
            }
        }
        if lowercase {
            var lowered: [Unicode.Scalar] = []
            lowered.reserveCapacity(out.count)
            for s in out {
                // ASCII fast path; otherwise the full (context-free) Unicode lowercase mapping.
                if s.value < 0x80 {
                    lowered.append((0x41...0x5A).contains(s.value) ? Unicode.Scalar(s.value + 32)! : s)
                } else {
                    lowered.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
                }
            }
            out = lowered
        }
        return out
    }

    /// Whitespace as BERT sees it: tab, LF, CR and every `White_Space` character.
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09, 0x0A, 0x0D, 0x20: return true
        case 0..<0x80: return false
        default: return s.properties.isWhitespace
        }
    }

    /// Control characters as BERT sees them: general category C* except tab, LF and CR.
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09, 0x0A, 0x0D: return false
        default:
            switch s.properties.generalCategory {
            case .control, .format, .surrogate, .privateUse, .unassigned: return true
            default: return false
            }
        }
    }

    /// Punctuation as BERT sees it: the four ASCII symbol ranges plus Unicode categories P*.
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) {
            return true
        }
        if v < 0x80 { return false }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// CJK ideographs, with the ranges of `tokenizers`' BertNormalizer (which starts the
    /// Extension E range at U+2B920 where Google's Python code has U+2B820).
    static func isChineseCharacter(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
