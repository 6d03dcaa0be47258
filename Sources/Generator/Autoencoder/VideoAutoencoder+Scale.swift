import Foundation

extension VideoAutoencoder {
    /// The latent scale factor for `frames`: 1 / std of the encoder's posterior means over every
    /// element of every frame (the measurement behind Stable Diffusion's 0.18215), accumulated in
    /// Double. Does not change `scaleFactor`; records no gradients.
    ///
    /// - Parameter batches: frames `[N, 3, H, W]` (or `[B, T, 3, H, W]`) in [-1, 1], H and W divisible by f.
    /// - Returns: the factor; 1 when there are fewer than two values or they are all equal.
    public func measureScaleFactor(_ batches: some Sequence<Tensor>) -> Float {
        var n = 0.0, sum = 0.0, sumSquares = 0.0
        for frames in batches {
            let mean = withoutGradients { encode(frames).mean }
            mean.withUnsafeBufferPointer { values in
                // Blocks of 256 summed in Float, then added in Double.
                var i = 0
                while i < values.count {
                    let end = min(i + 256, values.count)
                    var s: Float = 0, q: Float = 0
                    for j in i..<end { s += values[j]; q += values[j] * values[j] }
                    sum += Double(s)
                    sumSquares += Double(q)
                    i = end
                }
            }
            n += Double(mean.count)
        }
        guard n > 1 else { return 1 }
        let variance = max(0, (sumSquares - sum * sum / n) / (n - 1))
        guard variance > 0, variance.isFinite else { return 1 }
        return Float(1 / variance.squareRoot())
    }
}
