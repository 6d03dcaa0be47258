/// One of the corpus's scene families. Each is a parametrised generator: composition, colour,
/// speed and direction are drawn from the clip's seed, so a clip is a pure function of
/// `(family, seed)`. The raw value is the short id used in file names (`ball-17.mp4`).
public enum SceneFamily: String, CaseIterable, Sendable, Codable {
    /// 1: a cyberpunk city at night: towers with lit windows, magenta/cyan neon, rain, slow pan.
    case city
    /// 2: a sunset over the ocean: warm sky, a sinking sun, its reflection on moving water.
    case sunset
    /// 3: snow falling in a forest: dark pines, white flakes drifting down.
    case snow
    /// 4: fireworks in the night sky: colourful bursts expanding and fading.
    case fireworks
    /// 5: a bouncing ball (red, green, blue or yellow: see `SceneAttributes.ballColor`).
    case ball
    /// 6: clouds drifting across a blue sky (left or right: see `SceneAttributes.direction`).
    case clouds
    /// 7: a thunderstorm: dark clouds, rain, lightning flashes.
    case storm
    /// 8: a starry night with a shooting star.
    case stars
    /// 9: a campfire flickering in the dark.
    case campfire
    /// 10: underwater: blue-green water with bubbles rising.
    case underwater
    /// 11: a car driving along a road at night, headlights moving left or right.
    case car
    /// 12: the northern lights: green bands waving over a dark landscape.
    case aurora
    /// 13: autumn leaves falling: orange and red leaves drifting down.
    case leaves
    /// 14: a sunrise over mountains: the sky brightening behind dark peaks.
    case sunrise

    /// The short id used in file names, manifests and `--families` (same as `rawValue`).
    public var id: String { rawValue }

    /// The family by its id (`"ball"`), or nil when no family has that id.
    public init?(id: String) {
        self.init(rawValue: id)
    }

    /// The family's 1-based number in the corpus's list (1 = city ... 14 = sunrise).
    public var number: Int { SceneFamily.allCases.firstIndex(of: self)! + 1 }

    /// A human-readable name.
    public var name: String {
        switch self {
        case .city: return "cyberpunk city at night"
        case .sunset: return "sunset over the ocean"
        case .snow: return "snow falling in a forest"
        case .fireworks: return "fireworks in the night sky"
        case .ball: return "bouncing ball"
        case .clouds: return "clouds drifting across a blue sky"
        case .storm: return "thunderstorm"
        case .stars: return "starry night with a shooting star"
        case .campfire: return "campfire in the dark"
        case .underwater: return "underwater with rising bubbles"
        case .car: return "car driving at night"
        case .aurora: return "northern lights"
        case .leaves: return "autumn leaves falling"
        case .sunrise: return "sunrise over mountains"
        }
    }
}
