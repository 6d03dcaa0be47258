import Foundation

/// Scales all gradients so their joint L2 norm is at most `maxNorm` (PyTorch
/// `clip_grad_norm_`: factor maxNorm / (norm + 1e-6) when that is below 1).
/// - Returns: the joint norm before clipping (accumulated in Double); parameters without a
///   gradient are ignored.
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    var total = 0.0
    for p in parameters {
        guard let g = p.grad else { continue }
        let pg = g.ptr
        var i = 0
        while i < g.count {
            let end = min(i + 256, g.count)
            var f: Float = 0
            for j in i..<end { f += pg[j] * pg[j] }
            total += Double(f)
            i = end
        }
    }
    let norm = Float(total.squareRoot())
    let factor = maxNorm / (norm + 1e-6)
    if factor < 1 {
        for p in parameters { p.grad?.scaleInPlace(factor) }
    }
    return norm
}
