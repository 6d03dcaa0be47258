import Foundation

/// A compositional caption generator per family: a subject, what it does, optionally where and
/// a style, camera or time-of-day phrase, in one of five sentence forms, plus the family's
/// training templates themselves. Hundreds to thousands of distinct captions a family instead of
/// 12, all in the training templates' vocabulary (the words of the held-out paraphrases, such as
/// "sphere", "metropolis" or "pyrotechnics", stay out, so paraphrase adherence still measures
/// wordings the model never saw); no expansion equals a held-out paraphrase (checked by the tests).
/// Slots may hold the `{color}`, `{dir}`, `{from}` and `{to}` placeholders of the templates.
enum CaptionGrammar {
    /// The slots of one family.
    struct Slots {
        var subjects: [String]
        var actions: [String]
        var settings: [String]
        var modifiers: [String]
    }

    /// The sentence forms: subject + action, then optionally a setting and a modifier.
    static let forms = ["{s} {a}", "{s} {a} {e}", "{s} {a}, {m}", "{s} {a} {e}, {m}", "{m}, {s} {a}"]

    static func slots(_ family: SceneFamily) -> Slots {
        switch family {
        case .city: return Slots(
            subjects: ["a cyberpunk city", "a neon city", "a futuristic city skyline", "cyberpunk skyscrapers",
                       "tall towers with lit windows", "a dark futuristic city", "a cyberpunk megacity"],
            actions: ["at night", "glowing with neon lights", "with neon signs glowing", "in the rain", "with rain falling",
                      "glowing pink and blue"],
            settings: ["on a rainy night", "with magenta and cyan neon", "with glowing windows", "under the night sky"],
            modifiers: ["slow camera pan", "blade runner style", "camera panning slowly", "cyberpunk style"])
        case .sunset: return Slots(
            subjects: ["a sunset", "the setting sun", "a golden sunset", "an orange sky at sunset", "the sun"],
            actions: ["over the ocean", "over the sea", "sinking below the horizon", "going down over the water",
                      "reflecting on the waves"],
            settings: ["with a glittering reflection", "above calm water", "with an orange and purple sky", "on the sea horizon"],
            modifiers: ["evening", "warm colours", "a beautiful view", "calm sea"])
        case .snow: return Slots(
            subjects: ["snow", "snowflakes", "white snow", "heavy snowfall", "falling snow"],
            actions: ["falling in a forest", "drifting down between dark trees", "falling on a pine forest", "falling gently",
                      "drifting down in the woods"],
            settings: ["in winter", "in front of fir trees", "over a dark forest", "in a quiet winter forest"],
            modifiers: ["winter scene", "a snowy forest", "quiet and cold", "pine trees"])
        case .fireworks: return Slots(
            subjects: ["fireworks", "colorful fireworks", "bright fireworks", "firework bursts", "rockets"],
            actions: ["exploding at night", "bursting in the dark sky", "expanding and fading", "bursting into sparks",
                      "lighting up the night sky"],
            settings: ["over the city", "in red, green and gold", "in the night sky", "in the dark"],
            modifiers: ["a fireworks display", "celebration", "new year", "a firework show"])
        case .ball: return Slots(
            subjects: ["a {color} ball", "a small {color} ball", "a {color} rubber ball", "one {color} ball", "the {color} ball"],
            actions: ["bouncing", "bouncing up and down", "bouncing across the screen", "hopping along", "bounces on the floor"],
            settings: ["on a plain background", "on a flat background", "in an empty room", "on the floor"],
            modifiers: ["simple animation", "bouncing ball", "plain background", "{color}"])
        case .clouds: return Slots(
            subjects: ["clouds", "white clouds", "fluffy clouds", "soft clouds", "cumulus clouds"],
            actions: ["drifting to the {dir}", "moving {dir}", "floating {dir}", "passing from {from} to {to}",
                      "sliding {dir}", "travelling {dir}"],
            settings: ["across a blue sky", "in a blue sky", "over a clear blue sky", "across the sky"],
            modifiers: ["timelapse", "a sunny sky", "wind blowing them {dir}", "a sunny day"])
        case .storm: return Slots(
            subjects: ["a thunderstorm", "a dark thunderstorm", "storm clouds", "a violent storm", "a stormy night"],
            actions: ["with lightning", "with flashes of lightning", "with heavy rain and lightning", "with thunder and lightning",
                      "with rain pouring down"],
            settings: ["over the land", "in a dark stormy sky", "from dark clouds", "at night"],
            modifiers: ["lightning strikes", "pouring rain", "lightning bolts", "heavy rain"])
        case .stars: return Slots(
            subjects: ["a shooting star", "a meteor", "a falling star", "a comet-like streak", "a bright shooting star"],
            actions: ["streaking across a starry sky", "passing over the hills", "flying past the stars", "crossing the night sky",
                      "streaks across the sky"],
            settings: ["at night", "among twinkling stars", "in a clear night sky", "in the starry night"],
            modifiers: ["a starry night", "stars twinkling", "the milky night sky", "a clear night"])
        case .campfire: return Slots(
            subjects: ["a campfire", "a small campfire", "a crackling campfire", "a wood fire", "a cozy campfire",
                       "campfire flames"],
            actions: ["flickering in the dark", "burning at night", "with sparks rising", "burning on logs", "glowing orange",
                      "dancing in the dark"],
            settings: ["in the darkness", "at night", "with flying sparks", "on burning logs"],
            modifiers: ["flickering flames", "a night scene", "glowing embers", "warm firelight"])
        case .underwater: return Slots(
            subjects: ["bubbles", "air bubbles", "rising bubbles", "an underwater scene", "blue-green water"],
            actions: ["rising underwater", "floating up", "drifting upward", "rising to the surface", "with bubbles rising"],
            settings: ["under the sea", "through turquoise water", "in deep blue ocean water", "beneath the ocean surface"],
            modifiers: ["rays of light", "sunlight filtering through the water", "an aquarium", "seaweed"])
        case .car: return Slots(
            subjects: ["a car", "a car with headlights on", "a car with glowing headlights", "car headlights", "headlights"],
            actions: ["driving {dir}", "moving {dir}", "heading {dir}", "driving from {from} to {to}", "passing by to the {dir}",
                      "travels from {from} to {to}"],
            settings: ["along a road at night", "on a highway at night", "down a dark street", "on a night road"],
            modifiers: ["night driving", "a dark road", "at night", "night road"])
        case .aurora: return Slots(
            subjects: ["the northern lights", "the aurora borealis", "green northern lights", "an aurora",
                       "glowing green bands of the aurora", "green aurora ribbons"],
            actions: ["waving in the night sky", "dancing in the sky", "shimmering over a dark land", "glowing at night",
                      "waving above the hills"],
            settings: ["over the mountains", "over a snowy landscape", "in the arctic night sky", "in a starry sky"],
            modifiers: ["waves of green light", "a dark landscape", "night sky", "arctic night"])
        case .leaves: return Slots(
            subjects: ["autumn leaves", "orange and red leaves", "fall leaves", "maple leaves", "golden autumn leaves"],
            actions: ["falling", "drifting down", "falling from the trees", "floating down in the wind", "tumbling down",
                      "falling slowly"],
            settings: ["in the autumn park", "in october", "to the ground", "in the wind"],
            modifiers: ["autumn scene", "colorful fall foliage", "a gust of wind", "leaves falling in autumn"])
        case .sunrise: return Slots(
            subjects: ["a sunrise", "the sun", "dawn", "the morning sun", "early morning dawn"],
            actions: ["over the mountains", "rising behind mountain peaks", "coming up over the mountains", "over a mountain range",
                      "rising over mountain silhouettes"],
            settings: ["with a glowing sky", "as the sky turns orange", "behind dark peaks", "over a mountain ridge"],
            modifiers: ["daybreak", "morning", "the sky getting brighter", "mountains at sunrise"])
        }
    }

