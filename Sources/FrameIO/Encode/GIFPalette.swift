/// An adaptive 256-colour palette for GIF output, computed by median cut over the colours of the
/// frames it is built from (5 bits per channel histogram, 32768 bins; each palette entry is the
/// pixel-weighted mean colour of its box). Pixels map to the nearest entry (squared RGB distance)
/// through a 32768-entry lookup table on the top 5 bits of each channel. No dithering.
struct GIFPalette {
    /// 256 entries, `0xAARRGGBB` (FFmpeg's PAL8 layout); unused entries repeat entry 0.
    private(set) var entries: [UInt32]
    /// Palette index per 15-bit colour (r5 << 10 | g5 << 5 | b5).
    private var lut: [UInt8]

    /// Colour statistics for the palette: pixel count and RGB sums per 15-bit bin.
    struct Histogram {
        var count = [UInt32](repeating: 0, count: 32768)
        var sum = [UInt64](repeating: 0, count: 32768 * 3)

        /// Adds the pixels of a packed RGB24 image.
        mutating func add(packed pixels: [UInt8]) {
            pixels.withUnsafeBufferPointer { p in
                count.withUnsafeMutableBufferPointer { c in
                    sum.withUnsafeMutableBufferPointer { s in
                        var i = 0
                        while i + 2 < p.count {
                            let r = p[i], g = p[i + 1], b = p[i + 2]
                            let bin = Int(r >> 3) << 10 | Int(g >> 3) << 5 | Int(b >> 3)
                            c[bin] &+= 1
                            s[bin * 3] &+= UInt64(r)
                            s[bin * 3 + 1] &+= UInt64(g)
                            s[bin * 3 + 2] &+= UInt64(b)
                            i += 3
                        }
                    }
                }
            }
        }
    }

    /// Builds a palette of at most `maxColours` (<= 256) entries from `histogram`.
    init(histogram: Histogram, maxColours: Int = 256) {
        // A box of histogram bins; split along its widest channel at the pixel-weighted median.
        struct Box { var bins: [Int]; var pixels: UInt64; var widest: Int; var range: Int }
        func channel(_ bin: Int, _ c: Int) -> Int { (bin >> (10 - 5 * c)) & 31 }
        func makeBox(_ bins: [Int]) -> Box {
            var lo = [31, 31, 31], hi = [0, 0, 0]
            var pixels: UInt64 = 0
            for bin in bins {
                pixels += UInt64(histogram.count[bin])
                for c in 0..<3 {
                    let v = channel(bin, c)
                    lo[c] = min(lo[c], v)
                    hi[c] = max(hi[c], v)
                }
            }
            let ranges = (0..<3).map { hi[$0] - lo[$0] }
            let widest = ranges.firstIndex(of: ranges.max()!)!
            return Box(bins: bins, pixels: pixels, widest: widest, range: ranges[widest])
        }
        let used = (0..<32768).filter { histogram.count[$0] > 0 }
        var boxes = used.isEmpty ? [] : [makeBox(used)]
        while boxes.count < maxColours {
            // Split the box with the largest range weighted by its pixel count (ties: first).
            var best = -1
            var bestScore: Double = 0
            for (i, box) in boxes.enumerated() where box.bins.count > 1 && box.range > 0 {
                let score = Double(box.range) * Double(box.pixels).squareRoot()
                if score > bestScore { bestScore = score; best = i }
            }
            if best < 0 { break }
            let box = boxes[best]
            let sorted = box.bins.sorted { channel($0, box.widest) < channel($1, box.widest) }
            var acc: UInt64 = 0
            var cut = 1
            for (i, bin) in sorted.enumerated() {
                acc += UInt64(histogram.count[bin])
                if acc * 2 >= box.pixels { cut = i + 1; break }
            }
            cut = min(max(cut, 1), sorted.count - 1)
            boxes[best] = makeBox(Array(sorted[..<cut]))
            boxes.append(makeBox(Array(sorted[cut...])))
        }
        var colours: [(Int, Int, Int)] = boxes.map { box in
            var s = [UInt64](repeating: 0, count: 3)
            for bin in box.bins { for c in 0..<3 { s[c] += histogram.sum[bin * 3 + c] } }
            let n = max(box.pixels, 1)
            return (Int((s[0] + n / 2) / n), Int((s[1] + n / 2) / n), Int((s[2] + n / 2) / n))
        }
        if colours.isEmpty { colours = [(0, 0, 0)] }
        var entries = colours.map { 0xFF00_0000 | UInt32($0.0) << 16 | UInt32($0.1) << 8 | UInt32($0.2) }
        while entries.count < 256 { entries.append(entries[0]) }
        self.entries = entries
        // Nearest entry for each bin: the bin's own mean colour when seen, its centre otherwise.
        var lut = [UInt8](repeating: 0, count: 32768)
        for bin in 0..<32768 {
            let r: Int, g: Int, b: Int
            let n = UInt64(histogram.count[bin])
            if n > 0 {
                r = Int(histogram.sum[bin * 3] / n); g = Int(histogram.sum[bin * 3 + 1] / n); b = Int(histogram.sum[bin * 3 + 2] / n)
            } else {
                r = channel(bin, 0) << 3 | 4; g = channel(bin, 1) << 3 | 4; b = channel(bin, 2) << 3 | 4
            }
            var best = 0, bestD = Int.max
            for (i, c) in colours.enumerated() {
                let dr = r - c.0, dg = g - c.1, db = b - c.2
                let d = dr * dr + dg * dg + db * db
                if d < bestD { bestD = d; best = i }
            }
            lut[bin] = UInt8(best)
        }
        self.lut = lut
    }

    /// Writes palette indices for packed RGB24 `pixels` (`width * height * 3`) into `dst` rows.
    func map(packed pixels: [UInt8], width: Int, height: Int, into dst: UnsafeMutablePointer<UInt8>, stride: Int) {
        pixels.withUnsafeBufferPointer { p in
            lut.withUnsafeBufferPointer { t in
                for y in 0..<height {
                    let row = dst + y * stride
                    let src = y * width * 3
                    for x in 0..<width {
                        let i = src + x * 3
                        row[x] = t[Int(p[i] >> 3) << 10 | Int(p[i + 1] >> 3) << 5 | Int(p[i + 2] >> 3)]
                    }
                }
            }
        }
    }
}
