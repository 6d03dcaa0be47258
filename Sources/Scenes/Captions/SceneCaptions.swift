import Foundation

/// The caption tables. Templates may hold the placeholders `{color}` (ball colour), `{dir}`
/// (`left`/`right`), `{from}`/`{to}` (the edge motion starts from / heads to); a template is
/// expanded with the clip's attributes. Training templates and held-out paraphrases are separate
/// lists whose expansions never coincide (checked by the tests).
enum SceneCaptions {
    /// Training templates per family: synonyms, word order, level of detail.
    static func templates(_ family: SceneFamily) -> [String] {
        switch family {
        case .city: return [
            "a cyberpunk city at night",
            "a cyberpunk city at night with neon lights and rain",
            "futuristic city skyline at night, magenta and cyan neon, rain falling",
            "rainy cyberpunk streets at night with glowing neon signs",
            "a neon city at night, tall towers with lit windows",
            "night skyline of a cyberpunk megacity, slow camera pan",
            "rain falling over a neon-lit cyberpunk city",
            "cyberpunk skyscrapers glowing pink and blue in the rain",
            "a dark futuristic city with neon signs, camera panning slowly",
            "city at night in cyberpunk style, rain and neon",
            "towers with glowing windows and neon lights on a rainy night",
            "a blade runner style city at night",
        ]
        case .sunset: return [
            "a sunset over the ocean",
            "sunset over the sea",
            "the sun setting over the ocean",
            "a golden sunset over calm water",
            "orange sky at sunset above the sea, sun reflecting on the waves",
            "the sun sinks below the horizon over the ocean",
            "warm sunset sky with the sun going down over the water",
            "sunset at sea with a glittering reflection",
            "ocean sunset, orange and purple sky",
            "the setting sun reflected on moving water",
            "evening over the ocean as the sun goes down",
            "a beautiful sunset on the sea horizon",
        ]
        case .snow: return [
            "snow falling in a forest",
            "snowfall in a pine forest",
            "snowflakes falling between dark trees",
            "a snowy forest with snow gently falling",
            "winter forest, white snow drifting down",
            "snow falling on a pine forest in winter",
            "heavy snowfall in the woods",
            "white snowflakes drifting down in front of fir trees",
            "a quiet winter forest while it snows",
            "snowing in the woods",
            "falling snow over a dark forest",
            "pine trees in a snowstorm",
        ]
        case .fireworks: return [
            "fireworks in the night sky",
            "colorful fireworks exploding at night",
            "fireworks bursting in the dark sky",
            "a fireworks display at night",
            "bright fireworks expanding and fading in the night sky",
            "night sky lit up by fireworks",
            "colourful firework bursts over the city at night",
            "celebration fireworks in the sky",
            "fireworks exploding in red, green and gold",
            "a firework show in the dark",
            "rockets bursting into sparks in the night sky",
            "new year fireworks at night",
        ]
        case .ball: return [
            "a {color} ball bouncing",
            "a {color} ball bouncing on a plain background",
            "a bouncing {color} ball",
            "{color} ball bouncing up and down",
            "a {color} ball bouncing across the screen",
            "a simple animation of a bouncing {color} ball",
            "a {color} ball bounces on the floor",
            "bouncing ball, {color}",
            "a small {color} ball hopping along",
            "a {color} rubber ball bouncing on a flat background",
            "the {color} ball bounces",
            "one {color} ball bouncing in an empty room",
        ]
        case .clouds: return [
            "clouds drifting to the {dir} across a blue sky",
            "white clouds moving {dir} in a blue sky",
            "clouds drifting across a blue sky to the {dir}",
            "fluffy clouds floating {dir} over a clear blue sky",
            "a blue sky with clouds moving to the {dir}",
            "clouds passing from {from} to {to}",
            "white clouds drift from {from} to {to} across the sky",
            "timelapse of clouds moving {dir}",
            "soft clouds sliding {dir} across the sky",
            "clouds in a blue sky, wind blowing them {dir}",
            "cumulus clouds drifting {dir}",
            "a sunny sky with clouds travelling {dir}",
        ]
        case .storm: return [
            "a thunderstorm",
            "a thunderstorm with lightning",
            "lightning flashing in a dark stormy sky",
            "heavy rain and lightning from dark clouds",
            "a stormy night with thunder and lightning",
            "dark clouds, pouring rain and a lightning strike",
            "thunderstorm with heavy rain",
            "lightning bolts in a thunderstorm",
            "storm clouds with flashes of lightning",
            "a violent storm with rain and lightning",
            "rain pouring down as lightning strikes",
            "a dark thunderstorm over the land",
        ]
        case .stars: return [
            "a starry night with a shooting star",
            "a shooting star across the night sky",
            "stars twinkling at night as a meteor passes",
            "a meteor streaking across a starry sky",
            "night sky full of stars with a shooting star",
            "a falling star in the starry night",
            "twinkling stars and a shooting star",
            "a clear night sky with stars and a meteor",
            "a shooting star streaks over the hills at night",
            "starry sky at night, a comet-like streak flying past",
            "stars in the dark sky and a shooting star",
            "the milky night sky with a falling star",
        ]
        case .campfire: return [
            "a campfire flickering in the dark",
            "a campfire at night",
            "flames of a campfire flickering",
            "a crackling campfire in the darkness",
            "a bonfire burning at night",
            "fire burning on logs in the dark",
            "a small campfire with sparks rising",
            "flickering flames of a fire at night",
            "campfire flames dancing in the dark",
            "a wood fire burning, glowing orange",
            "a cozy campfire with flying sparks",
            "burning logs in a campfire",
        ]
        case .underwater: return [
            "underwater scene with bubbles rising",
            "blue-green water with bubbles rising",
            "bubbles rising underwater",
            "under the sea, air bubbles floating up",
            "underwater with rays of light and rising bubbles",
            "deep blue ocean water with bubbles",
            "air bubbles rising to the surface underwater",
            "an underwater view with bubbles and seaweed",
            "beneath the ocean surface, bubbles drifting upward",
            "bubbles floating up through turquoise water",
            "underwater, sunlight filtering through the water",
            "an aquarium with rising bubbles",
        ]
        case .car: return [
            "a car driving along a road at night",
            "a car driving {dir} along a road at night",
            "a car with headlights on driving {dir} at night",
            "headlights moving {dir} along a dark road",
            "a car drives from {from} to {to} on a road at night",
            "night driving, a car passing by to the {dir}",
            "a car on a highway at night heading {dir}",
            "a car with glowing headlights moves {dir} on a night road",
            "car headlights at night moving to the {dir}",
            "a vehicle driving {dir} down a dark street",
            "a car travels from {from} to {to} at night",
            "night road with a car driving by",
        ]
        case .aurora: return [
            "the northern lights",
            "the northern lights over a dark landscape",
            "aurora borealis waving in the night sky",
            "green northern lights dancing in the sky",
            "an aurora over the mountains at night",
            "glowing green bands of the aurora borealis",
            "northern lights shimmering over a dark land",
            "aurora in the arctic night sky",
            "polar lights waving above the hills",
            "green aurora ribbons in a starry sky",
            "the aurora borealis over a snowy landscape at night",
            "waves of green light in the night sky",
        ]
        case .leaves: return [
            "autumn leaves falling",
            "orange and red leaves drifting down",
            "autumn leaves falling from the trees",
            "fall leaves floating down in the wind",
            "red and orange autumn leaves falling slowly",
            "leaves falling in autumn",
            "colorful fall foliage drifting to the ground",
            "autumn scene with falling leaves",
            "maple leaves falling in the autumn park",
            "golden autumn leaves tumbling down",
            "falling leaves in october",
            "a gust of wind carrying autumn leaves down",
        ]
        case .sunrise: return [
            "a sunrise over mountains",
            "sunrise over the mountains",
            "the sun rising behind mountain peaks",
            "dawn over a mountain range",
            "the sky brightening behind dark peaks at sunrise",
            "morning sun coming up over the mountains",
            "sunrise in the mountains, the sky turning orange",
            "the sun rises over mountain silhouettes",
            "early morning dawn over the peaks",
            "mountains at sunrise with a glowing sky",
            "daybreak over a mountain ridge",
            "sunrise behind the mountains, sky getting brighter",
        ]
        }
    }