    /// Every caption template the grammar makes for `family` (placeholders unexpanded): the
    /// family's training templates first, then every form over every slot combination.
    static func templates(_ family: SceneFamily) -> [String] {
        let s = slots(family)
        var seen = Set<String>(), out: [String] = []
        func add(_ t: String) { if seen.insert(t).inserted { out.append(t) } }
        SceneCaptions.templates(family).forEach(add)
        for form in forms {
            let settings = form.contains("{e}") ? s.settings : [""]
            let modifiers = form.contains("{m}") ? s.modifiers : [""]
            for subject in s.subjects {
                for action in s.actions {
                    for setting in settings {
                        for modifier in modifiers {
                            add(form.replacingOccurrences(of: "{s}", with: subject).replacingOccurrences(of: "{a}", with: action)
                                .replacingOccurrences(of: "{e}", with: setting).replacingOccurrences(of: "{m}", with: modifier))
                        }
                    }
                }
            }
        }
        return out
    }

    /// The caption of a clip drawn by `rng`: half the time one of the training templates (so the
    /// exact training captions stay in the data), otherwise a composed sentence.
    static func caption(_ family: SceneFamily, attributes: SceneAttributes, rng: inout SceneRNG) -> String {
        if rng.uniform(0, 1) < 0.5 {
            return SceneCaptions.expand(rng.pick(SceneCaptions.templates(family)), attributes)
        }
        let s = slots(family)
        let form = rng.pick(forms)
        let text = form.replacingOccurrences(of: "{s}", with: rng.pick(s.subjects))
            .replacingOccurrences(of: "{a}", with: rng.pick(s.actions))
            .replacingOccurrences(of: "{e}", with: rng.pick(s.settings))
            .replacingOccurrences(of: "{m}", with: rng.pick(s.modifiers))
        return SceneCaptions.expand(text, attributes)
    }
}
