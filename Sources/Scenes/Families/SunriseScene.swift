import Foundation

/// Family 14: a sunrise over mountains. The sky brightens through the clip from pre-dawn blue
/// to warm morning colours while the sun rises from behind jagged peaks; two mountain layers,
/// the far one hazy and lightening with the sky, the near one a dark silhouette.
struct SunriseScene: SceneGenerator {
    let size, sunX, sunY0, sunRadius, riseSpeed, progress0, rate: Float
    let far, near: [SIMD2<Float>]
    let farBase: Float
    let dawnTop, dawnLow, dayTop, dayLow, nearColor: SceneColor
    let grain: Float = 0.008

    init(size s: Float, frames: Float, rng: inout SceneRNG) {
        size = s
        farBase = rng.uniform(0.5, 0.6) * s
        far = ridgePolygon(width: s, bottom: s, base: farBase, roughness: s * rng.uniform(0.08, 0.14), jagged: true, rng: &rng)
        near = ridgePolygon(width: s, bottom: s, base: farBase + s * rng.uniform(0.14, 0.22), roughness: s * rng.uniform(0.06, 0.1),
                            jagged: true, rng: &rng)
        sunRadius = rng.uniform(0.06, 0.09) * s
        sunX = rng.uniform(0.3, 0.7) * s
        // Start with the sun's centre just above or below the ridge line right behind it, so the
        // disc emerges from the peaks during the clip.
        sunY0 = ridgeHeight(far, at: sunX) + sunRadius * rng.uniform(-0.3, 0.5)
        riseSpeed = rng.uniform(0.007, 0.011) * s
        progress0 = rng.uniform(0, 0.2)
        rate = rng.uniform(0.5, 0.7) / max(1, frames - 1)
        dawnTop = jitter(SceneColor(0.04, 0.05, 0.16), 0.02, &rng)
        dawnLow = jitter(SceneColor(0.35, 0.2, 0.32), 0.04, &rng)
        dayTop = jitter(SceneColor(0.35, 0.52, 0.82), 0.05, &rng)
        dayLow = SceneColor(hue: rng.uniform(0.06, 0.11), saturation: 0.65, value: 1)
        nearColor = jitter(SceneColor(0.04, 0.035, 0.06), 0.01, &rng)
    }

    func draw(_ canvas: inout Canvas, t: Float) {
        let s = size
        let p = min(1, progress0 + rate * t)
        let top = dawnTop.mix(dayTop, p), low = dawnLow.mix(dayLow, p)
        canvas.fillVerticalGradient([(0, top), (0.85, low)], top: 0, bottom: farBase + s * 0.1)
        let sunY = sunY0 - riseSpeed * t
        canvas.glow(x: sunX, y: sunY, radius: sunRadius * 2.5, color: SceneColor(1, 0.6, 0.25), intensity: 0.3 + 0.4 * p)
        canvas.fillCircle(x: sunX, y: sunY, radius: sunRadius, color: SceneColor(1, 0.9, 0.6), softness: 1.2)
        let haze = SceneColor(0.22, 0.2, 0.32).mix(SceneColor(0.45, 0.4, 0.5), p)
        canvas.fillPolygon(far, color: haze)
        canvas.fillPolygon(near, color: nearColor.mix(SceneColor(0.1, 0.08, 0.1), p * 0.5))
    }
}
