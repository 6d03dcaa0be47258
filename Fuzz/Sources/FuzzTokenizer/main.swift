// libFuzzer target: arbitrary bytes (decoded as UTF-8 with replacement) through the BERT
// tokenizer: basic tokenization, WordPiece, ids, and back to tokens. The vocabulary is
// $T2V_FUZZ_VOCAB, else Fuzz/Corpus/vocab.txt (a 1,527-token subset of all-MiniLM-L6-v2's).
import Foundation
import FuzzDriver
import Generator

private let tokenizer: BertTokenizer = {
    let here = URL(fileURLWithPath: #filePath)
    let fallback = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Corpus/vocab.txt")
    let path = ProcessInfo.processInfo.environment["T2V_FUZZ_VOCAB"] ?? fallback.path
    do {
        return try BertTokenizer(vocabularyFile: URL(fileURLWithPath: path), maxLength: 64)
    } catch {
        fatalError("FuzzTokenizer: cannot load the vocabulary \(path): \(error)")
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    let encoding = tokenizer.encode(text)
    precondition(encoding.ids.count == encoding.attentionMask.count, "ids and mask differ in length")
    precondition(encoding.ids.count <= 64, "encoding longer than maxLength")
    _ = tokenizer.tokens(encoding.ids)
    _ = tokenizer.pieces(text)
    _ = tokenizer.basic.tokenize(text)
    return 0
}

/// The process entry point: libFuzzer's driver with `fuzzTokenizer` as the target (FuzzDriver).
@_cdecl("FuzzTokenizer_main")
public func FuzzTokenizerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv) { data, size in data.map { fuzzTokenizer($0, size) } ?? 0 }
}
