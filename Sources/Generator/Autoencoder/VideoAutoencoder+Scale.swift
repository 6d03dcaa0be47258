import Foundation

/// Running sums of latent values for the scale factor, in Double.
struct LatentStatistics {
    private(set) var count = 0.0
    private var sum = 0.0, sumSquares = 0.0

    /// Adds every element of `values`.
    mutating func add(_ values: Tensor) {
        values.withUnsafeBufferPointer { v in
            // Blocks of 256 summed in Float, then added in Double.
            var i = 0
            while i < v.count {
                let end = min(i + 256, v.count)
                var s: Float = 0, q: Float = 0
                for j in i..<end { s += v[j]; q += v[j] * v[j] }
                sum += Double(s)
                sumSquares += Double(q)
                i = end
            }
        }
        count += Double(values.count)
    }

    /// 1 / (sample standard deviation); 1 when there are fewer than two values or they are all equal.
    var scaleFactor: Float {
        guard count > 1 else { return 1 }
        let variance = max(0, (sumSquares - sum * sum / count) / (count - 1))
        guard variance > 0, variance.isFinite else { return 1 }
        return Float(1 / variance.squareRoot())
    }
}

extension VideoAutoencoder {
    /// The latent scale factor for `frames`: 1 / std of the encoder's posterior means over every
    /// element of every frame (the measurement behind Stable Diffusion's 0.18215), accumulated in
    /// Double. Does not change `scaleFactor`; records no gradients.
    ///
    /// - Parameter batches: frames `[N, 3, H, W]` (or `[B, T, 3, H, W]`) in [-1, 1], H and W divisible by f.
    /// - Returns: the factor; 1 when there are fewer than two values or they are all equal.
    public func measureScaleFactor(_ batches: some Sequence<Tensor>) -> Float {
        var statistics = LatentStatistics()
        for frames in batches { statistics.add(withoutGradients { encode(frames).mean }) }
        return statistics.scaleFactor
    }
}
