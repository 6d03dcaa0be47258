import Foundation

/// 2-D convolution layer over NCHW (PyTorch `nn.Conv2d` layout and default initialisation:
/// uniform ±1/√(Cin·k·k)).
public final class Conv2d: Module {
    /// `[outChannels, inChannels, k, k]`; checkpoint key `weight`.
    public let weight: Parameter
    /// `[outChannels]` or nil; checkpoint key `bias`.
    public let bias: Parameter?
    /// Step between windows.
    public let stride: Int
    /// Zero padding per side.
    public let padding: Int

    /// Creates a square-kernel convolution with weights drawn from `rng`.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, rng: inout some RandomNumberGenerator) {
        let bound = 1 / Float(inChannels * kernelSize * kernelSize).squareRoot()
        weight = Parameter(Tensor.uniform([outChannels, inChannels, kernelSize, kernelSize], low: -bound, high: bound, using: &rng))
        self.bias = bias ? Parameter(Tensor.uniform([outChannels], low: -bound, high: bound, using: &rng)) : nil
        self.stride = stride
        self.padding = padding
    }

    /// Applies the convolution to `[N, inChannels, H, W]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        conv2d(x, weight: weight.value, bias: bias?.value, stride: stride, padding: padding)
    }
}
