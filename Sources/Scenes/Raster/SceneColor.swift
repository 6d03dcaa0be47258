import Foundation

/// An RGB colour with Float channels, 0 = black and 1 = full intensity (display values, not
/// linear light). Channels may exceed 1 while drawing additive light; the canvas clips on output.
public struct SceneColor: Sendable, Equatable {
    /// Red, 0...1.
    public var r: Float
    /// Green, 0...1.
    public var g: Float
    /// Blue, 0...1.
    public var b: Float

    /// A colour from its three channels.
    public init(_ r: Float, _ g: Float, _ b: Float) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// A colour from 8-bit channels (e.g. `SceneColor(hex: 0xFF8800)`).
    public init(hex: UInt32) {
        r = Float((hex >> 16) & 0xFF) / 255
        g = Float((hex >> 8) & 0xFF) / 255
        b = Float(hex & 0xFF) / 255
    }

    /// A colour from hue (0...1, wrapping; 0 red, 1/3 green, 2/3 blue), saturation and value.
    public init(hue: Float, saturation s: Float, value v: Float) {
        var h = hue - Float(floor(Double(hue)))
        h *= 6
        let sector = Int(h) % 6
        let f = h - Float(Int(h))
        let p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f))
        switch sector {
        case 0: self.init(v, t, p)
        case 1: self.init(q, v, p)
        case 2: self.init(p, v, t)
        case 3: self.init(p, q, v)
        case 4: self.init(t, p, v)
        default: self.init(v, p, q)
        }
    }

    /// Black.
    public static let black = SceneColor(0, 0, 0)
    /// White.
    public static let white = SceneColor(1, 1, 1)

    /// Linear interpolation: `self` at `t = 0`, `other` at `t = 1`.
    public func mix(_ other: SceneColor, _ t: Float) -> SceneColor {
        SceneColor(r + (other.r - r) * t, g + (other.g - g) * t, b + (other.b - b) * t)
    }

    /// Every channel multiplied by `k`.
    public func scaled(_ k: Float) -> SceneColor {
        SceneColor(r * k, g * k, b * k)
    }

    /// Rec. 601 luma, 0...1.
    public var luma: Float { 0.299 * r + 0.587 * g + 0.114 * b }
}
