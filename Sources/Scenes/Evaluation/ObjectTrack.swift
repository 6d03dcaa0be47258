/// Where a tracked object is in one frame.
public struct ObjectDetection: Sendable, Equatable {
    /// Centroid, as a fraction of the frame's width (0 = left edge).
    public var x: Float
    /// Centroid, as a fraction of the frame's height (0 = top edge).
    public var y: Float
    /// Pixels of the detected blob.
    public var area: Int
    /// The ball colour the blob's mean hue is nearest to (ball detections only).
    public var color: BallColor?

    /// Creates a detection.
    public init(x: Float, y: Float, area: Int, color: BallColor? = nil) {
        self.x = x
        self.y = y
        self.area = area
        self.color = color
    }
}

/// An object followed through a clip: one detection (or none) per frame, and what a viewer
/// would judge from them: whether the object is there, whether it moves smoothly, which way.
public struct ObjectTrack: Sendable, Equatable {
    /// Per frame, the detection or nil when the object was not found.
    public var detections: [ObjectDetection?]

    /// Creates a track.
    public init(detections: [ObjectDetection?]) { self.detections = detections }

    /// Frames where the object was found.
    public var presentFrames: Int { detections.filter { $0 != nil }.count }

    /// Share of frames where the object was found.
    public var presence: Double { Double(presentFrames) / Double(max(detections.count, 1)) }

    /// Median distance (fraction of the frame) the centroid moves between consecutive frames
    /// where it is found in both; nil with fewer than one such pair.
    public var medianStep: Double? {
        var steps = [Double]()
        for (a, b) in zip(detections, detections.dropFirst()) {
            guard let a, let b else { continue }
            let dx = Double(b.x - a.x), dy = Double(b.y - a.y)
            steps.append((dx * dx + dy * dy).squareRoot())
        }
        guard !steps.isEmpty else { return nil }
        steps.sort()
        let m = steps.count / 2
        return steps.count % 2 == 1 ? steps[m] : (steps[m - 1] + steps[m]) / 2
    }

    /// Horizontal direction of travel: the sign of the least-squares slope of x over the frames
    /// where the object was found; nil when it is found in fewer than half the frames or moves
    /// less than `minimumTravel` (a fraction of the width) over the clip by that fit.
    public func direction(minimumTravel: Double = 0.05) -> SceneDirection? {
        let points = detections.enumerated().compactMap { i, d in d.map { (Double(i), Double($0.x)) } }
        guard points.count * 2 >= detections.count, points.count >= 2 else { return nil }
        let mt = points.map(\.0).reduce(0, +) / Double(points.count)
        let mx = points.map(\.1).reduce(0, +) / Double(points.count)
        let sxy = points.reduce(0) { $0 + ($1.0 - mt) * ($1.1 - mx) }
        let sxx = points.reduce(0) { $0 + ($1.0 - mt) * ($1.0 - mt) }
        guard sxx > 0 else { return nil }
        let travel = sxy / sxx * Double(detections.count - 1)
        guard abs(travel) >= minimumTravel else { return nil }
        return travel > 0 ? .right : .left
    }

    /// The colour found in most frames (ties: the first in `BallColor.allCases`); nil when no
    /// detection carries a colour.
    public var majorityColor: BallColor? {
        var counts: [BallColor: Int] = [:]
        for d in detections { if let c = d?.color { counts[c, default: 0] += 1 } }
        return BallColor.allCases.filter { counts[$0] != nil }.max { counts[$0]! < counts[$1]! }
    }
}
