/// Exact RGB -> YUV (4:2:0 or 4:4:4) conversion with a chosen matrix and range, straight into an
/// encoder's planes. Both input layouts (packed UInt8, planar Float32 in [-1, 1]) are read in
/// place: the Float path never builds a packed copy.
///
/// Y = yOff + kr R + kg G + kb B (R, G, B in 0...255), Cb/Cr from the B-Y / R-Y differences with
/// the BT.709 or BT.601 constants, scaled to limited (16...235/240) or full (0...255) range and
/// rounded to nearest. 4:2:0 chroma is computed from the mean RGB of each 2x2 block (centre-sited
/// box filter). Odd sizes padded to even repeat the last column/row (edge replication).
struct YUVConverter {
    /// Source size.
    let width: Int, height: Int
    /// Destination (encoded) size, >= the source size.
    let encodedWidth: Int, encodedHeight: Int
    /// 4:2:0 (true) or 4:4:4 (false).
    let subsampled: Bool

    // Float coefficients for R, G, B in 0...255.
    private let yr: Float, yg: Float, yb: Float, yOff: Float
    private let ur: Float, ug: Float, ub: Float
    private let vr: Float, vg: Float, vb: Float
    // The same, fixed point (x 2^16), for the UInt8 path.
    private let iyr: Int32, iyg: Int32, iyb: Int32, iyOff: Int32
    private let iur: Int32, iug: Int32, iub: Int32
    private let ivr: Int32, ivg: Int32, ivb: Int32
    private let yMax: Int32, cMax: Int32, yMin: Int32, cMin: Int32

    init(width: Int, height: Int, encodedWidth: Int, encodedHeight: Int, subsampled: Bool,
         matrix: VideoWriter.ColourMatrix, range: VideoWriter.ColourRange) {
        self.width = width
        self.height = height
        self.encodedWidth = encodedWidth
        self.encodedHeight = encodedHeight
        self.subsampled = subsampled
        let (kr, kb): (Double, Double) = matrix == .bt709 ? (0.2126, 0.0722) : (0.299, 0.114)
        let kg = 1 - kr - kb
        let ys: Double, cs: Double, yo: Double
        switch range {
        case .limited: (ys, cs, yo) = (219.0 / 255.0, 224.0 / 255.0, 16)
        case .full: (ys, cs, yo) = (1, 1, 0)
        }
        // Cb = cs * (B - Y') / (2 (1 - kb)), Cr = cs * (R - Y') / (2 (1 - kr)); offset 128.
        let cbR = -kr / (2 * (1 - kb)) * cs, cbG = -kg / (2 * (1 - kb)) * cs, cbB = 0.5 * cs
        let crR = 0.5 * cs, crG = -kg / (2 * (1 - kr)) * cs, crB = -kb / (2 * (1 - kr)) * cs
        (yr, yg, yb, yOff) = (Float(kr * ys), Float(kg * ys), Float(kb * ys), Float(yo))
        (ur, ug, ub) = (Float(cbR), Float(cbG), Float(cbB))
        (vr, vg, vb) = (Float(crR), Float(crG), Float(crB))
        let s = 65536.0
        func fx(_ v: Double) -> Int32 { Int32((v * s).rounded()) }
        (iyr, iyg, iyb, iyOff) = (fx(kr * ys), fx(kg * ys), fx(kb * ys), fx(yo + 0.5))
        (iur, iug, iub) = (fx(cbR), fx(cbG), fx(cbB))
        (ivr, ivg, ivb) = (fx(crR), fx(crG), fx(crB))
        if range == .limited {
            (yMin, yMax, cMin, cMax) = (16, 235, 16, 240)
        } else {
            (yMin, yMax, cMin, cMax) = (0, 255, 0, 255)
        }
    }

    @inline(__always) private func clampY(_ v: Int32) -> UInt8 { UInt8(truncatingIfNeeded: min(max(v, yMin), yMax)) }
    @inline(__always) private func clampC(_ v: Int32) -> UInt8 { UInt8(truncatingIfNeeded: min(max(v, cMin), cMax)) }

