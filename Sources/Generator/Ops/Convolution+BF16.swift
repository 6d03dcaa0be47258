import Foundation
import Synchronization

/// Shapes oneDNN has no bf16 kernel for; they run in fp32 from their first call on.
/// Written only while `ComputePrecision.current` is bf16, read under the same lock.
private let fp32Shapes = Mutex(Set<[Int]>())

/// Bytes of the bf16 copies a convolution's passes can share, per chunk shape (see `ConvCopies`).
private let copyBytes = Mutex([[Int]: Int]())

private func sharedCopyBytes(_ s: OneDNN.ConvShape, gradient: Bool, hasBias: Bool) -> Int {
    let key = [gradient ? 1 : 0, hasBias ? 1 : 0, s.images, s.cin, s.h, s.w, s.cout, s.kh, s.kw, s.stride, s.padding]
    if let known = copyBytes.withLock({ $0[key] }) { return known }
    let bytes = gradient ? OneDNN.gradientCopyBytes(s) : OneDNN.sourceCopyBytes(s, hasBias: hasBias)
    copyBytes.withLock { $0[key] = bytes }
    return bytes
}

/// One bf16 copy per chunk of a convolution's source or output gradient, converted once and read
/// by the weight gradient instead of converting the fp32 tensor again (oneDNN's blocked layout;
/// 64-byte aligned, freed with the object).
private final class ConvCopies: @unchecked Sendable {
    let buffers: [UnsafeMutableRawPointer]

    /// nil when some chunk's passes want different layouts (a size of 0).
    init?(bytes: [Int]) {
        guard !bytes.isEmpty, bytes.allSatisfy({ $0 > 0 }) else { return nil }
        buffers = bytes.map { UnsafeMutableRawPointer.allocate(byteCount: $0, alignment: 64) }
    }

    deinit { buffers.forEach { $0.deallocate() } }
}

/// The output gradient's copies, handed from the input gradient's pullback to the weight
/// gradient's, which the autograd walk calls next with the same gradient tensor.
private final class GradientHandoff: @unchecked Sendable {
    var gradient: TensorStorage?
    var copies: ConvCopies?

    /// The copies made from `g`, once; nil when they were made from another gradient.
    func take(for g: Tensor) -> ConvCopies? {
        defer { gradient = nil; copies = nil }
        return gradient === g.storage ? copies : nil
    }
}

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

    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    let recording = Tensor.shouldRecord(inputs)
    // The weight gradient reads the forward's bf16 copy of x rather than converting x again.
    let sourceCopies = recording && weight.requiresGrad
        ? ConvCopies(bytes: (0..<chunks).map { sharedCopyBytes(shape($0).shape, gradient: false, hasBias: bias != nil) })
        : nil

    let out = Tensor(uninitializedShape: [batch, cout, geo.hout, geo.wout])
    let px = x.ptr, pw = weight.ptr, pb = bias.map { UnsafePointer($0.ptr) }, py = out.ptr
    let done = eachChunk { c, range, s in
        OneDNN.convForward(s, x: px + range.lowerBound * inImage, weight: pw, bias: pb,
                           into: py + range.lowerBound * outImage, keepingSourceIn: sourceCopies?.buffers[c])
    }
    if !done { return nil }

    guard recording else { return out }
    let dx = x.detached(), dw = weight.detached()
    // The input gradient's bf16 copy of dy, kept for the weight gradient when both are wanted.
    let handoff: GradientHandoff? = x.requiresGrad && weight.requiresGrad ? GradientHandoff() : nil
    let pullbackX: ((Tensor) -> Tensor)? = x.requiresGrad ? { g in
        let gx = Tensor(uninitializedShape: dx.shape)
        let pg = g.ptr, pww = dw.ptr, pgx = gx.ptr
        let copies = handoff == nil ? nil
            : ConvCopies(bytes: (0..<chunks).map { sharedCopyBytes(shape($0).shape, gradient: true, hasBias: false) })
        let done = eachChunk { c, range, s in
            OneDNN.convBackwardData(s, gradient: pg + range.lowerBound * outImage, weight: pww,
                                    into: pgx + range.lowerBound * inImage, keepingGradientIn: copies?.buffers[c])
        }
        if done, let handoff, let copies {
            handoff.gradient = g.storage
            handoff.copies = copies
        }
        // A shape whose forward ran in bf16 and whose gradient has no bf16 kernel: fp32 gradient.
        return done ? gx : conv2dGradientFP32(g, x: dx, weight: dw, stride: stride, padding: padding, ofInput: true)
    } : nil
    let pullbackW: ((Tensor) -> Tensor)? = weight.requiresGrad ? { g in
        let wCount = dw.count
        let partials = TensorStorage(uninitializedCount: chunks * wCount)
        let pg = g.ptr, pxx = dx.ptr, pp = partials.base
        let gradientCopies = handoff?.take(for: g)
        let done = eachChunk { c, range, s in
            OneDNN.convBackwardWeights(s, x: pxx + range.lowerBound * inImage, sourceCopy: sourceCopies?.buffers[c],
                                       gradient: pg + range.lowerBound * outImage,
                                       gradientCopy: gradientCopies?.buffers[c], into: pp + c * wCount)
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
