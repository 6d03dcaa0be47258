import Foundation
import XCTest
@testable import Generator

/// The temporal transformer computed on channel-major maps in place (`frameAttention`,
/// `layerNormChannels`) against the row-major path that moves every position's frames to rows.
final class FrameAttentionTests: XCTestCase {
    /// A block with every weight away from its start (output projections, gates, bias, text).
    func wokenBlock(channels: Int, heads: Int, textDim: Int?, seed: UInt64) -> TemporalTransformer {
        var rng = Philox(seed: seed)
        let block = TemporalTransformer(channels: channels, heads: heads, maxDistance: 3, textDim: textDim, rng: &rng)
        var g = Philox(seed: seed + 1)
        for (_, p) in block.namedParameters() {
            p.assign(p.value + Tensor(shape: p.shape, data: g.normal(count: p.value.count, std: 0.3)))
        }
        return block
    }

    /// Output and every gradient (frames, text, each parameter) of both paths, for positions that
    /// fill whole vectors and a tail (5x7 = 35 positions: two of 16 and one of 3), heads of 8 and
    /// 16 channels, with and without the text projection, under each vector instruction set this
    /// CPU runs (the kernels are compiled for AVX-512 and for AVX2).
    func testChannelMajorBlockMatchesTheRowMajorPath() throws {
        try forEachVectorISA { level in try compareBlockPaths(level) }
    }

    private func compareBlockPaths(_ level: VectorKernels.ISA) throws {
        for (channels, heads, textDim, frames) in [(32, 4, 6 as Int?, 5), (32, 2, nil, 4), (16, 1, 6, 7)] {
            let block = wokenBlock(channels: channels, heads: heads, textDim: textDim, seed: UInt64(channels + heads))
            let clips = 2
            let x = randomTensor([clips * frames, channels, 5, 7], seed: 11)
            let text = textDim.map { randomTensor([clips, $0], seed: 12) }
            let weights = randomTensor([clips * frames, channels, 5, 7], seed: 13)
            func run(_ channelMajor: Bool) -> (y: [Float], grads: [String: [Float]]) {
                block.channelMajor = channelMajor
                let xv = x.detached().requiringGrad(), tv = text?.detached().requiringGrad()
                for (_, p) in block.namedParameters() { p.zeroGrad() }
                let y = block(xv, frames: frames, text: tv)
                (y * weights).sum().backward()
                var grads = ["x": xv.grad!.toArray()]
                if let tv { grads["text"] = tv.grad!.toArray() }
                for (name, p) in block.namedParameters() { grads[name] = p.grad?.toArray() ?? [] }
                return (y.toArray(), grads)
            }
            let rows = run(false), inPlace = run(true)
            let label = "[\(level.rawValue)] C \(channels), \(heads) heads, F \(frames), text \(textDim.map(String.init) ?? "none")"
            assertClose(inPlace.y, rows.y, label + ": output")
            XCTAssertEqual(Set(inPlace.grads.keys), Set(rows.grads.keys), label)
            for (name, g) in rows.grads {
                XCTAssertFalse(g.isEmpty, "\(label): \(name) has a gradient")
                if name == "attention.toK.bias" {
                    // A key bias adds q_i·b to every score of query i: the softmax does not see it, and
                    // both paths give it a gradient of rounding noise only.
                    let scale = rows.grads["attention.toK.weight"]!.map(abs).max()!
                    XCTAssertLessThan(g.map(abs).max()!, 1e-3 * scale, label)
                    XCTAssertLessThan(inPlace.grads[name]!.map(abs).max()!, 1e-3 * scale, label)
                    continue
                }
                assertClose(inPlace.grads[name]!, g, "\(label): gradient of \(name)")
            }
        }
    }

    /// `stackNeighbours` against the same stack built from slices and concatenations, value and
    /// gradient, for one frame and several.
    func testStackNeighboursMatchesSlicesAndConcatenation() throws {
        for frames in [1, 4] {
            let (b, c, h, w) = (2, 3, 2, 5)
            let a = randomTensor([b * frames, c, h, w], seed: 21)
            let weights = randomTensor([b * frames, 3 * c, h, w], seed: 22)
            let fused = stackNeighbours(a, frames: frames)
            (fused * weights).sum().backward()
            let fusedGrad = a.grad!.toArray()
            a.zeroGrad()
            let clips = a.reshaped([b, frames, c, h, w]), edge = Tensor.zeros([b, 1, c, h, w])
            let previous = frames > 1 ? Tensor.concat([edge, clips.slice(axis: 1, 0..<(frames - 1))], axis: 1) : edge
            let next = frames > 1 ? Tensor.concat([clips.slice(axis: 1, 1..<frames), edge], axis: 1) : edge
            let reference = Tensor.concat([previous, clips, next], axis: 2).reshaped([b * frames, 3 * c, h, w])
            (reference * weights).sum().backward()
            XCTAssertEqual(fused.toArray(), reference.toArray(), "\(frames) frames")
            XCTAssertEqual(fusedGrad, a.grad!.toArray(), "\(frames) frames: gradient")
        }
    }

    /// Relative agreement at fp32 rounding: |a - b| <= 1e-4 · max|b| + 1e-6 everywhere.
    func assertClose(_ a: [Float], _ b: [Float], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, label, file: file, line: line)
        let scale = b.map(abs).max() ?? 0
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-4 * scale + 1e-6, "\(label): max |diff| \(worst), max |ref| \(scale)",
                                 file: file, line: line)
    }
}
