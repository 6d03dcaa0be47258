/// Which way a clip's clouds drift, read from the pixels: the horizontal shift that best maps the
/// sky in one frame onto the sky 8 frames later (mean absolute difference of brightness over the
/// overlapping columns of the upper 70% of the frame, where the clouds are; hills below are
/// static), summed over the clip's frame pairs. A shift right is the clouds moving right.
public enum CloudDrift {
    /// Frames between the two frames compared (clouds move about 0.3-1 px a frame at 32x32).
    public static let gap = 8

    /// The clip's mean horizontal drift in pixels per frame (positive: rightwards) and its
    /// direction (nil when the best shift is 0 or the clip is shorter than `gap` + 1 frames).
    /// `clip` is `frames` x 3 x `size` x `size` values in [-1, 1], frame-major.
    public static func measure(_ clip: [Float], frames: Int, size: Int) -> (pixelsPerFrame: Double, direction: SceneDirection?) {
        guard frames > gap else { return (0, nil) }
        let plane = size * size, rows = max(1, size * 7 / 10), maxShift = size / 3
        func brightness(_ f: Int) -> [Float] {
            let base = f * 3 * plane
            return (0..<(rows * size)).map { clip[base + $0] + clip[base + plane + $0] + clip[base + 2 * plane + $0] }
        }
        let luma = (0..<frames).map(brightness)
        var costs = [Double](repeating: 0, count: 2 * maxShift + 1)
        for f in 0..<(frames - gap) {
            let a = luma[f], b = luma[f + gap]
            for (k, dx) in (-maxShift...maxShift).enumerated() {
                var sum: Float = 0
                var n = 0
                for y in 0..<rows {
                    for x in max(0, -dx)..<min(size, size - dx) {
                        sum += abs(b[y * size + x + dx] - a[y * size + x])
                        n += 1
                    }
                }
                costs[k] += Double(sum) / Double(max(n, 1))
            }
        }
        let best = costs.indices.min { costs[$0] < costs[$1] }! - maxShift
        let direction: SceneDirection? = best > 0 ? .right : best < 0 ? .left : nil
        return (Double(best) / Double(gap), direction)
    }
}
