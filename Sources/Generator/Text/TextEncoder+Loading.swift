import Foundation

extension BertModel {
    /// The checkpoint name (Hugging Face `BertModel`, without a `bert.` prefix) of each module
    /// parameter. This is the one place where checkpoint names map to the model.
    static func checkpointName(ofParameter name: String) -> String {
        let direct: [String: String] = [
            "embeddings.word": "embeddings.word_embeddings.weight",
            "embeddings.position": "embeddings.position_embeddings.weight",
            "embeddings.tokenType": "embeddings.token_type_embeddings.weight",
            "embeddings.norm.weight": "embeddings.LayerNorm.weight",
            "embeddings.norm.bias": "embeddings.LayerNorm.bias",
        ]
        if let mapped = direct[name] { return mapped }
        // layers.N.<part>.<weight|bias> -> encoder.layer.N.<HF part>.<weight|bias>
        let parts = name.split(separator: ".").map(String.init)
        guard parts.count == 4, parts[0] == "layers" else { return name }
        let layerParts: [String: String] = [
            "query": "attention.self.query",
            "key": "attention.self.key",
            "value": "attention.self.value",
            "attentionOutput": "attention.output.dense",
            "attentionNorm": "attention.output.LayerNorm",
            "intermediate": "intermediate.dense",
            "output": "output.dense",
            "outputNorm": "output.LayerNorm",
        ]
        guard let hf = layerParts[parts[2]] else { return name }
        return "encoder.layer.\(parts[1]).\(hf).\(parts[3])"
    }

    /// Loads pretrained weights from a Hugging Face BertModel safetensors checkpoint, with or
    /// without a leading `bert.` on the names (BertForX checkpoints). `pooler.*`,
    /// `embeddings.position_ids` and task heads are not used.
    /// - Throws: `TextEncoderError.unreadableFile` when the file is not a valid safetensors file,
    ///   `.badWeights` when a tensor is missing, misshapen or not floating point.
    func loadWeights(from url: URL) throws {
        let file: SafeTensors
        do { file = try SafeTensors(contentsOf: url) } catch {
            throw TextEncoderError.unreadableFile(path: url.path, reason: "\(error)")
        }
        let prefix = file.contains("bert.embeddings.word_embeddings.weight") ? "bert." : ""
        var tensors: [String: Tensor] = [:]
        for (name, parameter) in namedParameters() {
            let key = prefix + Self.checkpointName(ofParameter: name)
            guard file.contains(key) else {
                throw TextEncoderError.badWeights(path: url.path, reason: "no tensor named \(key)")
            }
            let info = try file.info(key)
            guard info.shape == parameter.shape else {
                throw TextEncoderError.badWeights(path: url.path,
                                                  reason: "\(key) has shape \(info.shape), expected \(parameter.shape)")
            }
            do {
                tensors[name] = Tensor(shape: info.shape, data: try file.floats(key))
            } catch {
                throw TextEncoderError.badWeights(path: url.path, reason: "\(error)")
            }
        }
        do { try load(tensors, strict: true) } catch {
            throw TextEncoderError.badWeights(path: url.path, reason: error.localizedDescription)
        }
    }
}