    /// Held-out paraphrases per family: wordings never used in training, for the
    /// prompt-adherence report.
    static func paraphrases(_ family: SceneFamily) -> [String] {
        switch family {
        case .city: return [
            "a neon-lit metropolis after dark",
            "downtown of a future city glowing with pink and teal signs under rain",
            "high-tech urban skyline in the rain after nightfall",
            "a rain-soaked sci-fi town lit by neon",
        ]
        case .sunset: return [
            "dusk at the seaside as the sun dips into the water",
            "the evening sun melting into the sea",
            "sundown on the coast with light shimmering on the waves",
            "a fiery sky as the day ends over the sea",
        ]
        case .snow: return [
            "flurries drifting through a wintry woodland",
            "a snowstorm among evergreen trees",
            "white flakes settling over the conifers",
            "wintertime woods with flakes coming down",
        ]
        case .fireworks: return [
            "pyrotechnics lighting up the dark",
            "sparkling explosions of colour above at midnight",
            "a festive pyrotechnic show after dark",
            "glittering shells bursting high overhead at night",
        ]
        case .ball: return [
            "a {color} sphere bouncing",
            "a {color} sphere hopping on a blank backdrop",
            "a lone {color} orb that keeps rebounding off the ground",
            "an animated {color} bouncy sphere",
        ]
        case .clouds: return [
            "puffy cumuli sailing {dir}ward on a clear day",
            "a breeze pushing cotton-like clouds toward the {dir}",
            "billowy clouds gliding {dir} under azure skies",
            "white puffs crossing the heavens heading {dir}",
        ]
        case .storm: return [
            "a tempest with bolts from above",
            "electric flashes tearing through black storm clouds",
            "a downpour lit by strikes of lightning",
            "thunder and a bright bolt in a gloomy sky",
        ]
        case .stars: return [
            "a meteor crossing the star-filled heavens",
            "a bright streak flying among the stars at midnight",
            "stargazing as a falling meteor flashes by",
            "a comet trail over a sky of stars",
        ]
        case .campfire: return [
            "a bonfire blazing in the night",
            "embers and flames dancing over firewood",
            "a fire pit glowing in the darkness",
            "logs ablaze with sparks drifting up",
        ]
        case .underwater: return [
            "beneath the waves, air rising toward the surface",
            "a submerged view of the sea with floating bubbles",
            "deep in the ocean, little bubbles drifting up",
            "the sea seen from below with streams of bubbles",
        ]
        case .car: return [
            "an automobile cruising {dir} on a dark highway",
            "a vehicle's headlamps sweeping {dir} along a nighttime road",
            "a night drive with a sedan heading {dir}",
            "a motorcar travelling {dir} through the darkness",
        ]
        case .aurora: return [
            "aurora borealis shimmering above a dark horizon",
            "emerald curtains of light rippling over the arctic",
            "polar lights glowing above the tundra",
            "ribbons of green glow swaying in the sky at night",
        ]
        case .leaves: return [
            "foliage tumbling down in the fall season",
            "crimson and amber leaves fluttering to the ground",
            "maple foliage swirling down on a breezy fall day",
            "leaves coming down from the branches in the fall",
        ]
        case .sunrise: return [
            "daybreak over the peaks as the sky lights up",
            "first light over a rugged ridge",
            "the sun climbing above alpine summits at dawn",
            "morning glow spreading behind the summits",
        ]
        }
    }

