import Foundation
import Synchronization

/// Shapes oneDNN has no bf16 kernel for; they run in fp32 from their first call on.
/// Written only while `ComputePrecision.current` is bf16, read under the same lock.
private let fp32Shapes = Mutex(Set<[Int]>())

/// `conv2d` in bf16 (see `ComputePrecision`), with the same contract and gradients; nil when
/// oneDNN has no bf16 kernel for this shape, and the fp32 path runs instead.
///
/// The images are split into one contiguous chunk per worker; each chunk is one oneDNN call on
/// its thread. The weight gradient sums the chunks' partial gradients in chunk order, so results
/// do not depend on which thread ran which chunk.
func conv2dBF16(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int) -> Tensor? {
    let batch = x.shape[0], cout = weight.shape[0]
    let key = [x.shape[1], x.shape[2], x.shape[3], cout, weight.shape[2], weight.shape[3], stride, padding, batch]
    if fp32Shapes.withLock({ $0.contains(key) }) { return nil }
    let geo = ConvGeometry(cin: x.shape[1], h: x.shape[2], w: x.shape[3], kh: weight.shape[2], kw: weight.shape[3],
                           stride: stride, padding: padding)
    let chunks = min(batch, Parallel.threadCount)
    let inImage = geo.cin * geo.h * geo.w, outImage = cout * geo.n
    func shape(_ chunk: Int) -> (range: Range<Int>, shape: OneDNN.ConvShape) {
        let lo = batch * chunk / chunks, hi = batch * (chunk + 1) / chunks
        return (lo..<hi, OneDNN.ConvShape(images: hi - lo, cin: geo.cin, h: geo.h, w: geo.w, cout: cout, kh: geo.kh,
                                          kw: geo.kw, stride: stride, padding: padding))
    }
    /// Runs `body` on every chunk; false when any chunk's shape had no bf16 kernel.
    func eachChunk(_ body: (Int, Range<Int>, OneDNN.ConvShape) -> OneDNN.Status) -> Bool {
        let unsupported = Atomic<Bool>(false)
        Parallel.forEach(chunks) { c in
            let (range, s) = shape(c)
            if body(c, range, s) == .unsupported { unsupported.store(true, ordering: .relaxed) }
        }
        if unsupported.load(ordering: .relaxed) {
            fp32Shapes.withLock { _ = $0.insert(key) }
            return false
        }
        return true
    }

    let out = Tensor(uninitializedShape: [batch, cout, geo.hout, geo.wout])
    let px = x.ptr, pw = weight.ptr, pb = bias?.ptr, py = out.ptr
    let done = eachChunk { _, range, s in
        OneDNN.convForward(s, x: px + range.lowerBound * inImage, weight: pw, bias: pb.map { UnsafePointer($0) },
                           into: py + range.lowerBound * outImage)
    }
    if !done { return nil }

    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    guard Tensor.shouldRecord(inputs) else { return out }
    let dx = x.detached(), dw = weight.detached()
    let pullbackX: ((Tensor) -> Tensor)? = x.requiresGrad ? { g in
        let gx = Tensor(uninitializedShape: dx.shape)
        let pg = g.ptr, pww = dw.ptr, pgx = gx.ptr
        let done = eachChunk { _, range, s in
            OneDNN.convBackwardData(s, gradient: pg + range.lowerBound * outImage, weight: pww,
                                    into: pgx + range.lowerBound * inImage)
        }
        // A shape whose forward ran in bf16 and whose gradient has no bf16 kernel: fp32 gradient.
        return done ? gx : conv2dGradientFP32(g, x: dx, weight: dw, stride: stride, padding: padding, ofInput: true)
    } : nil
    let pullbackW: ((Tensor) -> Tensor)? = weight.requiresGrad ? { g in
        let wCount = dw.count
        let partials = TensorStorage(uninitializedCount: chunks * wCount)
        let pg = g.ptr, pxx = dx.ptr, pp = partials.base
        let done = eachChunk { c, range, s in
            OneDNN.convBackwardWeights(s, x: pxx + range.lowerBound * inImage, gradient: pg + range.lowerBound * outImage,
                                       into: pp + c * wCount)
        }
        if !done { return conv2dGradientFP32(g, x: dx, weight: dw, stride: stride, padding: padding, ofInput: false) }
        let gw = Tensor(uninitializedShape: dw.shape)
        let d = gw.ptr
        Parallel.forRange(wCount, grain: 4096) { r in
            for i in r { d[i] = pp[i] }
            for c in 1..<chunks {
                let src = pp + c * wCount
                for i in r { d[i] += src[i] }
            }
        }
        withExtendedLifetime(partials) {}
        return gw
    } : nil
    var pullbacks: [((Tensor) -> Tensor)?] = [pullbackX, pullbackW]
    if let bias {
        pullbacks.append(bias.requiresGrad ? { g in g.sumToShape([1, cout, 1, 1]).reshaped([cout]) } : nil)
    }
    out.record("conv2d", inputs, pullbacks)
    return out
}

/// The fp32 gradient of `conv2d` with respect to its input (`ofInput`) or its weight, for a
/// shape whose forward ran in bf16 and whose gradient has no bf16 kernel.
private func conv2dGradientFP32(_ g: Tensor, x: Tensor, weight: Tensor, stride: Int, padding: Int, ofInput: Bool) -> Tensor {
    let xv = Tensor(shape: x.shape, storage: x.storage, requiresGrad: ofInput)
    let wv = Tensor(shape: weight.shape, storage: weight.storage, requiresGrad: !ofInput)
    return ComputePrecision.with(.fp32) {
        withGradients {
            conv2d(xv, weight: wv, bias: nil, stride: stride, padding: padding).backward(g)
            return (ofInput ? xv : wv).grad!
        }
    }
}
