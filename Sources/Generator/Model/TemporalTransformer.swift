import Foundation

/// The temporal stream: a transformer block over the frame axis at every spatial position, with
/// TGS attention
///   softmax(Q K^T / sqrt(d) + gamma * T) V,
/// where T[h, i, j] = b[h, clamp(j - i, -D, D)] is a learned relative (Toeplitz) bias per head
/// indexed by frame distance, clamped at D = `maxFrameDistance` so any frame count works, and
/// gamma is a learned per-head gate initialised at 0. The block is merged by a gated residual,
/// x + g * (attention and feed-forward). A fresh block has g = 1 and zero output projections
/// (attention's `toOut` and `ff2`, as AnimateDiff's and ControlNet's zero-initialised layers), so
/// a fresh model is exactly the per-frame spatial model, and the temporal stream grows in at the
/// rate of full weight matrices. (With g itself starting at 0, a single scalar moved at most
/// the learning rate per step, and trained models kept g near 0.05: their frames were denoised
/// almost independently; docs/experiments/objects.md.)
///
/// With `DenoiserConfig.temporalConditioning`, a per-clip vector c = W e + b from the pooled text
/// embedding e (W and b zero-started) is added to the input of both sub-blocks:
/// x + g * attention(norm1(x + c)), then x + g * ff(norm2(x + c)); the residual stream itself is
/// not shifted, so the start function is the block's without it, fresh or grown from a trained one.
///
/// With `DenoiserConfig.temporalPositions`, a per-frame vector p_f = P phi(f) (P zero-started,
/// phi the frame index's sinusoidal features, `framePositionFeatures`) is added to the same two
/// inputs, beside c: the frame's place in its clip, which the relative bias cannot tell.
///
/// b starts as ALiBi-style slopes (-|j - i| 2^(-8h/H)) so that the bias gradient is non-zero
/// once gamma moves.
final class TemporalTransformer: Module {
    /// The spatio-temporal convolution before the attention (`DenoiserConfig.temporalConvolution`);
    /// checkpoint key `convolution`.
    let convolution: TemporalConvolution?
    /// Pooled text embedding -> the per-clip vector c, `[C, textDim]`, zero-started
    /// (`DenoiserConfig.temporalConditioning`); checkpoint key `condition`.
    let condition: Linear?
    /// The frame index's features -> the per-frame vector p, `[C, positionFeatures]`, zero-started
    /// (`DenoiserConfig.temporalPositions`); checkpoint key `position`.
    let position: Linear?
    /// Pre-attention LayerNorm; checkpoint key `norm1`.
    let norm1: LayerNorm
    /// Attention over frames; checkpoint key `attention`.
    let attention: MultiHeadAttention
    /// Pre-feed-forward LayerNorm; checkpoint key `norm2`.
    let norm2: LayerNorm
    /// Feed-forward expansion `[2C, C]`; checkpoint key `ff1`.
    let ff1: Linear
    /// Feed-forward projection `[C, 2C]`; checkpoint key `ff2`.
    let ff2: Linear
    /// Relative bias table b, `[2D + 1, heads]` (row d + D is distance d); checkpoint key `relativeBias`.
    let relativeBias: Parameter
    /// gamma, `[heads, 1, 1]`, initialised at 0; checkpoint key `biasGate`.
    let biasGate: Parameter
    /// g, `[1]`, initialised at 0; checkpoint key `residualGate`.
    let residualGate: Parameter
    /// Heads.
    let heads: Int
    /// D.
    let maxDistance: Int
    /// Whether the block runs on the channel-major maps in place (`channelMajorBlock`, on CPUs
    /// with the vector kernels) rather than on rows of frames; the two compute the same function.
    var channelMajor = true

