import Foundation

/// A trainable tensor owned by a module. `value` is a leaf tensor that requires gradients;
/// optimizers update its storage in place and loading copies checkpoint data into it.
public final class Parameter {
    /// The current value (a leaf with `requiresGrad`).
    public private(set) var value: Tensor

    /// Whether optimizers update it. A fixed one (a transform fitted to data, stored with the
    /// model) takes no gradient and no optimizer state.
    public let trainable: Bool

    /// Wraps `value` as a leaf, trainable unless `trainable` is false.
    public init(_ value: Tensor, trainable: Bool = true) {
        self.value = value.node == nil ? value : value.detached()
        self.trainable = trainable
        self.value.requiringGrad(trainable)
    }

    /// Gradient accumulated by the last `backward()` calls, or nil.
    public var grad: Tensor? { value.grad }

    /// Shape of the value.
    public var shape: [Int] { value.shape }

    /// Drops the accumulated gradient.
    public func zeroGrad() { value.zeroGrad() }

    /// Replaces the gradient (used by gradient clipping and tests).
    public func setGrad(_ g: Tensor?) {
        if let g { precondition(g.count == value.count, "Parameter.setGrad: \(g.shape) does not match \(value.shape)") }
        value.grad = g
    }

    /// Copies `data` (row-major, `shape` must match) into the value in place.
    public func assign(_ data: Tensor) {
        precondition(data.shape == value.shape, "Parameter.assign: shape \(data.shape) does not match \(value.shape)")
        value.assign(data)
    }
}