    /// Converts packed RGB24 (`width * height * 3` bytes) into Y, U, V planes with the given strides.
    func convert(packed src: UnsafePointer<UInt8>,
                 y yPlane: UnsafeMutablePointer<UInt8>, yStride: Int,
                 u uPlane: UnsafeMutablePointer<UInt8>, uStride: Int,
                 v vPlane: UnsafeMutablePointer<UInt8>, vStride: Int) {
        let w = width, h = height, ew = encodedWidth, eh = encodedHeight
        let rowBytes = w * 3
        let half: Int32 = 1 << 15, cOffset: Int32 = (128 << 16) + half
        if !subsampled {
            for row in 0..<eh {
                let s = src + min(row, h - 1) * rowBytes
                let yr0 = yPlane + row * yStride, ur0 = uPlane + row * uStride, vr0 = vPlane + row * vStride
                for x in 0..<ew {
                    let p = s + min(x, w - 1) * 3
                    let r = Int32(p[0]), g = Int32(p[1]), b = Int32(p[2])
                    yr0[x] = clampY((iyr &* r &+ iyg &* g &+ iyb &* b &+ iyOff) >> 16)
                    ur0[x] = clampC((iur &* r &+ iug &* g &+ iub &* b &+ cOffset) >> 16)
                    vr0[x] = clampC((ivr &* r &+ ivg &* g &+ ivb &* b &+ cOffset) >> 16)
                }
            }
            return
        }
        // 4:2:0: one 2x2 block per step; chroma from the block's RGB sums (so >> 18 = mean).
        let cOffset4: Int32 = (128 << 18) + (1 << 17)
        let pairs = w / 2, cw = ew / 2
        for cy in 0..<(eh / 2) {
            let s0 = src + min(2 * cy, h - 1) * rowBytes
            let s1 = src + min(2 * cy + 1, h - 1) * rowBytes
            let y0 = yPlane + 2 * cy * yStride, y1 = y0 + yStride
            let uRow = uPlane + cy * uStride, vRow = vPlane + cy * vStride
            @inline(__always) func block(_ cx: Int, _ xa: Int, _ xb: Int) {
                let a = s0 + xa * 3, b = s0 + xb * 3, c = s1 + xa * 3, d = s1 + xb * 3
                let ra = Int32(a[0]), ga = Int32(a[1]), ba = Int32(a[2])
                let rb = Int32(b[0]), gb = Int32(b[1]), bb = Int32(b[2])
                let rc = Int32(c[0]), gc = Int32(c[1]), bc = Int32(c[2])
                let rd = Int32(d[0]), gd = Int32(d[1]), bd = Int32(d[2])
                y0[2 * cx] = clampY((iyr &* ra &+ iyg &* ga &+ iyb &* ba &+ iyOff) >> 16)
                y0[2 * cx + 1] = clampY((iyr &* rb &+ iyg &* gb &+ iyb &* bb &+ iyOff) >> 16)
                y1[2 * cx] = clampY((iyr &* rc &+ iyg &* gc &+ iyb &* bc &+ iyOff) >> 16)
                y1[2 * cx + 1] = clampY((iyr &* rd &+ iyg &* gd &+ iyb &* bd &+ iyOff) >> 16)
                let r = ra &+ rb &+ rc &+ rd, g = ga &+ gb &+ gc &+ gd, bl = ba &+ bb &+ bc &+ bd
                uRow[cx] = clampC((iur &* r &+ iug &* g &+ iub &* bl &+ cOffset4) >> 18)
                vRow[cx] = clampC((ivr &* r &+ ivg &* g &+ ivb &* bl &+ cOffset4) >> 18)
            }
            // Runs of 8 blocks (16 pixels per row) in SIMD lanes; the same integer arithmetic as
            // `block`, so the output is bit-identical to the scalar loop (YUVConverterTests).
            let runs = scalarPackedOnly ? 0 : pairs / 8
            for run in 0..<runs { blocks16(run * 16, s0, s1, y0 + run * 16, y1 + run * 16, uRow + run * 8, vRow + run * 8) }
            for cx in (runs * 8)..<pairs { block(cx, 2 * cx, 2 * cx + 1) }
            for cx in pairs..<cw { block(cx, min(2 * cx, w - 1), min(2 * cx + 1, w - 1)) }
        }
    }

