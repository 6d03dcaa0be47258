import Foundation
import XCTest

/// Shared numeric helpers for Generator tests.
enum TestUtils {
    /// URL of a committed fixture file in Tests/GeneratorTests/Fixtures.
    static func fixture(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
    }
}

/// Asserts every element of `actual` is within `atol + rtol * |expected|` of `expected`.
func assertClose(_ actual: [Float], _ expected: [Float], rtol: Float = 1e-4, atol: Float = 1e-5,
                 _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "count mismatch \(message)", file: file, line: line)
    var worst: (Int, Float, Float)? = nil
    var worstExcess: Float = 0
    for i in 0..<min(actual.count, expected.count) {
        let diff = abs(actual[i] - expected[i])
        let tol = atol + rtol * abs(expected[i])
        if !(diff <= tol), diff - tol >= worstExcess {
            worstExcess = diff - tol
            worst = (i, actual[i], expected[i])
        }
    }
    if let (i, a, e) = worst {
        XCTFail("not close at \(i): got \(a), expected \(e) (rtol \(rtol), atol \(atol)) \(message)", file: file, line: line)
    }
}
