/// What `ObjectTracker` finds in a set of clips of one family, summarised as the report shows
/// it: is the object drawn, in the named colour, moving as smoothly as in real clips, and in the
/// named direction.
public struct ObjectJudgement: Sendable {
    /// The family judged.
    public let family: SceneFamily
    /// One track per clip.
    public let tracks: [ObjectTrack]
    /// Per clip, the attributes its caption names (nil: names none, or is unknown).
    public let named: [SceneAttributes?]

    /// A clip counts as drawing the object when it is found in at least this share of frames.
    public static let drawnPresence = 0.5
    /// A clip holds the object when it is found in at least this share of frames (14 of 16).
    public static let heldPresence = 14.0 / 16.0

    /// Tracks `clips` (each `frames` x 3 x `size` x `size`) of `family`, with the caption of each.
    ///
    /// - Precondition: `family` has a tracked object; one caption per clip.
    public init(family: SceneFamily, clips: [[Float]], captions: [String], frames: Int, size: Int) {
        precondition(ObjectTracker.families.contains(family), "ObjectJudgement: \(family.id) has no tracked object")
        precondition(clips.count == captions.count, "ObjectJudgement: \(clips.count) clips but \(captions.count) captions")
        self.family = family
        tracks = clips.map { ObjectTracker.track($0, family: family, frames: frames, size: size)! }
        named = captions.map { Scenes.namedAttributes($0, family: family) }
    }

    /// Clips judged.
    public var count: Int { tracks.count }
    /// Share of all frames where the object was found.
    public var framePresence: Double {
        Double(tracks.map(\.presentFrames).reduce(0, +)) / Double(max(tracks.map(\.detections.count).reduce(0, +), 1))
    }
    /// Clips where the object is drawn (found in at least half the frames).
    public var drawn: Int { tracks.filter { $0.presence >= Self.drawnPresence }.count }
    /// Clips where the object is held (found in at least 14 of 16 frames).
    public var held: Int { tracks.filter { $0.presence >= Self.heldPresence }.count }
    /// Median over clips of each clip's median per-frame step (fraction of the frame).
    public var medianStep: Double? {
        let steps = tracks.compactMap(\.medianStep).sorted()
        guard !steps.isEmpty else { return nil }
        let m = steps.count / 2
        return steps.count % 2 == 1 ? steps[m] : (steps[m - 1] + steps[m]) / 2
    }

    /// Clips that hold the object and move it with a median step within `factor`x of `reference`
    /// (either way).
    public func smooth(reference: Double, factor: Double = 2) -> Int {
        tracks.filter { t in
            guard t.presence >= Self.heldPresence, let s = t.medianStep else { return false }
            return s <= factor * reference && s >= reference / factor
        }.count
    }

    /// The ball's colour the judge reads in clip `k`: the majority over the frames where the ball is
    /// found, for a clip that draws it (nil otherwise).
    public func readColor(_ k: Int) -> BallColor? {
        tracks[k].presence >= Self.drawnPresence ? tracks[k].majorityColor : nil
    }

    /// The direction the judge reads the object travelling in clip `k` (nil: too little travel).
    public func readDirection(_ k: Int) -> SceneDirection? { tracks[k].direction() }

    /// (matching, judged): among clips whose caption names a ball colour, those that draw the
    /// ball in that colour (majority over the frames where it is found).
    public var colorMatches: (matching: Int, judged: Int) {
        var ok = 0, total = 0
        for (k, a) in named.enumerated() {
            guard let want = a?.ballColor else { continue }
            total += 1
            if readColor(k) == want { ok += 1 }
        }
        return (ok, total)
    }

    /// (matching, judged): among clips whose caption names a direction, those whose object
    /// travels that way.
    public var directionMatches: (matching: Int, judged: Int) {
        var ok = 0, total = 0
        for (k, a) in named.enumerated() {
            guard let want = a?.direction else { continue }
            total += 1
            if readDirection(k) == want { ok += 1 }
        }
        return (ok, total)
    }
}