    init(channels: Int, heads: Int, maxDistance: Int, convolutionGroups: Int? = nil, textDim: Int? = nil,
         positions: Bool = false, rng: inout some RandomNumberGenerator) {
        convolution = convolutionGroups.map { TemporalConvolution(channels: channels, groups: $0, rng: &rng) }
        condition = textDim.map { Linear($0, channels, rng: &rng) }
        position = positions ? Linear(TemporalTransformer.positionFeatures, channels, rng: &rng) : nil
        self.heads = heads
        self.maxDistance = maxDistance
        norm1 = LayerNorm(channels)
        attention = MultiHeadAttention(dim: channels, heads: heads, rng: &rng)
        norm2 = LayerNorm(channels)
        ff1 = Linear(channels, 2 * channels, rng: &rng)
        ff2 = Linear(2 * channels, channels, rng: &rng)
        var table = [Float](repeating: 0, count: (2 * maxDistance + 1) * heads)
        for d in -maxDistance...maxDistance {
            for h in 0..<heads {
                let slope = Foundation.pow(2.0, -8.0 * Double(h + 1) / Double(heads))
                table[(d + maxDistance) * heads + h] = Float(-Double(abs(d)) * slope)
            }
        }
        relativeBias = Parameter(Tensor(shape: [2 * maxDistance + 1, heads], data: table))
        biasGate = Parameter(Tensor.zeros([heads, 1, 1]))
        residualGate = Parameter(Tensor(shape: [1], data: [1]))
        let zeroStarted = [attention.toOut.weight, ff2.weight, condition?.weight, position?.weight]
            + [attention.toOut.bias, ff2.bias, condition?.bias, position?.bias]
        for p in zeroStarted.compactMap({ $0 }) {
            p.assign(Tensor.zeros(p.shape))
        }
    }

    /// The per-clip vectors c = W e + b of the clips' text `[B, textDim]`, `[B, C]`; nil for a
    /// block without `condition`.
    func clipVectors(_ text: Tensor?, clips b: Int) -> Tensor? {
        guard let condition else { return nil }
        guard let text else { preconditionFailure("TemporalTransformer: this block is text-conditioned; pass the clips' text") }
        precondition(text.shape[0] == b, "TemporalTransformer: \(text.shape[0]) text embeddings for \(b) clips")
        return condition(text)
    }

    /// Features of a frame's index f: sin and cos of 2 pi f / 2^(k+2) frames for k = 0..<8
    /// (periods 4 to 512 frames), so any frame count gets features and the slowest pairs vary
    /// almost linearly across a clip.
    static let positionFeatures = 16

    /// phi(f) for f = 0..<frames, `[F, positionFeatures]`.
    static func framePositionFeatures(frames: Int) -> Tensor {
        var data = [Float](repeating: 0, count: frames * positionFeatures)
        for f in 0..<frames {
            for k in 0..<positionFeatures / 2 {
                let angle = 2 * Double.pi * Double(f) / Double(1 << (k + 2))
                data[f * positionFeatures + 2 * k] = Float(Foundation.sin(angle))
                data[f * positionFeatures + 2 * k + 1] = Float(Foundation.cos(angle))
            }
        }
        return Tensor(shape: [frames, positionFeatures], data: data)
    }

    /// What the block adds to the inputs of its attention and feed-forward: the clip's text
    /// vector c `[B, 1, C]` plus the frames' vectors p `[1, F, C]`, broadcast to `[B, F, C]` when
    /// both are on, either alone otherwise; nil for a block with neither.
    func inputShift(text: Tensor?, clips b: Int, frames: Int) -> Tensor? {
        let c = clipVectors(text, clips: b).map { $0.reshaped([b, 1, $0.shape[1]]) }
        let p = position.map { layer in
            let v = layer(TemporalTransformer.framePositionFeatures(frames: frames))
            return v.reshaped([1, frames, v.shape[1]])
        }
        if let c, let p { return c + p }
        return c ?? p
    }

    /// T for `frames` frames: `[heads, F, F]`, differentiable in the table.
    func toeplitzBias(frames: Int) -> Tensor {
        var indices = [Int]()
        indices.reserveCapacity(frames * frames)
        for i in 0..<frames {
            for j in 0..<frames { indices.append(min(max(j - i, -maxDistance), maxDistance) + maxDistance) }
        }
        return embedding(relativeBias.value, indices: indices, indexShape: [frames, frames]).permuted([2, 0, 1])
    }

