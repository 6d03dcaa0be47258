/// The colour of the bouncing ball (family `.ball`); it appears in the caption.
public enum BallColor: String, CaseIterable, Sendable, Codable {
    /// Red.
    case red
    /// Green.
    case green
    /// Blue.
    case blue
    /// Yellow.
    case yellow

    /// The base colour the ball is painted with (before shading).
    public var color: SceneColor {
        switch self {
        case .red: return SceneColor(0.88, 0.10, 0.09)
        case .green: return SceneColor(0.12, 0.72, 0.18)
        case .blue: return SceneColor(0.12, 0.28, 0.92)
        case .yellow: return SceneColor(0.96, 0.84, 0.10)
        }
    }
}

/// A horizontal direction of motion: where clouds drift or a car drives, as seen on screen.
public enum SceneDirection: String, CaseIterable, Sendable, Codable {
    /// Towards the left edge (x decreasing).
    case left
    /// Towards the right edge (x increasing).
    case right

    /// -1 for left, +1 for right.
    public var sign: Float { self == .left ? -1 : 1 }
}

/// The attributes of a clip that its caption states. Each is set only for the families where it
/// applies and is drawn from the seed before anything else.
public struct SceneAttributes: Sendable, Equatable, Codable {
    /// The ball's colour (family `.ball` only).
    public var ballColor: BallColor?
    /// The motion direction (families `.clouds` and `.car` only).
    public var direction: SceneDirection?

    /// Attributes with the given values (nil = not applicable).
    public init(ballColor: BallColor? = nil, direction: SceneDirection? = nil) {
        self.ballColor = ballColor
        self.direction = direction
    }
}
