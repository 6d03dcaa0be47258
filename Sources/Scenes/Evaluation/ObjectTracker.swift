/// Finds the small moving object of a scene family in each frame, from the pixels alone: the
/// ball (a saturated disc on a low-saturation background) and the car (its white headlight on the
/// road). The report uses it to judge whether generated clips draw the object the prompt names,
/// in the colour it names, moving as it says, which the family classifier cannot see.
///
/// Frames are planar RGB `[3, size, size]` Float32 in [-1, 1] (the report's and the trainer's
/// layout); a clip is its frames back to back.
public enum ObjectTracker {
    /// The families with a tracked object.
    public static let families: [SceneFamily] = [.ball, .car]

    /// Tracks `family`'s object through `clip` (`frames` frames of `size` x `size`); nil for a
    /// family without a tracked object.
    ///
    /// - Precondition: `clip.count == frames * 3 * size * size`.
    public static func track(_ clip: [Float], family: SceneFamily, frames: Int, size: Int) -> ObjectTrack? {
        let n = 3 * size * size
        precondition(clip.count == frames * n, "ObjectTracker: \(clip.count) values are not \(frames) frames of 3x\(size)x\(size)")
        let detect: ([Float], Int) -> ObjectDetection?
        switch family {
        case .ball: detect = ball
        case .car: detect = headlight
        default: return nil
        }
        return ObjectTrack(detections: (0..<frames).map { f in detect(Array(clip[f * n..<(f + 1) * n]), size) })
    }

    /// The ball in one frame: the largest 4-connected blob of pixels whose chroma (max - min of
    /// R, G, B in [0, 1]) exceeds both 0.25 and the frame's median chroma + 0.2, accepted when its
    /// area fits a disc of the corpus's radii (0.075-0.11 of the frame, with margins for blur and
    /// scale: 0.35x the smallest to 2x the largest) and it is compact (bounding box aspect <= 2.2,
    /// filling >= 45% of it). Its colour is the ball colour nearest in hue to its mean.
    public static func ball(_ frame: [Float], size: Int) -> ObjectDetection? {
        let plane = size * size
        var chroma = [Float](repeating: 0, count: plane)
        for i in 0..<plane {
            let r = frame[i], g = frame[plane + i], b = frame[2 * plane + i]
            chroma[i] = (max(r, g, b) - min(r, g, b)) / 2
        }
        let median = chroma.sorted()[plane / 2]
        let threshold = max(0.25, median + 0.2)
        let mask = chroma.map { $0 > threshold }
        guard let blob = largestComponent(mask, size: size) else { return nil }
        let s = Float(size)
        let smallest = Float.pi * (0.075 * s) * (0.075 * s) * 0.35
        let largest = Float.pi * (0.11 * s) * (0.11 * s) * 2
        let area = Float(blob.pixels.count)
        guard area >= smallest, area <= largest else { return nil }
        let w = Float(blob.maxX - blob.minX + 1), h = Float(blob.maxY - blob.minY + 1)
        guard max(w, h) <= 2.2 * min(w, h), area >= 0.45 * w * h else { return nil }
        var mean = SIMD3<Float>(0, 0, 0)
        for i in blob.pixels { mean += SIMD3(frame[i], frame[plane + i], frame[2 * plane + i]) }
        mean = (mean / area + 1) / 2
        return ObjectDetection(x: blob.centroidX / s, y: blob.centroidY / s, area: blob.pixels.count,
                               color: nearestBallColor(red: mean.x, green: mean.y, blue: mean.z))
    }

    /// The car's headlight in one frame: in the lower 45% of the frame (the road; the street
    /// lamps hang higher), the largest 4-connected blob of near-white pixels (min of R, G, B in
    /// [0, 1] above 0.6 and above the region's 99th percentile of that minimum minus 0.15).
    public static func headlight(_ frame: [Float], size: Int) -> ObjectDetection? {
        let plane = size * size
        let top = Int((0.55 * Float(size)).rounded(.down))
        var white = [Float](repeating: 0, count: plane)
        var region = [Float]()
        for y in top..<size {
            for x in 0..<size {
                let i = y * size + x
                let v = (min(frame[i], frame[plane + i], frame[2 * plane + i]) + 1) / 2
                white[i] = v
                region.append(v)
            }
        }
        guard !region.isEmpty else { return nil }
        region.sort()
        let p99 = region[min(region.count - 1, Int(0.99 * Float(region.count)))]
        let threshold = max(0.6, p99 - 0.15)
        var mask = [Bool](repeating: false, count: plane)
        for y in top..<size { for x in 0..<size { mask[y * size + x] = white[y * size + x] > threshold } }
        guard let blob = largestComponent(mask, size: size) else { return nil }
        guard Float(blob.pixels.count) <= 0.02 * Float(plane) + 4 else { return nil }
        let s = Float(size)
        return ObjectDetection(x: blob.centroidX / s, y: blob.centroidY / s, area: blob.pixels.count)
    }

    /// The ball colour whose base colour is nearest in hue to (red, green, blue) in [0, 1].
    static func nearestBallColor(red: Float, green: Float, blue: Float) -> BallColor {
        let hue = Self.hue(red, green, blue)
        return BallColor.allCases.min { a, b in
            hueDistance(hue, Self.hue(a.color.r, a.color.g, a.color.b)) < hueDistance(hue, Self.hue(b.color.r, b.color.g, b.color.b))
        }!
    }

    /// Hue in [0, 1) of an RGB colour (HSV).
    static func hue(_ r: Float, _ g: Float, _ b: Float) -> Float {
        let mx = max(r, g, b), mn = min(r, g, b), d = mx - mn
        guard d > 0 else { return 0 }
        var h: Float
        if mx == r { h = (g - b) / d } else if mx == g { h = 2 + (b - r) / d } else { h = 4 + (r - g) / d }
        h /= 6
        return h < 0 ? h + 1 : h
    }

    static func hueDistance(_ a: Float, _ b: Float) -> Float {
        let d = abs(a - b)
        return min(d, 1 - d)
    }

    /// A 4-connected blob of a mask.
    struct Blob {
        var pixels: [Int] = []
        var minX = Int.max, maxX = Int.min, minY = Int.max, maxY = Int.min
        var sumX = 0, sumY = 0
        var centroidX: Float { Float(sumX) / Float(pixels.count) + 0.5 }
        var centroidY: Float { Float(sumY) / Float(pixels.count) + 0.5 }
    }

    /// The largest 4-connected component of `mask` (`size` x `size`, row-major); nil when empty.
    static func largestComponent(_ mask: [Bool], size: Int) -> Blob? {
        var seen = [Bool](repeating: false, count: mask.count)
        var best: Blob? = nil
        var stack = [Int]()
        for start in mask.indices where mask[start] && !seen[start] {
            var blob = Blob()
            seen[start] = true
            stack.append(start)
            while let i = stack.popLast() {
                let x = i % size, y = i / size
                blob.pixels.append(i)
                blob.minX = min(blob.minX, x); blob.maxX = max(blob.maxX, x)
                blob.minY = min(blob.minY, y); blob.maxY = max(blob.maxY, y)
                blob.sumX += x; blob.sumY += y
                for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)] where nx >= 0 && nx < size && ny >= 0 && ny < size {
                    let j = ny * size + nx
                    if mask[j] && !seen[j] { seen[j] = true; stack.append(j) }
                }
            }
            if blob.pixels.count > (best?.pixels.count ?? 0) { best = blob }
        }
        return best
    }
}