    /// `x`: `[B * F, C, H, W]` (frames of each clip consecutive); `text`: the clips' pooled text
    /// embeddings `[B, textDim]`, required with `condition` and ignored without it. Returns the
    /// same shape as `x`.
    func callAsFunction(_ x: Tensor, frames: Int, text: Tensor? = nil) -> Tensor {
        let x = convolution.map { $0(x, frames: frames) } ?? x
        if VectorKernels.available && channelMajor { return channelMajorBlock(x, frames: frames, text: text) }
        let (bf, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let b = bf / frames
        // [B*F, C, H, W] -> sequences over frames [B*H*W, F, C].
        var seq = x.reshaped([b, frames, c, h * w]).permuted([0, 3, 1, 2]).reshaped([b * h * w, frames, c])
        // The clip's text vector and the frames' vectors `[B or 1, 1, F or 1, C]`, broadcast over
        // the positions (and the frames or clips).
        let shift = inputShift(text: text, clips: b, frames: frames).map { $0.reshaped([$0.shape[0], 1, $0.shape[1], c]) }
        func input(_ s: Tensor) -> Tensor {
            shift.map { (s.reshaped([b, h * w, frames, c]) + $0).reshaped([b * h * w, frames, c]) } ?? s
        }
        // TGS attention and feed-forward, each merged by the gated residual.
        let bias = biasGate.value * toeplitzBias(frames: frames)
        let gate = residualGate.value
        seq = seq + gate * attention(norm1(input(seq)), bias: bias)
        seq = seq + gate * ff2(ff1(norm2(input(seq))).gelu())
        // Back to [B*F, C, H, W].
        return seq.reshaped([b, h * w, frames, c]).permuted([0, 2, 3, 1]).reshaped([bf, c, h, w])
    }
}

extension TemporalTransformer {
    /// The block computed on the `[B·F, C, H, W]` maps as they are: layer norms over the channel
    /// axis, the projections as 1x1 convolutions (q, k and v in one), and attention over the
    /// frames read in place (`frameAttention`). The same function as the row-major path, which
    /// moves every position's frames into rows `[B·H·W, F, C]` and back.
    fileprivate func channelMajorBlock(_ x: Tensor, frames: Int, text: Tensor?) -> Tensor {
        let (bf, c) = (x.shape[0], x.shape[1])
        let b = bf / frames
        let shift = inputShift(text: text, clips: b, frames: frames).map { $0.reshaped([$0.shape[0], $0.shape[1], c, 1]) }
        func input(_ s: Tensor) -> Tensor {
            shift.map { (s.reshaped([b, frames, c, s.count / (bf * c)]) + $0).reshaped(s.shape) } ?? s
        }
        func pointwise(_ weight: Tensor, _ bias: Tensor?, _ t: Tensor) -> Tensor {
            conv2d(t, weight: weight.reshaped([weight.shape[0], weight.shape[1], 1, 1]), bias: bias)
        }
        func norm(_ layer: LayerNorm, _ t: Tensor) -> Tensor {
            layerNormChannels(t, weight: layer.weight?.value, bias: layer.bias?.value, eps: layer.eps)
        }
        let mha = attention
        let qkvWeight = Tensor.concat([mha.toQ.weight.value, mha.toK.weight.value, mha.toV.weight.value], axis: 0)
        let qkvBias = [mha.toQ.bias, mha.toK.bias, mha.toV.bias].allSatisfy { $0 != nil }
            ? Tensor.concat([mha.toQ.bias!.value, mha.toK.bias!.value, mha.toV.bias!.value], axis: 0) : nil
        let bias = biasGate.value * toeplitzBias(frames: frames)
        let gate = residualGate.value
        // The residual gate scales the last projections' weights and biases, g·(W a + b) =
        // (g·W) a + g·b, instead of their whole output.
        var s = x
        let qkv = pointwise(qkvWeight, qkvBias, norm(norm1, input(s)))
        let attended = frameAttention(qkv: qkv, frames: frames, heads: heads, bias: bias)
        s = s + pointwise(gate * mha.toOut.weight.value, mha.toOut.bias.map { gate * $0.value }, attended)
        let hidden = pointwise(ff1.weight.value, ff1.bias?.value, norm(norm2, input(s))).gelu()
        s = s + pointwise(gate * ff2.weight.value, ff2.bias.map { gate * $0.value }, hidden)
        return s
    }
}

/// A spatio-temporal 3x3x3 convolution merged by a residual: x + conv([a(t-1), a(t), a(t+1)]) with
/// a = SiLU(GroupNorm(x)) per frame, the neighbours stacked on the channel axis (zeros beyond the
/// clip's ends) and conv a 3x3 convolution from 3C to C channels. Attention over the frame axis
/// relates one position to itself in other frames; this lets a feature move to a neighbouring
/// position from one frame to the next, as an object does (the pseudo-3D convolutions of
/// Make-A-Video and Video LDM). Its convolution starts at zero, so a fresh block is the identity.
final class TemporalConvolution: Module {
    /// Per-frame normalisation; checkpoint key `norm`.
    let norm: GroupNorm
    /// The 3x3 convolution over the stacked frames, `[C, 3C, 3, 3]`; checkpoint key `conv`.
    let conv: Conv2d

