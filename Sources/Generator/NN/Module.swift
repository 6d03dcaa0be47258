import Foundation

/// Error from loading parameters into a module.
public enum ModuleLoadError: Error, LocalizedError, Equatable {
    /// The checkpoint has no tensor for this parameter name.
    case missing(String)
    /// The checkpoint tensor's shape differs from the parameter's.
    case shapeMismatch(name: String, expected: [Int], got: [Int])
    /// The checkpoint has tensors no parameter uses (only with `strict`).
    case unexpected([String])

    /// A message naming the parameter and what to do.
    public var errorDescription: String? {
        switch self {
        case .missing(let name): return "checkpoint has no tensor '\(name)'; was it saved from the same model configuration?"
        case let .shapeMismatch(name, expected, got):
            return "tensor '\(name)' has shape \(got) but the model expects \(expected); check the model configuration"
        case .unexpected(let names):
            return "checkpoint has tensors the model does not use: \(names.prefix(8).joined(separator: ", "))\(names.count > 8 ? ", ..." : "")"
        }
    }
}

/// A layer or model: a class whose parameters can be listed by name.
///
/// The default `namedParameters()` walks stored properties with `Mirror`: a `Parameter`
/// property contributes its property name (e.g. `weight`), a child module its parameters
/// prefixed by the property name (`attn.toQ.weight`), and arrays of modules or parameters
/// their index (`blocks.0.norm.weight`). So a checkpoint key is the property path, declared
/// where the property is. Types may override it to rename keys.
public protocol Module: AnyObject {
    /// Parameters with their dotted names, in declaration order.
    func namedParameters() -> [(String, Parameter)]
}

extension Module {
    /// Parameters found by reflection over stored properties (see `Module`).
    public func namedParameters() -> [(String, Parameter)] {
        var result: [(String, Parameter)] = []
        collectParameters(of: self, prefix: "", into: &result)
        return result
    }

    /// All parameters in declaration order.
    public func parameters() -> [Parameter] { namedParameters().map { $0.1 } }

    /// The parameters optimizers update (`Parameter.trainable`), with their names.
    public func trainableNamedParameters() -> [(String, Parameter)] { namedParameters().filter { $0.1.trainable } }

    /// Total number of trainable scalars.
    public var parameterCount: Int { trainableNamedParameters().reduce(0) { $0 + $1.1.value.count } }

    /// Drops every parameter's gradient.
    public func zeroGrad() { for p in parameters() { p.zeroGrad() } }

    /// Name → tensor map of the parameters (tensors share storage with the parameters).
    public func stateDict() -> [String: Tensor] {
        Dictionary(namedParameters().map { ($0.0, $0.1.value) }, uniquingKeysWith: { a, _ in a })
    }

    /// Copies tensors into the parameters by name.
    /// - Parameters:
    ///   - tensors: name → tensor (e.g. read from a safetensors file).
    ///   - strict: also fail when `tensors` has names no parameter uses.
    /// - Throws: `ModuleLoadError` naming the first missing or mis-shaped tensor.
    public func load(_ tensors: [String: Tensor], strict: Bool = true) throws {
        let named = namedParameters()
        for (name, p) in named {
            guard let t = tensors[name] else { throw ModuleLoadError.missing(name) }
            guard t.shape == p.shape else { throw ModuleLoadError.shapeMismatch(name: name, expected: p.shape, got: t.shape) }
        }
        if strict {
            let used = Set(named.map { $0.0 })
            let extra = tensors.keys.filter { !used.contains($0) }.sorted()
            if !extra.isEmpty { throw ModuleLoadError.unexpected(extra) }
        }
        for (name, p) in named { p.assign(tensors[name]!) }
    }
}

/// Appends the parameters reachable from `value`'s stored properties.
private func collectParameters(of value: Any, prefix: String, into result: inout [(String, Parameter)]) {
    var mirror: Mirror? = Mirror(reflecting: value)
    var children: [(String, Any)] = []
    while let m = mirror {
        children.insert(contentsOf: m.children.compactMap { c in c.label.map { ($0, c.value) } }, at: 0)
        mirror = m.superclassMirror
    }
    for (label, child) in children {
        let name = prefix + label
        collect(child, name: name, into: &result)
    }
}

private func collect(_ child: Any, name: String, into result: inout [(String, Parameter)]) {
    if let p = child as? Parameter {
        result.append((name, p))
    } else if let m = child as? Module {
        result.append(contentsOf: m.namedParameters().map { (name + "." + $0.0, $0.1) })
    } else if let ms = child as? [Module] {
        for (i, m) in ms.enumerated() { result.append(contentsOf: m.namedParameters().map { ("\(name).\(i).\($0.0)", $0.1) }) }
    } else if let ps = child as? [Parameter] {
        for (i, p) in ps.enumerated() { result.append(("\(name).\(i)", p)) }
    }
}
