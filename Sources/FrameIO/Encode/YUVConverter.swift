/// Exact RGB -> YUV (4:2:0 or 4:4:4) conversion with a chosen matrix and range, straight into an
/// encoder's planes. Both input layouts (packed UInt8, planar Float32 in [-1, 1]) are read in
/// place: the Float path never builds a packed copy.
///
/// Y = yOff + kr R + kg G + kb B (R, G, B in 0...255), Cb/Cr from the B-Y / R-Y differences with
/// the BT.709 or BT.601 constants, scaled to limited (16...235/240) or full (0...255) range and
/// rounded to nearest. 4:2:0 chroma is computed from RGB filtered by a separable, centre-sited 4-tap
/// filter (`VideoWriter.ChromaFilter`): area [0 1 1 0]/2 (the mean of each 2x2 block) by default, or
/// bilinear [1 3 3 1]/8. The filter and the matrix are applied to exact integer sums and
/// rounded once. Odd sizes padded to even, and the taps past the edges, repeat the last
/// column/row (edge replication).
struct YUVConverter {
    /// Source size.
    let width: Int, height: Int
    /// Destination (encoded) size, >= the source size.
    let encodedWidth: Int, encodedHeight: Int
    /// 4:2:0 (true) or 4:4:4 (false).
    let subsampled: Bool
    /// 4:2:0 chroma filter taps (outer, inner) of [outer inner inner outer], summing to 8.
    let taps: (outer: Int32, inner: Int32)

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
         matrix: VideoWriter.ColourMatrix, range: VideoWriter.ColourRange,
         chromaFilter: VideoWriter.ChromaFilter = .area) {
        self.taps = chromaFilter == .bilinear ? (1, 3) : (0, 4)
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
        for row in 0..<eh { lumaRow(src + min(row, h - 1) * rowBytes, yPlane + row * yStride) }
        let (w0, w1) = taps
        chroma420(u: uPlane, uStride: uStride, v: vPlane, vStride: vStride) { row, r, g, b in
            let s = src + row * rowBytes
            @inline(__always) func px(_ x: Int, _ c: Int) -> Int32 { Int32(s[min(max(x, 0), w - 1) * 3 + c]) }
            @inline(__always) func one(_ cx: Int) {
                let x = 2 * cx
                r[cx] = w0 &* (px(x - 1, 0) &+ px(x + 2, 0)) &+ w1 &* (px(x, 0) &+ px(x + 1, 0))
                g[cx] = w0 &* (px(x - 1, 1) &+ px(x + 2, 1)) &+ w1 &* (px(x, 1) &+ px(x + 1, 1))
                b[cx] = w0 &* (px(x - 1, 2) &+ px(x + 2, 2)) &+ w1 &* (px(x, 2) &+ px(x + 1, 2))
            }
            // Outputs cx = 1 ... (w - 3) / 2 read pixels 2cx-1 ... 2cx+2 with no clamping: runs of 8
            // of them go in SIMD lanes, with the same integer arithmetic as `one` (bit-identical).
            let cw = encodedWidth / 2, first = min(1, cw), interior = max(0, (w - 3) / 2)
            let runs = scalarPackedOnly ? 0 : interior / 8
            for cx in 0..<first { one(cx) }
            for run in 0..<runs {
                let cx = first + run * 8
                let lo = s + (2 * cx - 1) * 3, hi = s + (2 * cx + 1) * 3
                @inline(__always) func lanes(_ c: Int) -> SIMD8<Int32> {
                    // lo: pixels 2cx-1+k (even lanes tap 0, odd lanes tap 1); hi: 2cx+1+k (taps 2, 3).
                    let a = Self.channel16(lo, c), d = Self.channel16(hi, c)
                    return w0 &* (a.evenHalf &+ d.oddHalf) &+ w1 &* (a.oddHalf &+ d.evenHalf)
                }
                UnsafeMutableRawPointer(r + cx).storeBytes(of: lanes(0), as: SIMD8<Int32>.self)
                UnsafeMutableRawPointer(g + cx).storeBytes(of: lanes(1), as: SIMD8<Int32>.self)
                UnsafeMutableRawPointer(b + cx).storeBytes(of: lanes(2), as: SIMD8<Int32>.self)
            }
            for cx in (first + runs * 8)..<cw { one(cx) }
        }
    }

    /// Test hook: convert with the scalar loops only (the reference for the SIMD runs).
    var scalarPackedOnly = false

    /// One row of luma from packed RGB24 (`width` pixels); padded columns repeat the last one.
    @inline(__always) private func lumaRow(_ s: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<UInt8>) {
        let runs = scalarPackedOnly ? 0 : width / 16
        let lo = SIMD16<Int32>(repeating: yMin), hi = SIMD16<Int32>(repeating: yMax)
        let yo = SIMD16<Int32>(repeating: iyOff)
        for run in 0..<runs {
            let p = s + run * 48
            let sum = iyr &* Self.channel16(p, 0) &+ iyg &* Self.channel16(p, 1) &+ iyb &* Self.channel16(p, 2) &+ yo
            let luma = (sum &>> 16).clamped(lowerBound: lo, upperBound: hi)
            UnsafeMutableRawPointer(y + run * 16).storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: luma), as: SIMD16<UInt8>.self)
        }
        for x in (runs * 16)..<encodedWidth {
            let p = s + min(x, width - 1) * 3
            y[x] = clampY((iyr &* Int32(p[0]) &+ iyg &* Int32(p[1]) &+ iyb &* Int32(p[2]) &+ iyOff) >> 16)
        }
    }

    /// 16 RGB24 pixels from `p` (48 bytes), one channel, as Int32 lanes.
    @inline(__always) private static func channel16(_ p: UnsafePointer<UInt8>, _ c: Int) -> SIMD16<Int32> {
        let q = p + c
        return SIMD16<Int32>(
            Int32(q[0]), Int32(q[3]), Int32(q[6]), Int32(q[9]), Int32(q[12]), Int32(q[15]), Int32(q[18]), Int32(q[21]),
            Int32(q[24]), Int32(q[27]), Int32(q[30]), Int32(q[33]), Int32(q[36]), Int32(q[39]), Int32(q[42]), Int32(q[45]))
    }

    /// 4:2:0 chroma from horizontally filtered rows. `filterRow(row, r, g, b)` writes the filtered
    /// R, G, B sums (weights summing to 8) of source row `row` (already clamped to 0 ..< height) at
    /// the encodedWidth / 2 chroma columns. Each source row is filtered once, into a ring of four;
    /// chroma row cy combines source rows 2cy-1 ... 2cy+2 (clamped: edges and a padded last row
    /// repeat) with the same taps, then applies the matrix to the exact sums (weights 64 in all)
    /// and rounds once.
    private func chroma420(u uPlane: UnsafeMutablePointer<UInt8>, uStride: Int,
                           v vPlane: UnsafeMutablePointer<UInt8>, vStride: Int,
                           _ filterRow: (Int, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> Void) {
        let cw = encodedWidth / 2, ch = encodedHeight / 2
        let stride = (cw + 7) & ~7
        let ring = UnsafeMutablePointer<Int32>.allocate(capacity: 12 * stride)
        defer { ring.deallocate() }
        @inline(__always) func slot(_ row: Int, _ c: Int) -> UnsafeMutablePointer<Int32> { ring + (((row + 4) & 3) * 3 + c) * stride }
        func fill(_ row: Int) { filterRow(min(max(row, 0), height - 1), slot(row, 0), slot(row, 1), slot(row, 2)) }
        let (w0, w1) = taps
        let cLo = SIMD8<Int32>(repeating: cMin), cHi = SIMD8<Int32>(repeating: cMax)
        let off: Int32 = (128 << 22) + (1 << 21)
        let co = SIMD8<Int32>(repeating: off)
        fill(-1)
        fill(0)
        for cy in 0..<ch {
            fill(2 * cy + 1)
            fill(2 * cy + 2)
            let uRow = uPlane + cy * uStride, vRow = vPlane + cy * vStride
            let r0 = slot(2 * cy - 1, 0), r1 = slot(2 * cy, 0), r2 = slot(2 * cy + 1, 0), r3 = slot(2 * cy + 2, 0)
            let g0 = slot(2 * cy - 1, 1), g1 = slot(2 * cy, 1), g2 = slot(2 * cy + 1, 1), g3 = slot(2 * cy + 2, 1)
            let b0 = slot(2 * cy - 1, 2), b1 = slot(2 * cy, 2), b2 = slot(2 * cy + 1, 2), b3 = slot(2 * cy + 2, 2)
            @inline(__always) func load(_ p: UnsafeMutablePointer<Int32>, _ i: Int) -> SIMD8<Int32> {
                UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Int32>.self)
            }
            let runs = scalarPackedOnly ? 0 : cw / 8
            for run in 0..<runs {
                let i = run * 8
                let r = w0 &* (load(r0, i) &+ load(r3, i)) &+ w1 &* (load(r1, i) &+ load(r2, i))
                let g = w0 &* (load(g0, i) &+ load(g3, i)) &+ w1 &* (load(g1, i) &+ load(g2, i))
                let b = w0 &* (load(b0, i) &+ load(b3, i)) &+ w1 &* (load(b1, i) &+ load(b2, i))
                let cb = ((iur &* r &+ iug &* g &+ iub &* b &+ co) &>> 22).clamped(lowerBound: cLo, upperBound: cHi)
                let cr = ((ivr &* r &+ ivg &* g &+ ivb &* b &+ co) &>> 22).clamped(lowerBound: cLo, upperBound: cHi)
                UnsafeMutableRawPointer(uRow + i).storeBytes(of: SIMD8<UInt8>(truncatingIfNeeded: cb), as: SIMD8<UInt8>.self)
                UnsafeMutableRawPointer(vRow + i).storeBytes(of: SIMD8<UInt8>(truncatingIfNeeded: cr), as: SIMD8<UInt8>.self)
            }
            for i in (runs * 8)..<cw {
                let r = w0 &* (r0[i] &+ r3[i]) &+ w1 &* (r1[i] &+ r2[i])
                let g = w0 &* (g0[i] &+ g3[i]) &+ w1 &* (g1[i] &+ g2[i])
                let b = w0 &* (b0[i] &+ b3[i]) &+ w1 &* (b1[i] &+ b2[i])
                uRow[i] = clampC((iur &* r &+ iug &* g &+ iub &* b &+ off) >> 22)
                vRow[i] = clampC((ivr &* r &+ ivg &* g &+ ivb &* b &+ off) >> 22)
            }
        }
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
        for row in 0..<eh {
            let o = min(row, h - 1) * w
            let yRow = yPlane + row * yStride
            for x in 0..<ew {
                let i = o + min(x, w - 1)
                yRow[x] = q(yr * to255(rP[i]) + yg * to255(gP[i]) + yb * to255(bP[i]) + yo, yLo, yHi)
            }
        }
        // Chroma: the same separable taps as the packed path, on the clamped 4x4 neighbourhood
        // (zero taps skipped, so area reads just the 2x2 block).
        let t0 = Float(taps.outer) / 8, t1 = Float(taps.inner) / 8
        for cy in 0..<(eh / 2) {
            @inline(__always) func offset(_ row: Int) -> Int { min(max(row, 0), h - 1) * w }
            let o0 = offset(2 * cy - 1), o1 = offset(2 * cy), o2 = offset(2 * cy + 1), o3 = offset(2 * cy + 2)
            let uRow = uPlane + cy * uStride, vRow = vPlane + cy * vStride
            /// Column `x` (clamped) filtered vertically, in 0...255 units.
            @inline(__always) func column(_ x: Int) -> (r: Float, g: Float, b: Float) {
                let x = min(max(x, 0), w - 1)
                var r: Float = 0, g: Float = 0, b: Float = 0
                @inline(__always) func add(_ t: Float, _ o: Int) {
                    r += t * to255(rP[o + x]); g += t * to255(gP[o + x]); b += t * to255(bP[o + x])
                }
                if t0 != 0 { add(t0, o0) }
                add(t1, o1); add(t1, o2)
                if t0 != 0 { add(t0, o3) }
                return (r, g, b)
            }
            for cx in 0..<(ew / 2) {
                var r: Float = 0, g: Float = 0, b: Float = 0
                @inline(__always) func add(_ t: Float, _ x: Int) {
                    let c = column(x)
                    r += t * c.r; g += t * c.g; b += t * c.b
                }
                if t0 != 0 { add(t0, 2 * cx - 1) }
                add(t1, 2 * cx); add(t1, 2 * cx + 1)
                if t0 != 0 { add(t0, 2 * cx + 2) }
                uRow[cx] = q(ur * r + ug * g + ub * b + co, cLo, cHi)
                vRow[cx] = q(vr * r + vg * g + vb * b + co, cLo, cHi)
            }
        }
    }
}