    init(channels: Int, groups: Int, rng: inout some RandomNumberGenerator) {
        norm = GroupNorm(groups: groups, channels: channels)
        conv = Conv2d(3 * channels, channels, kernelSize: 3, padding: 1, rng: &rng)
        for p in [conv.weight] + [conv.bias].compactMap({ $0 }) { p.assign(Tensor.zeros(p.shape)) }
    }

    /// `x`: `[B * F, C, H, W]` (frames of each clip consecutive). Returns the same shape.
    func callAsFunction(_ x: Tensor, frames: Int) -> Tensor {
        x + conv(stackNeighbours(norm.silu(x), frames: frames))
    }
}

/// `[B·F, C, H, W]` -> `[B·F, 3C, H, W]`: each frame's channels preceded by its previous frame's
/// and followed by its next frame's within the clip (zeros beyond the clip's ends), in one copy;
/// the gradient adds each third back to the frame it came from.
func stackNeighbours(_ a: Tensor, frames: Int) -> Tensor {
    precondition(a.rank == 4 && frames > 0 && a.shape[0] % frames == 0,
                 "stackNeighbours: expected [B·F, C, H, W] with F = \(frames), got \(a.shape)")
    let bf = a.shape[0], image = a.count / max(bf, 1)
    let out = Tensor(uninitializedShape: [bf, 3 * a.shape[1], a.shape[2], a.shape[3]])
    let src = a.ptr, dst = out.ptr
    Parallel.forRange(bf, grain: max(1, elementwiseGrain / max(3 * image, 1))) { images in
        for t in images {
            let f = t % frames, o = dst + 3 * t * image
            if f > 0 { o.update(from: src + (t - 1) * image, count: image) } else { o.initialize(repeating: 0, count: image) }
            (o + image).update(from: src + t * image, count: image)
            if f + 1 < frames { (o + 2 * image).update(from: src + (t + 1) * image, count: image) } else {
                (o + 2 * image).initialize(repeating: 0, count: image)
            }
        }
    }
    if Tensor.shouldRecord(a) {
        out.record("stackNeighbours", [a], [{ g in
            let ga = Tensor(uninitializedShape: a.shape)
            let pg = g.ptr, pa = ga.ptr
            Parallel.forRange(bf, grain: max(1, elementwiseGrain / max(3 * image, 1))) { images in
                for t in images {
                    let f = t % frames, o = pa + t * image, own = pg + (3 * t + 1) * image
                    // Frame t is the next frame of t - 1 and the previous frame of t + 1.
                    let asNext = f > 0 ? pg + (3 * (t - 1) + 2) * image : nil
                    let asPrevious = f + 1 < frames ? pg + 3 * (t + 1) * image : nil
                    switch (asNext, asPrevious) {
                    case let (n?, p?): for i in 0..<image { o[i] = own[i] + n[i] + p[i] }
                    case let (n?, nil): for i in 0..<image { o[i] = own[i] + n[i] }
                    case let (nil, p?): for i in 0..<image { o[i] = own[i] + p[i] }
                    case (nil, nil): o.update(from: own, count: image)
                    }
                }
            }
            return ga
        }])
    }
    return out
}
