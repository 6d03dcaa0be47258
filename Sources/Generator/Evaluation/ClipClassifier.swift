import Foundation

/// A small video-clip classifier on the tensor engine, for evaluating generated clips (prompt
/// adherence) and as the feature space of the Frechet distance (`FrechetDistance`).
///
/// Architecture: each clip `[frames, 3, R, R]` in [-1, 1] is averaged down `downsample` times
/// (2x2 boxes); every consecutive pair of frames gives a 6-channel input (the frame and its
/// temporal difference to the next frame), which two 3x3 stride-2 convolutions with ReLU turn
/// into a feature map; the flattened maps are averaged over time, then an MLP (one hidden ReLU
/// layer, `hidden` wide: the "penultimate" features) gives the class logits. Trained with AdamW
/// on softmax cross-entropy; everything is seeded through `Philox`, so a seed reproduces the
/// weights bit for bit on one machine.
public final class ClipClassifier: Module {
    /// Shape and width of the network.
    public struct Configuration: Sendable, Codable, Equatable {
        /// Number of classes.
        public var classes: Int
        /// Frames per clip (at least 2: the temporal differences need pairs).
        public var frames: Int
        /// Side of the square input frames, pixels.
        public var resolution: Int
        /// 2x2 average-pooling passes applied before the convolutions.
        public var downsample: Int = 1
        /// Output channels of the first convolution.
        public var channels1: Int = 16
        /// Output channels of the second convolution.
        public var channels2: Int = 32
        /// Width of the hidden layer (the feature dimension).
        public var hidden: Int = 64

        /// Creates a configuration.
        public init(classes: Int, frames: Int, resolution: Int, downsample: Int = 1,
                    channels1: Int = 16, channels2: Int = 32, hidden: Int = 64) {
            self.classes = classes; self.frames = frames; self.resolution = resolution
            self.downsample = downsample; self.channels1 = channels1; self.channels2 = channels2; self.hidden = hidden
        }

        /// Side of the frames the convolutions see.
        public var poolSide: Int { resolution >> downsample }
        /// Side of the second convolution's output.
        var mapSide: Int { (((poolSide + 1) / 2) + 1) / 2 }
        /// Floats in one input clip.
        public var clipCount: Int { frames * 3 * resolution * resolution }
    }

    /// Training settings.
    public struct TrainingOptions: Sendable, Codable, Equatable {
        /// Passes over the training clips.
        public var epochs: Int = 30
        /// Clips per step.
        public var batch: Int = 32
        /// AdamW step size.
        public var learningRate: Float = 3e-3
        /// AdamW decoupled weight decay.
        public var weightDecay: Float = 1e-2
        /// Seed of the batch order.
        public var seed: UInt64 = 0
        /// Creates options.
        public init(epochs: Int = 30, batch: Int = 32, learningRate: Float = 3e-3, weightDecay: Float = 1e-2, seed: UInt64 = 0) {
            self.epochs = epochs; self.batch = batch; self.learningRate = learningRate; self.weightDecay = weightDecay; self.seed = seed
        }
    }

    /// The configuration.
    public let config: Configuration
    /// First convolution, 6 -> channels1, 3x3 stride 2; checkpoint key `conv1`.
    public let conv1: Conv2d
    /// Second convolution, channels1 -> channels2, 3x3 stride 2; checkpoint key `conv2`.
    public let conv2: Conv2d
    /// Hidden layer (its ReLU output is the feature vector); checkpoint key `fc1`.
    public let fc1: Linear
    /// Output layer (logits); checkpoint key `fc2`.
    public let fc2: Linear

    /// Creates an untrained classifier with weights drawn from `Philox(seed:)`.
    public init(_ config: Configuration, seed: UInt64) {
        precondition(config.classes >= 2, "ClipClassifier: needs at least 2 classes, got \(config.classes)")
        precondition(config.frames >= 2, "ClipClassifier: needs at least 2 frames, got \(config.frames)")
        precondition(config.poolSide >= 4 && config.poolSide << config.downsample == config.resolution,
                     "ClipClassifier: resolution \(config.resolution) must be divisible by \(1 << config.downsample) and leave at least 4 pixels")
        self.config = config
        var rng = Philox(seed: seed)
        conv1 = Conv2d(6, config.channels1, kernelSize: 3, stride: 2, padding: 1, rng: &rng)
        conv2 = Conv2d(config.channels1, config.channels2, kernelSize: 3, stride: 2, padding: 1, rng: &rng)
        fc1 = Linear(config.channels2 * config.mapSide * config.mapSide, config.hidden, rng: &rng)
        fc2 = Linear(config.hidden, config.classes, rng: &rng)
    }

