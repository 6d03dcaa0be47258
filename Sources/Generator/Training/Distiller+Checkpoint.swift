import Foundation

extension Distiller {
    /// Metadata key of the distillation configuration JSON.
    static let configKey = "t2v.distillation_config"
    /// Metadata keys this file owns; callers' extra metadata may not use them.
    static let stateKeys: Set<String> = [
        configKey, "t2v.teacher_config", "t2v.student_config", "t2v.round_teacher_timesteps",
        "t2v.round_teacher_prediction", "t2v.round_step", "t2v.first_round", "t2v.guidance_stage", "t2v.rng", "t2v.generator_version",
    ]

    /// Writes the whole distillation state atomically: the current teacher (`teacher.*`), the
    /// student (`student.*`) and its AdamW moments (`adam.*`) as tensors; the configuration, the
    /// round (its teacher grid and prediction type), the step within it, whether it is the guided
    /// first round and the random-stream position as metadata, plus `extra` (the caller's own
    /// state, e.g. the CLI's clip-sampling stream).
    ///
    /// - Throws: `TrainingError.badCheckpoint` when writing fails or `extra` reuses a state key.
    public func saveCheckpoint(to url: URL, metadata extra: [String: String] = [:]) throws {
        if let clash = extra.keys.first(where: { Self.stateKeys.contains($0) }) {
            throw TrainingError.badCheckpoint(path: url.path, message: "extra metadata may not replace '\(clash)'")
        }
        var entries = [SafeTensors.Entry]()
        for (name, p) in teacher.namedParameters() { entries.append(.init(name: "teacher." + name, shape: p.shape, floats: p.value.toArray())) }
        for (name, p) in student.namedParameters() { entries.append(.init(name: "student." + name, shape: p.shape, floats: p.value.toArray())) }
        for (key, t) in optimizer.state() { entries.append(.init(name: "adam." + key, shape: t.shape, floats: t.toArray())) }
        entries.sort { $0.name < $1.name }
        do {
            var metadata = extra
            metadata[Self.configKey] = try canonicalJSON(config)
            metadata["t2v.teacher_config"] = try canonicalJSON(teacher.config)
            metadata["t2v.student_config"] = try canonicalJSON(student.config)
            metadata["t2v.round_teacher_timesteps"] = round.teacherTimesteps.map(String.init).joined(separator: ",")
            metadata["t2v.round_teacher_prediction"] = round.teacherPrediction.rawValue
            metadata["t2v.round_step"] = String(roundStep)
            metadata["t2v.first_round"] = isFirstRound ? "1" : "0"
            metadata["t2v.guidance_stage"] = inGuidanceStage ? "1" : "0"
            metadata["t2v.rng"] = rng.checkpointText
            metadata["t2v.generator_version"] = GeneratorInfo.version
            try SafeTensors.write(entries, metadata: metadata, to: url)
        } catch {
            throw TrainingError.badCheckpoint(path: url.path, message: "writing failed: \(error.localizedDescription)")
        }
    }

    /// Restores a distillation from `saveCheckpoint(to:metadata:)`: it continues bit for bit
    /// where it stopped. Returns the distiller and the file's whole metadata (the caller's extra
    /// keys included).
    ///
    /// - Throws: `TrainingError.badCheckpoint` naming the file and what is wrong.
    public static func resume(from url: URL) throws -> (distiller: Distiller, metadata: [String: String]) {
        func fail(_ m: String) -> TrainingError { .badCheckpoint(path: url.path, message: m) }
        let file: SafeTensors
        do { file = try SafeTensors(contentsOf: url) } catch { throw fail(error.localizedDescription) }
        let meta = file.metadata
        guard let configJSON = meta[configKey], let teacherJSON = meta["t2v.teacher_config"],
              let studentJSON = meta["t2v.student_config"], let gridText = meta["t2v.round_teacher_timesteps"],
              let predictionText = meta["t2v.round_teacher_prediction"], let stepText = meta["t2v.round_step"],
              let roundStep = Int(stepText), let first = meta["t2v.first_round"], let rngText = meta["t2v.rng"] else {
            throw fail("missing distillation metadata; is this a checkpoint written by `t2v-render distill`?")
        }
        let grid = gridText.split(separator: ",").compactMap { Int($0) }
        guard !grid.isEmpty, grid.count == gridText.split(separator: ",").count else { throw fail("unreadable round grid '\(gridText)'") }
        guard let prediction = PredictionType(rawValue: predictionText) else { throw fail("unknown prediction type '\(predictionText)'") }
        guard let rng = Philox(checkpointText: rngText) else { throw fail("unreadable random-stream position '\(rngText)'") }
        do {
            let decoder = JSONDecoder()
            let config = try decoder.decode(DistillationConfig.self, from: Data(configJSON.utf8))
            let teacherConfig = try decoder.decode(DenoiserConfig.self, from: Data(teacherJSON.utf8))
            let studentConfig = try decoder.decode(DenoiserConfig.self, from: Data(studentJSON.utf8))
            // Absent in checkpoints written before the guidance stage existed.
            let stage = meta["t2v.guidance_stage"] == "1"
            if stage, config.guidanceSteps == 0 { throw fail("a guidance-stage checkpoint whose configuration has no guidance stage") }
            let length = stage ? config.guidanceSteps : config.stepsPerRound
            guard roundStep >= 0, roundStep <= length else {
                throw fail("round step \(roundStep) is outside 0...\(length)")
            }
            var init0 = Philox(seed: 0)
            let teacher = try VideoDenoiser(config: teacherConfig, rng: &init0)
            try teacher.load(file.tensors(prefixed: "teacher."), strict: true)
            let student = try VideoDenoiser(config: studentConfig, rng: &init0)
            try student.load(file.tensors(prefixed: "student."), strict: true)
            try validate(config)
            let distiller = Distiller(config: config, teacher: teacher, student: student,
                                      round: ProgressiveDistillation(schedule: teacherConfig.schedule, teacherTimesteps: grid, teacherPrediction: prediction))
            distiller.roundStep = roundStep
            distiller.isFirstRound = first == "1"
            distiller.inGuidanceStage = stage
            try distiller.optimizer.load(state: file.tensors(prefixed: "adam."))
            distiller.rng = rng
            return (distiller, meta)
        } catch let error as TrainingError {
            throw error
        } catch {
            throw fail(error.localizedDescription)
        }
    }
}