    /// Test hook: convert with the scalar loop only (the reference for the SIMD runs).
    var scalarPackedOnly = false

    /// 16 RGB24 pixels from `p` (48 bytes), one channel, as Int32 lanes.
    @inline(__always) private static func channel16(_ p: UnsafePointer<UInt8>, _ c: Int) -> SIMD16<Int32> {
        let q = p + c
        return SIMD16<Int32>(
            Int32(q[0]), Int32(q[3]), Int32(q[6]), Int32(q[9]), Int32(q[12]), Int32(q[15]), Int32(q[18]), Int32(q[21]),
            Int32(q[24]), Int32(q[27]), Int32(q[30]), Int32(q[33]), Int32(q[36]), Int32(q[39]), Int32(q[42]), Int32(q[45]))
    }

    /// Eight 2x2 blocks: pixels x0 ..< x0 + 16 of two source rows -> 16 Y in each row, 8 U, 8 V.
    @inline(__always) private func blocks16(_ x0: Int, _ s0: UnsafePointer<UInt8>, _ s1: UnsafePointer<UInt8>,
                                            _ y0: UnsafeMutablePointer<UInt8>, _ y1: UnsafeMutablePointer<UInt8>,
                                            _ u: UnsafeMutablePointer<UInt8>, _ v: UnsafeMutablePointer<UInt8>) {
        let a = s0 + x0 * 3, b = s1 + x0 * 3
        let r0 = Self.channel16(a, 0), g0 = Self.channel16(a, 1), b0 = Self.channel16(a, 2)
        let r1 = Self.channel16(b, 0), g1 = Self.channel16(b, 1), b1 = Self.channel16(b, 2)
        let yLo = SIMD16<Int32>(repeating: yMin), yHi = SIMD16<Int32>(repeating: yMax)
        let yo = SIMD16<Int32>(repeating: iyOff)
        let luma0 = ((iyr &* r0 &+ iyg &* g0 &+ iyb &* b0 &+ yo) &>> 16).clamped(lowerBound: yLo, upperBound: yHi)
        let luma1 = ((iyr &* r1 &+ iyg &* g1 &+ iyb &* b1 &+ yo) &>> 16).clamped(lowerBound: yLo, upperBound: yHi)
        UnsafeMutableRawPointer(y0).storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: luma0), as: SIMD16<UInt8>.self)
        UnsafeMutableRawPointer(y1).storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: luma1), as: SIMD16<UInt8>.self)
        let rs = r0 &+ r1, gs = g0 &+ g1, bs = b0 &+ b1
        let r = rs.evenHalf &+ rs.oddHalf, g = gs.evenHalf &+ gs.oddHalf, bl = bs.evenHalf &+ bs.oddHalf
        let cLo = SIMD8<Int32>(repeating: cMin), cHi = SIMD8<Int32>(repeating: cMax)
        let co = SIMD8<Int32>(repeating: (128 << 18) + (1 << 17))
        let cb = ((iur &* r &+ iug &* g &+ iub &* bl &+ co) &>> 18).clamped(lowerBound: cLo, upperBound: cHi)
        let cr = ((ivr &* r &+ ivg &* g &+ ivb &* bl &+ co) &>> 18).clamped(lowerBound: cLo, upperBound: cHi)
        UnsafeMutableRawPointer(u).storeBytes(of: SIMD8<UInt8>(truncatingIfNeeded: cb), as: SIMD8<UInt8>.self)
        UnsafeMutableRawPointer(v).storeBytes(of: SIMD8<UInt8>(truncatingIfNeeded: cr), as: SIMD8<UInt8>.self)
    }

    /// Converts planar Float32 `[3, height, width]` in [-1, 1] (clamped) into Y, U, V planes.
    func convert(planar src: UnsafePointer<Float>,
                 y yPlane: UnsafeMutablePointer<UInt8>, yStride: Int,
                 u uPlane: UnsafeMutablePointer<UInt8>, uStride: Int,
                 v vPlane: UnsafeMutablePointer<UInt8>, vStride: Int) {
        let w = width, h = height, ew = encodedWidth, eh = encodedHeight
        let plane = w * h
        let rP = src, gP = src + plane, bP = src + 2 * plane
        let yo = yOff + 0.5, co: Float = 128.5
        let yLo = Float(yMin), yHi = Float(yMax), cLo = Float(cMin), cHi = Float(cMax)
        @inline(__always) func to255(_ v: Float) -> Float { (min(max(v, -1), 1) + 1) * 127.5 }
        @inline(__always) func q(_ v: Float, _ lo: Float, _ hi: Float) -> UInt8 {
            UInt8(truncatingIfNeeded: Int32(min(max(v, lo), hi)))
        }
        if !subsampled {
            for row in 0..<eh {
                let o = min(row, h - 1) * w
                let yr0 = yPlane + row * yStride, ur0 = uPlane + row * uStride, vr0 = vPlane + row * vStride
                for x in 0..<ew {
                    let i = o + min(x, w - 1)
                    let r = to255(rP[i]), g = to255(gP[i]), b = to255(bP[i])
                    yr0[x] = q(yr * r + yg * g + yb * b + yo, yLo, yHi)
                    ur0[x] = q(ur * r + ug * g + ub * b + co, cLo, cHi)
                    vr0[x] = q(vr * r + vg * g + vb * b + co, cLo, cHi)
                }
            }
            return
        }
        let pairs = w / 2, cw = ew / 2
        for cy in 0..<(eh / 2) {
            let o0 = min(2 * cy, h - 1) * w, o1 = min(2 * cy + 1, h - 1) * w
            let y0 = yPlane + 2 * cy * yStride, y1 = y0 + yStride
            let uRow = uPlane + cy * uStride, vRow = vPlane + cy * vStride
            @inline(__always) func block(_ cx: Int, _ xa: Int, _ xb: Int) {
                let ia = o0 + xa, ib = o0 + xb, ic = o1 + xa, id = o1 + xb
                let ra = to255(rP[ia]), ga = to255(gP[ia]), ba = to255(bP[ia])
                let rb = to255(rP[ib]), gb = to255(gP[ib]), bb = to255(bP[ib])
                let rc = to255(rP[ic]), gc = to255(gP[ic]), bc = to255(bP[ic])
                let rd = to255(rP[id]), gd = to255(gP[id]), bd = to255(bP[id])
                y0[2 * cx] = q(yr * ra + yg * ga + yb * ba + yo, yLo, yHi)
                y0[2 * cx + 1] = q(yr * rb + yg * gb + yb * bb + yo, yLo, yHi)
                y1[2 * cx] = q(yr * rc + yg * gc + yb * bc + yo, yLo, yHi)
                y1[2 * cx + 1] = q(yr * rd + yg * gd + yb * bd + yo, yLo, yHi)
                let r = (ra + rb + rc + rd) * 0.25, g = (ga + gb + gc + gd) * 0.25, bl = (ba + bb + bc + bd) * 0.25
                uRow[cx] = q(ur * r + ug * g + ub * bl + co, cLo, cHi)
                vRow[cx] = q(vr * r + vg * g + vb * bl + co, cLo, cHi)
            }
            for cx in 0..<pairs { block(cx, 2 * cx, 2 * cx + 1) }
            for cx in pairs..<cw { block(cx, min(2 * cx, w - 1), min(2 * cx + 1, w - 1)) }
        }
    }
}
