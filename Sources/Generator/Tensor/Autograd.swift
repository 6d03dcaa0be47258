import Foundation

/// How an op's result passes its gradient back: one pullback per input, nil where that input
/// does not need a gradient. A pullback maps the gradient of the result to the gradient of the
/// input (with the input's shape). Pullbacks must not capture the result tensor itself (that
/// would be a reference cycle); capture `result.detached()` instead.
final class GradNode {
    /// Name of the op, for debugging.
    let op: StaticString
    /// The op's inputs, in order.
    let inputs: [Tensor]
    /// For each input, how to map the result's gradient to that input's gradient.
    let pullbacks: [((Tensor) -> Tensor)?]

    init(op: StaticString, inputs: [Tensor], pullbacks: [((Tensor) -> Tensor)?]) {
        precondition(inputs.count == pullbacks.count)
        self.op = op
        self.inputs = inputs
        self.pullbacks = pullbacks
    }
}

/// Switch for gradient recording, per thread. Recording is on by default.
public enum GradMode {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k, nil)
        return k
    }()

    /// Whether ops on this thread record gradient information.
    public static var isEnabled: Bool {
        get { pthread_getspecific(key) == nil }
        set { pthread_setspecific(key, newValue ? nil : UnsafeRawPointer(bitPattern: 1)) }
    }
}

/// Runs `body` with gradient recording off on this thread (inference mode): results carry no
/// graph and keep no saved activations. Nests; restores the previous mode on exit.
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    let previous = GradMode.isEnabled
    GradMode.isEnabled = false
    defer { GradMode.isEnabled = previous }
    return try body()
}

/// Runs `body` with gradient recording on (for example inside an outer `withoutGradients`).
public func withGradients<R>(_ body: () throws -> R) rethrows -> R {
    let previous = GradMode.isEnabled
    GradMode.isEnabled = true
    defer { GradMode.isEnabled = previous }
    return try body()
}

extension Tensor {
    /// True when an op on `inputs` should record a gradient node.
    @inline(__always)
    static func shouldRecord(_ a: Tensor) -> Bool { a.requiresGrad && GradMode.isEnabled }

    /// True when an op on `a` and `b` should record a gradient node.
    @inline(__always)
    static func shouldRecord(_ a: Tensor, _ b: Tensor) -> Bool { (a.requiresGrad || b.requiresGrad) && GradMode.isEnabled }

    /// True when an op on `inputs` should record a gradient node.
    @inline(__always)
    static func shouldRecord(_ inputs: [Tensor]) -> Bool {
        GradMode.isEnabled && inputs.contains { $0.requiresGrad }
    }

    /// Attaches a gradient node to this op result and marks it as requiring gradients.
    func record(_ op: StaticString, _ inputs: [Tensor], _ pullbacks: [((Tensor) -> Tensor)?]) {
        requiresGrad = true
        node = GradNode(op: op, inputs: inputs, pullbacks: pullbacks)
    }

    /// Reverse-mode differentiation from this tensor.
    ///
    /// Walks the recorded graph in reverse topological order (the tape) and adds gradients
    /// into the `grad` of every leaf that requires them; repeated calls accumulate until
    /// `zeroGrad()`. Without `retainGraph` the graph's nodes (and the activations they saved)
    /// are released as the walk passes them, so a second `backward()` through the same graph
    /// is not possible.
    /// - Parameters:
    ///   - seed: gradient of the final objective with respect to `self`; defaults to ones
    ///     (so a scalar loss needs none).
    ///   - retainGraph: keep the graph for another backward pass.
    public func backward(_ seed: Tensor? = nil, retainGraph: Bool = false) {
        precondition(requiresGrad, "backward: tensor of shape \(shape) does not require gradients")
        if let seed {
            precondition(seed.count == count, "backward: seed shape \(seed.shape) does not match \(shape)")
        }
        // Topological order by iterative post-order DFS over tensors that require gradients.
        var order: [Tensor?] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Int)] = [(self, 0)]
        visited.insert(ObjectIdentifier(self))
        while let (t, i) = stack.popLast() {
            let inputs = t.node?.inputs ?? []
            if i < inputs.count {
                stack.append((t, i + 1))
                let next = inputs[i]
                if next.requiresGrad && t.node!.pullbacks[i] != nil && !visited.contains(ObjectIdentifier(next)) {
                    visited.insert(ObjectIdentifier(next))
                    stack.append((next, 0))
                }
            } else {
                order.append(t)
            }
        }
        // Gradient per tensor, and whether this walk owns its storage (a fresh buffer no one
        // else holds: then it can be accumulated into in place or handed to a leaf uncopied).
        var grads: [ObjectIdentifier: (tensor: Tensor, owned: Bool)] = [:]
        grads[ObjectIdentifier(self)] = (seed.map { Tensor(shape: shape, storage: $0.storage) } ?? Tensor.ones(shape), seed == nil)
        withoutGradients {
            for index in stride(from: order.count - 1, through: 0, by: -1) {
                let t = order[index]!
                order[index] = nil
                guard let (g, owned) = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
                if let node = t.node {
                    for (input, pullback) in zip(node.inputs, node.pullbacks) {
                        guard let pullback, input.requiresGrad else { continue }
                        let gi = pullback(g)
                        precondition(gi.count == input.count, "backward: \(node.op) produced a gradient of shape \(gi.shape) for an input of shape \(input.shape)")
                        // Pullbacks either pass `g`'s storage through (views) or allocate.
                        let fresh = gi.storage !== g.storage
                        let key = ObjectIdentifier(input)
                        if let existing = grads[key] {
                            if existing.owned {
                                existing.tensor.addInPlace(gi)
                            } else {
                                grads[key] = (existing.tensor + gi, true)
                            }
                        } else {
                            grads[key] = (gi, fresh)
                        }
                    }
                    if !retainGraph { t.node = nil }
                } else {
                    // Leaf gradients are owned, so optimizers may scale them in place.
                    if let existing = t.grad {
                        existing.addInPlace(g)
                    } else if owned && g.storage !== seed?.storage {
                        t.grad = g.shape == t.shape ? g : Tensor(shape: t.shape, storage: g.storage)
                    } else {
                        let copy = Tensor(uninitializedShape: t.shape)
                        copy.ptr.update(from: g.ptr, count: g.count)
                        t.grad = copy
                    }
                }
            }
        }
    }
}
