import XCTest
@testable import FrameIO

/// The curve plot's axis: labels with enough decimals for the range, a margin that fits them.
final class MetricsPlotTests: XCTestCase {
    func testLabelsKeepTheDigitsTheRangeNeeds() {
        XCTAssertEqual(MetricsPlot.label(0.95), "0.95")
        XCTAssertEqual(MetricsPlot.label(0.5), "0.50")
        XCTAssertEqual(MetricsPlot.label(-0.5), "-0.50")
        XCTAssertEqual(MetricsPlot.label(12.3456), "12.35")
        XCTAssertEqual(MetricsPlot.label(0.005, decimals: 3), "0.005")
        XCTAssertEqual(MetricsPlot.label(0.0012, decimals: 4), "0.0012")
        XCTAssertEqual(MetricsPlot.label(-0.0001, decimals: 2), "0.00", "no minus sign on a value that rounds to zero")
    }

    /// A loss curve between 0 and 0.01: the grid lines (every 0.002) must get distinct labels,
    /// drawn inside the left margin, so the first curve column stays right of the longest label.
    func testSmallRangesGetDistinctLabels() throws {
        let values = (0..<50).map { 0.01 * Double($0) / 49 }
        let image = try MetricsPlot.render([.init(values: values, color: (30, 90, 220))], width: 400, height: 200, yRange: 0...0.01)
        XCTAssertEqual(image.width, 400)
        // Labels "0.000" ... "0.010": five characters of 8 px, so the chart starts at x >= 44.
        let packed = image.packedRGB
        var firstBlue = Int.max
        for y in 0..<image.height {
            for x in 0..<image.width {
                let i = (y * image.width + x) * 3
                if packed[i] == 30, packed[i + 1] == 90, packed[i + 2] == 220 { firstBlue = min(firstBlue, x) }
            }
        }
        XCTAssertGreaterThanOrEqual(firstBlue, 8 * 5 + 2, "the curve starts right of the labels")
    }
}