    /// The 6-channel pair inputs of clips: `[clips * (frames - 1), 6, side, side]`.
    func pairInputs(_ clips: [[Float]]) -> Tensor {
        let c = config
        let (f, r, s) = (c.frames, c.resolution, c.poolSide)
        let factor = 1 << c.downsample
        let plane = s * s
        var out = [Float](repeating: 0, count: clips.count * (f - 1) * 6 * plane)
        for (n, clip) in clips.enumerated() {
            precondition(clip.count == c.clipCount, "ClipClassifier: a clip has \(clip.count) floats, expected [\(f), 3, \(r), \(r)] = \(c.clipCount)")
            // Box-average each frame down to side x side.
            var pooled = [Float](repeating: 0, count: f * 3 * plane)
            let norm = 1 / Float(factor * factor)
            for ch in 0..<(f * 3) {
                for y in 0..<s {
                    for x in 0..<s {
                        var sum: Float = 0
                        for dy in 0..<factor {
                            let row = ch * r * r + (y * factor + dy) * r + x * factor
                            for dx in 0..<factor { sum += clip[row + dx] }
                        }
                        pooled[ch * plane + y * s + x] = sum * norm
                    }
                }
            }
            for t in 0..<(f - 1) {
                let base = ((n * (f - 1)) + t) * 6 * plane
                for i in 0..<(3 * plane) {
                    let a = pooled[t * 3 * plane + i], b = pooled[(t + 1) * 3 * plane + i]
                    out[base + i] = a
                    out[base + 3 * plane + i] = b - a
                }
            }
        }
        return Tensor(shape: [clips.count * (f - 1), 6, s, s], data: out)
    }

    /// Forward pass: the hidden features `[clips, hidden]` and the logits `[clips, classes]`.
    func forward(_ clips: [[Float]]) -> (features: Tensor, logits: Tensor) {
        let n = clips.count, pairs = config.frames - 1
        var x = pairInputs(clips)
        // Per-frame-pair convolutional features.
        x = conv1(x).relu()
        x = conv2(x).relu()
        // Average over time, keeping the spatial layout.
        x = x.reshaped([n, pairs, config.channels2 * config.mapSide * config.mapSide]).mean(axis: 1)
        // MLP head.
        let features = fc1(x).relu()
        return (features, fc2(features))
    }

    /// The penultimate (hidden ReLU) features of each clip, `hidden` floats each: the space the
    /// Frechet distance is measured in. Clips are `[frames, 3, R, R]` floats in [-1, 1].
    public func features(_ clips: [[Float]], batch: Int = 64) -> [[Float]] {
        run(clips, batch: batch) { $0.features }
    }

    /// Class probabilities (softmax of the logits) of each clip.
    public func probabilities(_ clips: [[Float]], batch: Int = 64) -> [[Float]] {
        run(clips, batch: batch) { $0.logits.softmax() }
    }

    /// The most likely class of each clip.
    public func predict(_ clips: [[Float]], batch: Int = 64) -> [Int] {
        probabilities(clips, batch: batch).map { p in p.indices.max { p[$0] < p[$1] }! }
    }

    private func run(_ clips: [[Float]], batch: Int, _ pick: ((features: Tensor, logits: Tensor)) -> Tensor) -> [[Float]] {
        var result: [[Float]] = []
        result.reserveCapacity(clips.count)
        var start = 0
        while start < clips.count {
            let part = Array(clips[start..<min(clips.count, start + max(1, batch))])
            let out = withoutGradients { pick(forward(part)) }
            let width = out.shape[1], values = out.toArray()
            for i in 0..<part.count { result.append(Array(values[(i * width)..<((i + 1) * width)])) }
            start += part.count
        }
        return result
    }

    /// Trains on labelled clips with AdamW on the mean softmax cross-entropy. `progress` gets
    /// (epoch, mean loss of the epoch) after each epoch; return false to stop early.
    /// - Returns: the mean loss of each epoch run.
    @discardableResult
    public func train(clips: [[Float]], labels: [Int], options: TrainingOptions = .init(),
                      progress: ((Int, Float) -> Bool)? = nil) -> [Float] {
        precondition(clips.count == labels.count && !clips.isEmpty, "ClipClassifier.train: \(clips.count) clips but \(labels.count) labels")
        precondition(labels.allSatisfy { (0..<config.classes).contains($0) }, "ClipClassifier.train: labels must be in 0..<\(config.classes)")
        precondition(options.epochs >= 1 && options.batch >= 1, "ClipClassifier.train: epochs and batch must be positive")
        let optimizer = AdamW(namedParameters: namedParameters(),
                              configuration: .init(learningRate: options.learningRate, weightDecay: options.weightDecay))
        var rng = Philox(seed: options.seed, stream: 7)
        var losses: [Float] = []
        for epoch in 0..<options.epochs {
            let order = rng.permutation(count: clips.count)
            var total: Float = 0, steps = 0
            var start = 0
            while start < order.count {
                let idx = Array(order[start..<min(order.count, start + options.batch)])
                start += idx.count
                var onehot = [Float](repeating: 0, count: idx.count * config.classes)
                for (i, k) in idx.enumerated() { onehot[i * config.classes + labels[k]] = 1 }
                let loss = withGradients { () -> Tensor in
                    let logits = forward(idx.map { clips[$0] }).logits
                    let logp = (logits.softmax() + 1e-9).log()
                    return (logp * Tensor(shape: logits.shape, data: onehot)).sum() * (-1 / Float(idx.count))
                }
                optimizer.zeroGrad()
                loss.backward()
                optimizer.step()
                total += loss.item
                steps += 1
            }
            losses.append(total / Float(steps))
            if let progress, !progress(epoch, total / Float(steps)) { break }
        }
        return losses
    }
}