    /// `template` with its placeholders filled from `attributes`.
    static func expand(_ template: String, _ attributes: SceneAttributes) -> String {
        var text = template
        if let color = attributes.ballColor {
            text = text.replacingOccurrences(of: "{color}", with: color.rawValue)
        }
        if let direction = attributes.direction {
            let from = direction == .left ? "right" : "left"
            text = text.replacingOccurrences(of: "{dir}", with: direction.rawValue)
                .replacingOccurrences(of: "{from}", with: from)
                .replacingOccurrences(of: "{to}", with: direction.rawValue)
        }
        return text
    }

    /// Every attribute combination a family's clips can have.
    static func attributeCombinations(_ family: SceneFamily) -> [SceneAttributes] {
        switch family {
        case .ball: return BallColor.allCases.map { SceneAttributes(ballColor: $0) }
        case .clouds, .car: return SceneDirection.allCases.map { SceneAttributes(direction: $0) }
        default: return [SceneAttributes()]
        }
    }

    /// All expansions of `templates` over the family's attribute combinations, in order,
    /// without duplicates.
    static func expandAll(_ templates: [String], _ family: SceneFamily) -> [String] {
        var seen = Set<String>(), out: [String] = []
        for template in templates {
            for attributes in attributeCombinations(family) {
                let text = expand(template, attributes)
                if seen.insert(text).inserted { out.append(text) }
            }
        }
        return out
    }
}
