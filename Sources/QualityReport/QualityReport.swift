import AtomicFiles
import FrameIO
import Foundation
import Generator
import Renderer
import Scenes

/// The quality report of a trained model (samples/REPORT.md), as `t2v-scenes report` writes it:
/// measures the model against the held-out corpus and writes the Markdown with contact sheets
/// under `report/` next to it.
///
/// Prompt adherence is judged by a `ClipClassifier` trained here on real held-out clips only
/// (rendered in memory from held-out seeds far from the extracted ones), checked on the
/// extracted held-out dataset; the Frechet distance is measured in that classifier's hidden
/// features; inter-frame SSIM is FFmpeg's `ssim` All on yuv420p; objects and attributes are read
/// from the pixels (`ObjectTracker`, `CloudDrift`). Everything is seeded, so two runs give the
/// same numbers except the timings.
public struct QualityReport {
    public var model: String = "weights/t2v-default.safetensors"

    public var teacher: String?

    public var teacherSteps: Int = 64

    public var students: String?

    public var ablation: String?

    /// A model to compare with side by side (e.g. the previously shipped default), sampled like
    /// the model under test: exact captions and paraphrases, its own steps and guidance.
    public var baseline: String?

    public var heldout: String = "work/default-model/heldout-dataset"

    public var seeds: Int = 3

    public var fidSeeds: Int?

    public var classifierClips: Int = 24

    public var classifierEpochs: Int = 40

    public var guidance: Float?

    /// Guidance rescale φ for every model sampled with guidance above 1 (`ClassifierFreeGuidance.rescale`); nil: plain guidance.
    public var guidanceRescale: Float?

    /// Timesteps where guidance applies for every model sampled with guidance above 1 (`ClassifierFreeGuidance.interval`); nil: every step.
    public var guidanceInterval: ClosedRange<Int>?

    public var clipSample: Float?

    public var out: String = "samples/REPORT.md"

    public var textModel: String?

    public var quick = false

    /// The defaults above; set the fields, then `write()`.
    public init() {}

    /// One model's generated clips and timings.
    struct Run {
        var name: String
        var file: String
        var steps: Int
        /// Guidance scale sampled with, and the one distilled into the model (1: none).
        var guidance: Float
        var distilledGuidance: Float
        var exact: [[Float]] = []
        var exactLabels: [SceneFamily] = []
        var exactSeeds: [Int] = []
        var exactCaptions: [String] = []
        var paraphrase: [[Float]] = []
        var paraphraseCaptions: [String] = []
        var paraphraseLabels: [SceneFamily] = []
        var seconds = 0.0
        var clipsTimed = 0
        var secondsPerClip: Double { seconds / Double(max(clipsTimed, 1)) }
        var stepsPerSecond: Double { Double(steps) / secondsPerClip }
    }

    /// Measures and writes the report; the progress goes to stderr, the summary line to stdout.
    ///
    /// - Throws: `CommandError` naming what failed (a model, the held-out dataset, a file).
    public func write() throws {
        let seeds = quick ? 1 : self.seeds
        let perFamily = quick ? min(classifierClips, 6) : classifierClips
        let epochs = quick ? min(classifierEpochs, 10) : classifierEpochs
        let teacherSteps = quick ? min(self.teacherSteps, 16) : self.teacherSteps
        let fidSeeds = min(quick ? 1 : (self.fidSeeds ?? seeds), seeds)
        let outURL = URL(fileURLWithPath: out)
        let imageDir = outURL.deletingLastPathComponent().appendingPathComponent("report")
        let started = Date()
        let loadBefore = Self.loadAverage()

        // Real clips: the extracted held-out split (classifier check, FID reference, SSIM).
        log("reading held-out dataset \(heldout)")
        let real = try ReportClips.loadDataset(URL(fileURLWithPath: heldout))
        let families = SceneFamily.allCases
        // Fail before the long work when a model file is missing (the ablation may be: reported).
        let studentPaths = (students ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for path in [model] + (teacher.map { [$0] } ?? []) + studentPaths where !FileManager.default.fileExists(atPath: path) {
            throw CommandError("model file \(path) does not exist; train it with scripts/train-default.sh or pass the right path")
        }
        func index(_ f: SceneFamily) -> Int { families.firstIndex(of: f)! }

        // The classifier, trained on held-out scenes rendered in memory.
        log("rendering \(perFamily) held-out clips per family for the classifier")
        let trainSet = try ReportClips.render(perFamily: perFamily, frames: real.frames, size: real.size)
        let config = ClipClassifier.Configuration(classes: families.count, frames: real.frames, resolution: real.size,
                                                  downsample: real.size >= 32 ? 1 : 0)
        let classifier = ClipClassifier(config, seed: 2024)
        log("training the classifier (\(trainSet.clips.count) clips, \(epochs) epochs)")
        let losses = classifier.train(clips: trainSet.clips, labels: trainSet.labels.map(index),
                                      options: .init(epochs: epochs, batch: 32, learningRate: 3e-3, seed: 1)) { epoch, loss in
            if (epoch + 1) % 10 == 0 { log("  epoch \(epoch + 1): loss \(String(format: "%.4f", loss))") }
            return true
        }
        let realPredictions = classifier.predict(real.clips)
        let realAccuracy = Self.accuracy(realPredictions, real.labels.map(index))
        let realFeatures = classifier.features(real.clips)
        let realSSIM = try ReportClips.interFrameSSIM(real.clips, size: real.size)
        log(String(format: "classifier accuracy on the extracted held-out clips: %.1f%%", 100 * realAccuracy))

        // Models.
        let encoder = try ReportClips.textEncoder(textModel)
        func generate(_ name: String, _ path: String, steps: Int?, paraphrases: Bool, seeds: Int) throws -> Run {
            let p = try ReportClips.pipeline(path, encoder: encoder, size: real.size,
                                             sizeHint: "extract the held-out clips at a size that divides the model's")
            var run = Run(name: name, file: path, steps: steps ?? p.defaultSteps,
                          guidance: guidance ?? p.defaultGuidance, distilledGuidance: p.distilledGuidance)
            for family in families {
                let exactCaptions = Scenes.trainingCaptions(family), paraCaptions = Scenes.heldOutParaphrases(family)
                for s in 0..<seeds {
                    let sets: [(String, Bool)] = [(exactCaptions[(s * 7) % exactCaptions.count], false)]
                        + (paraphrases ? [(paraCaptions[(s * 5) % paraCaptions.count], true)] : [])
                    for (caption, isParaphrase) in sets {
                        var settings = VideoPipeline.Settings(prompt: caption, frames: real.frames, steps: run.steps,
                                                              sampler: .ddim, guidance: run.guidance, seed: UInt64(s))
                        settings.clipSample = clipSample
                        settings.guidanceRescale = guidanceRescale
                        settings.guidanceInterval = guidanceInterval
                        let t0 = Date()
                        var clip = try p.generate(settings)
                        run.seconds += Date().timeIntervalSince(t0)
                        if p.resolution != real.size {
                            clip = try ReportClips.downscale(clip, from: p.resolution, to: real.size)
                        }
                        run.clipsTimed += 1
                        if isParaphrase {
                            run.paraphrase.append(clip); run.paraphraseLabels.append(family); run.paraphraseCaptions.append(caption)
                        } else {
                            run.exact.append(clip); run.exactLabels.append(family); run.exactSeeds.append(s); run.exactCaptions.append(caption)
                        }
                    }
                }
                log("  \(name): \(family.id) done")
            }
            return run
        }

        log("generating with the model under test \(model)")
        let main = try generate("model under test", model, steps: nil, paraphrases: true, seeds: seeds)
        var fidRuns: [Run] = []
        if let teacher {
            log("generating with the teacher \(teacher) at \(teacherSteps) steps")
            fidRuns.append(try generate("teacher (undistilled)", teacher, steps: teacherSteps, paraphrases: false, seeds: fidSeeds))
        }
        var baselineRun: Run? = nil
        if let baseline {
            log("generating with the baseline \(baseline)")
            baselineRun = try generate("baseline", baseline, steps: nil, paraphrases: true, seeds: seeds)
        }
        for path in studentPaths {
            if path == model { fidRuns.append(main); continue }
            log("generating with the student \(path)")
            fidRuns.append(try generate("student", path, steps: nil, paraphrases: false, seeds: fidSeeds))
        }
        if !fidRuns.contains(where: { $0.file == main.file }) { fidRuns.append(main) }
        var ablationRun: Run? = nil
        var ablationMissing: String? = nil
        if let ablation {
            if FileManager.default.fileExists(atPath: ablation) {
                log("generating with the ablation \(ablation)")
                ablationRun = try generate("ablation (no temporal stream)", ablation, steps: nil, paraphrases: false, seeds: fidSeeds)
            } else {
                ablationMissing = ablation
            }
        }

        // Measurements.
        let exactPred = classifier.predict(main.exact), paraPred = classifier.predict(main.paraphrase)
        let exactAcc = Self.accuracy(exactPred, main.exactLabels.map(index))
        let paraAcc = Self.accuracy(paraPred, main.paraphraseLabels.map(index))
        let mainSSIM = try ReportClips.interFrameSSIM(main.exact, size: real.size)
        let ablationSSIM = try ablationRun.map { try ReportClips.interFrameSSIM($0.exact, size: real.size) }
        let baselinePredictions = baselineRun.map { (run: $0, exact: classifier.predict($0.exact), paraphrase: classifier.predict($0.paraphrase)) }
        let baselineSSIM = try baselineRun.map { try ReportClips.interFrameSSIM($0.exact, size: real.size) }
        let realGaussian = FrechetDistance.Gaussian(samples: realFeatures)
        var fidErrors: [String: Double] = [:]  // jackknife standard errors by file
        let fids = (fidRuns + (baselineRun.map { [$0] } ?? [])).map { run -> (Run, Double) in
            let picked = run.exact.indices.filter { run.exactSeeds[$0] < fidSeeds }.map { run.exact[$0] }
            let features = classifier.features(picked)
            fidErrors[run.file] = FrechetDistance.jackknifeStandardError(features, against: realGaussian)
            return (run, FrechetDistance.distance(FrechetDistance.Gaussian(samples: features), realGaussian))
        }
        let realSplitFID: Double = {
            // Floor of the estimate: the real clips' two halves (by seed parity) against each other.
            let even = realFeatures.enumerated().filter { $0.offset % 2 == 0 }.map { $0.element }
            let odd = realFeatures.enumerated().filter { $0.offset % 2 == 1 }.map { $0.element }
            return FrechetDistance.distance(even, odd)
        }()
        let loadAfter = Self.loadAverage()

        // Images.
        try FileManager.default.createDirectory(at: imageDir, withIntermediateDirectories: true)
        func firstPerFamily(_ clips: [[Float]], _ labels: [SceneFamily]) -> [[Float]] {
            families.compactMap { f in labels.firstIndex(of: f).map { clips[$0] } }
        }
        var images: [(String, String)] = []
        func writeSheet(_ name: String, _ title: String, _ clips: [[Float]]) throws {
            guard !clips.isEmpty else { return }
            let url = imageDir.appendingPathComponent(name)
            try PNGImage.write(try ReportClips.sheet(clips, size: real.size), to: url.path)  // atomic
            images.append((title, "report/\(name)"))
        }
        try writeSheet("real-heldout.png", "Real held-out clips (one per family, rows in family order)", firstPerFamily(real.clips, real.labels))
        try writeSheet("model-exact.png", "Model under test, exact training captions (seed 0)", firstPerFamily(main.exact, main.exactLabels))
        try writeSheet("model-paraphrase.png", "Model under test, held-out paraphrases (seed 0)", firstPerFamily(main.paraphrase, main.paraphraseLabels))
        for run in fidRuns where run.file != main.file {
            let stem = URL(fileURLWithPath: run.file).deletingPathExtension().lastPathComponent
            try writeSheet("\(stem)-\(run.steps)steps.png", "\(run.name) \(stem) at \(run.steps) steps", firstPerFamily(run.exact, run.exactLabels))
        }
        if let baselineRun { try writeSheet("baseline-exact.png", "Baseline \(baselineRun.file), exact training captions (seed 0)", firstPerFamily(baselineRun.exact, baselineRun.exactLabels)) }
        if let ablationRun { try writeSheet("ablation.png", "Ablation without the temporal stream", firstPerFamily(ablationRun.exact, ablationRun.exactLabels)) }

        // The report.
        var md = "# Quality report\n\n"
        var flags = quick ? " --quick" : ""
        flags += " --model \(model)"
        if let teacher { flags += " --teacher \(teacher)" + (self.teacherSteps != 64 ? " --teacher-steps \(self.teacherSteps)" : "") }
        if let students { flags += " --students \(students)" }
        if let ablation { flags += " --ablation \(ablation)" }
        if let baseline { flags += " --baseline \(baseline)" }
        flags += " --heldout \(heldout) --seeds \(self.seeds)"
        if let requested = self.fidSeeds { flags += " --fid-seeds \(requested)" }
        if let guidance { flags += " --guidance \(guidance)" }
        if let guidanceRescale { flags += " --guidance-rescale \(guidanceRescale)" }
        if let guidanceInterval { flags += " --guidance-interval \(guidanceInterval.lowerBound):\(guidanceInterval.upperBound)" }
        md += "Written by `t2v-scenes report\(flags)`"
        md += " on \(ISO8601DateFormatter().string(from: started)) in \(String(format: "%.0f", Date().timeIntervalSince(started))) s.\n"
        md += "Model under test: `\(model)` (\(main.steps) DDIM steps, \(Self.guidanceText(main))"
            + (guidanceRescale.map { ", guidance rescale \($0)" } ?? "")
            + (guidanceInterval.map { ", guidance at timesteps \($0.lowerBound)-\($0.upperBound) only" } ?? "")
            + (clipSample.map { ", predicted clean sample clamped to [-\($0), \($0)]" } ?? "") + ").\n\n"
        // Per-run figures shared by the targets and the side-by-side table.
        func judged(_ run: Run, paraphrases: Bool) -> (ok: Int, judged: Int) {
            let cells = paraphrases
                ? attributeCounts(run.paraphrase, run.paraphraseLabels, run.paraphraseCaptions, frames: real.frames, size: real.size)
                : attributeCounts(run.exact, run.exactLabels, run.exactCaptions, frames: real.frames, size: real.size)
            return (cells.map(\.0).reduce(0, +), cells.map(\.1).reduce(0, +))
        }
        func objects(_ run: Run, _ family: SceneFamily) -> ObjectJudgement {
            let idx = run.exactLabels.indices.filter { run.exactLabels[$0] == family }
            return ObjectJudgement(family: family, clips: idx.map { run.exact[$0] }, captions: idx.map { run.exactCaptions[$0] },
                                   frames: real.frames, size: real.size)
        }
        let realSteps = Dictionary(uniqueKeysWithValues: ObjectTracker.families.map { family -> (SceneFamily, Double?) in
            let idx = real.labels.indices.filter { real.labels[$0] == family }
            return (family, ObjectJudgement(family: family, clips: idx.map { real.clips[$0] }, captions: idx.map { real.captions[$0] },
                                            frames: real.frames, size: real.size).medianStep)
        })
        func ratio(_ x: (ok: Int, judged: Int)) -> String { x.judged == 0 ? "-" : "\(x.ok)/\(x.judged) (\(Self.pct(Double(x.ok) / Double(x.judged))))" }
        func share(_ x: (ok: Int, judged: Int)) -> Double { x.judged == 0 ? 0 : Double(x.ok) / Double(x.judged) }

        md += "## Targets\n\n"
        md += "For the model under test. Object and motion targets use the exact training captions' clips of the ball and the car (one per seed); attribute targets the ball's colour, the car's and the clouds' direction.\n\n"
        md += "| Target | Measured | Met |\n|---|---|---|\n"
        func row(_ target: String, _ measured: String, _ met: Bool?) {
            md += "| \(target) | \(measured) | \(met.map { $0 ? "yes" : "**no**" } ?? "**not measured**") |\n"
        }
        row("Prompt adherence, exact training captions >= 92%", Self.pct(exactAcc), exactAcc >= 0.92)
        row("Prompt adherence, held-out paraphrases >= 80%", Self.pct(paraAcc), paraAcc >= 0.80)
        let familyShares = families.map { family -> (String, Double) in
            let idx = main.exactLabels.indices.filter { main.exactLabels[$0] == family }
            return (family.id, Double(idx.filter { exactPred[$0] == index(family) }.count) / Double(max(idx.count, 1)))
        }
        let weakest = familyShares.min { $0.1 < $1.1 }
        row("No family below 75% (6 of 8) for exact captions", weakest.map { "lowest: \($0.0) \(Self.pct($0.1))" } ?? "-", (weakest?.1 ?? 0) >= 0.75)
        let attrExact = judged(main, paraphrases: false), attrPara = judged(main, paraphrases: true)
        row("Attribute accuracy, exact captions >= 90%", ratio(attrExact), attrExact.judged > 0 ? share(attrExact) >= 0.9 : nil)
        row("Attribute accuracy, paraphrases >= 90%", ratio(attrPara), attrPara.judged > 0 ? share(attrPara) >= 0.9 : nil)
        if let teacherFID = fids.first(where: { $0.0.name.hasPrefix("teacher") })?.1 {
            for (run, fid) in fids where !run.name.hasPrefix("teacher") && run.name != "baseline" {
                row("FD of the \(run.steps)-step \(run.name) <= 1.2x the \(teacherSteps)-step teacher's", String(format: "%.1f vs %.1f (%.2fx)", fid, teacherFID, fid / teacherFID), fid <= 1.2 * teacherFID)
            }
        } else {
            row("FD of the student <= 1.2x the teacher's", "no --teacher", nil)
        }
        row("Inter-frame SSIM within 0.02 of real", String(format: "%.4f vs %.4f (diff %.4f)", mainSSIM, realSSIM, abs(mainSSIM - realSSIM)), abs(mainSSIM - realSSIM) <= 0.02)
        if let ablationSSIM {
            row("Further from real SSIM without the temporal stream", String(format: "full %.4f, ablation %.4f", mainSSIM, ablationSSIM), abs(mainSSIM - realSSIM) < abs(ablationSSIM - realSSIM))
        } else {
            row("Further from real SSIM without the temporal stream", "ablation \(ablationMissing.map { "file \($0) is missing" } ?? "not given (--ablation)")", nil)
        }
        let ball = objects(main, .ball), car = objects(main, .car)
        /// Whether k of n reach `eighths` in 8 (nil when nothing was judged).
        func inEight(_ k: Int, _ n: Int, _ eighths: Int) -> Bool? { n > 0 ? k * 8 >= n * eighths : nil }
        row("Ball drawn in >= 7 of 8 clips", "\(ball.drawn)/\(ball.count)", inEight(ball.drawn, ball.count, 7))
        row("Ball in the named colour in >= 6 of 8", "\(ball.colorMatches.matching)/\(ball.colorMatches.judged)", inEight(ball.colorMatches.matching, ball.colorMatches.judged, 6))
        for (name, j) in [("Ball", ball), ("Car", car)] {
            let smooth = realSteps[j.family].flatMap { $0 }.map { j.smooth(reference: $0) }
            row("\(name) held in >= 14 of 16 frames with a step within 2x of real, in >= 6 of 8", smooth.map { "\($0)/\(j.count)" } ?? "-", smooth.flatMap { inEight($0, j.count, 6) })
        }
        row("Car moves the named way in >= 7 of 8", "\(car.directionMatches.matching)/\(car.directionMatches.judged)", inEight(car.directionMatches.matching, car.directionMatches.judged, 7))

        if let b = baselinePredictions, let baselineSSIM {
            let bExact = Self.accuracy(b.exact, b.run.exactLabels.map(index)), bPara = Self.accuracy(b.paraphrase, b.run.paraphraseLabels.map(index))
            let bAttrExact = judged(b.run, paraphrases: false), bAttrPara = judged(b.run, paraphrases: true)
            let fid = fids.first { $0.0.file == main.file }?.1, bFID = fids.first { $0.0.name == "baseline" }?.1
            let bBall = objects(b.run, .ball), bCar = objects(b.run, .car)
            md += "\n## Beside the baseline\n\n"
            md += "The model under test and the baseline `\(b.run.file)`, each sampled with its own steps and guidance, the same captions and seeds, judged by the same classifier and trackers. *Better* says which is ahead, or *level* when they are equal.\n\n"
            md += "| Measure | Model under test | Baseline | Better |\n|---|---|---|---|\n"
            func compare(_ measure: String, _ a: String, _ b: String, _ x: Double, _ y: Double, higherIsBetter: Bool) {
                let verdict = x == y ? "level" : ((x > y) == higherIsBetter ? "model under test" : "baseline")
                md += "| \(measure) | \(a) | \(b) | \(verdict) |\n"
            }
            compare("Adherence, exact captions", Self.pct(exactAcc), Self.pct(bExact), exactAcc, bExact, higherIsBetter: true)
            compare("Adherence, paraphrases", Self.pct(paraAcc), Self.pct(bPara), paraAcc, bPara, higherIsBetter: true)
            compare("Attribute accuracy, exact captions", ratio(attrExact), ratio(bAttrExact), share(attrExact), share(bAttrExact), higherIsBetter: true)
            compare("Attribute accuracy, paraphrases", ratio(attrPara), ratio(bAttrPara), share(attrPara), share(bAttrPara), higherIsBetter: true)
            if let fid, let bFID {
                compare("Frechet distance (± jackknife SE)", String(format: "%.1f ± %.1f", fid, fidErrors[main.file] ?? .nan),
                        String(format: "%.1f ± %.1f", bFID, fidErrors[b.run.file] ?? .nan), fid, bFID, higherIsBetter: false)
            }
            compare("Inter-frame SSIM, distance from real", String(format: "%.4f", abs(mainSSIM - realSSIM)), String(format: "%.4f", abs(baselineSSIM - realSSIM)),
                    abs(mainSSIM - realSSIM), abs(baselineSSIM - realSSIM), higherIsBetter: false)
            compare("Ball drawn", "\(ball.drawn)/\(ball.count)", "\(bBall.drawn)/\(bBall.count)", Double(ball.drawn), Double(bBall.drawn), higherIsBetter: true)
            compare("Ball held", "\(ball.held)/\(ball.count)", "\(bBall.held)/\(bBall.count)", Double(ball.held), Double(bBall.held), higherIsBetter: true)
            compare("Car headlight held", "\(car.held)/\(car.count)", "\(bCar.held)/\(bCar.count)", Double(car.held), Double(bCar.held), higherIsBetter: true)
            compare("Car moves the named way", "\(car.directionMatches.matching)/\(car.directionMatches.judged)", "\(bCar.directionMatches.matching)/\(bCar.directionMatches.judged)",
                    Double(car.directionMatches.matching), Double(bCar.directionMatches.matching), higherIsBetter: true)
        }
        md += "\n## The classifier (judge)\n\n"
        md += "A `ClipClassifier` (Generator/Evaluation): 2x2 average pooling, per frame pair the frame and its temporal difference (6 channels) through two 3x3 stride-2 convolutions with ReLU, averaged over time, then a \(config.hidden)-unit ReLU layer (the feature space of the Frechet distance) and 14 logits. "
        md += "Trained with AdamW (lr 3e-3, weight decay 1e-2, batch 32, \(epochs) epochs, seed 2024/1) on \(trainSet.clips.count) real held-out clips (\(perFamily) per family, held-out seeds from index \(ReportClips.classifierSeedBase), rendered at \(2 * real.size)x\(2 * real.size) and Lanczos-downscaled in memory); final training loss \(String(format: "%.4f", losses.last ?? .nan)). "
        md += "No generated clip and no training-split clip is used to train it.\n\n"
        md += "Its accuracy on a separate real slice, the extracted held-out dataset `\(heldout)` (\(real.clips.count) clips, H.264-encoded and extracted like the training data): **\(Self.pct(realAccuracy))**.\n\n"
        md += "## Prompt adherence per family\n\n"
        md += "Generated by the model under test for \(seeds) seed(s) per family (noise seeds 0..<\(seeds)), one exact training caption (from `Scenes.trainingCaptions`) and one held-out paraphrase (`Scenes.heldOutParaphrases`, never used in training) per seed; a clip counts as correct when the classifier's top class is its family.\n\n"
        let baselineHeader = baselineRun == nil ? "" : " Baseline exact | Baseline paraphrase |"
        md += "| Family | Exact | Paraphrase |\(baselineHeader) Classifier on real | Misses labelled as (exact; paraphrase) |\n"
        md += "|---|---|---|" + (baselineRun == nil ? "" : "---|---|") + "---|---|\n"
        for family in families {
            let i = index(family)
            func fam(_ pred: [Int], _ labels: [SceneFamily]) -> String {
                let idx = labels.indices.filter { labels[$0] == family }
                return "\(idx.filter { pred[$0] == i }.count)/\(idx.count)"
            }
            func misses(_ pred: [Int], _ labels: [SceneFamily]) -> String {
                Self.missSummary(labels.indices.filter { labels[$0] == family && pred[$0] != i }.map { families[pred[$0]].id })
            }
            let baselineCells = baselinePredictions.map { b in
                " \(fam(b.exact, b.run.exactLabels)) | \(fam(b.paraphrase, b.run.paraphraseLabels)) |"
            } ?? ""
            md += "| \(family.id) | \(fam(exactPred, main.exactLabels)) | \(fam(paraPred, main.paraphraseLabels)) |\(baselineCells) \(fam(realPredictions, real.labels)) | \(misses(exactPred, main.exactLabels)); \(misses(paraPred, main.paraphraseLabels)) |\n"
        }
        let baselineTotals = baselinePredictions.map { b in
            " **\(Self.pct(Self.accuracy(b.exact, b.run.exactLabels.map(index))))** | **\(Self.pct(Self.accuracy(b.paraphrase, b.run.paraphraseLabels.map(index))))** |"
        } ?? ""
        md += "| **all** | **\(Self.pct(exactAcc))** | **\(Self.pct(paraAcc))** |\(baselineTotals) **\(Self.pct(realAccuracy))** | |\n\n"
        md += "## Frechet distance (classifier features)\n\n"
        md += "Frechet distance between Gaussians fitted to the classifier's \(config.hidden)-d hidden features of generated clips (exact captions, \(families.count * fidSeeds) clips: noise seeds 0..<\(fidSeeds) per family, the same for every model) and of the \(real.clips.count) real held-out clips. With this few clips the estimate is biased upwards; as a floor, the real clips' two halves score \(String(format: "%.2f", realSplitFID)) against each other. All sampling is DDIM (eta 0, trailing grid). The ± is the jackknife standard error (the distance recomputed with each generated clip left out in turn, the real clips fixed): how much the distance moves with the clips drawn; two models whose distances differ by less than about twice the larger error are level.\n\n"
        md += "| Model | File | Steps | Guidance | Frechet distance |\n|---|---|---|---|---|\n"
        for (run, fid) in fids {
            md += "| \(run.name) | `\(run.file)` | \(run.steps) | \(Self.guidanceText(run)) | \(String(format: "%.3f ± %.1f", fid, fidErrors[run.file] ?? .nan)) |\n"
        }
        md += "\n## Inter-frame SSIM\n\n"
        md += "Mean over clips of the mean SSIM between consecutive frames, FFmpeg's `ssim` filter `All` (Y, U, V weighted by pixel count) on yuv420p BT.601 limited range (FrameIO `TemporalConsistency`, definition `ssim`), at \(real.size)x\(real.size).\n\n"
        md += "| Clips | Inter-frame SSIM |\n|---|---|\n| real held-out (\(real.clips.count)) | \(String(format: "%.4f", realSSIM)) |\n| model under test (\(main.exact.count)) | \(String(format: "%.4f", mainSSIM)) |\n"
        if let baselineSSIM, let baselineRun { md += "| baseline `\(baselineRun.file)` (\(baselineRun.exact.count)) | \(String(format: "%.4f", baselineSSIM)) |\n" }
        md += "| ablation without the temporal stream | \(ablationSSIM.map { String(format: "%.4f", $0) } ?? (ablationMissing.map { "missing: \($0) does not exist" } ?? "not given")) |\n"
        md += objectSection(real: real, main: main, others: fidRuns.filter { $0.file != main.file } + (baselineRun.map { [$0] } ?? [])
                            + (ablationRun.map { [$0] } ?? []))
        md += "\n## Sampling speed\n\n"
        md += "Wall clock of `VideoPipeline.generate` (text encoding included), one clip at a time, \(real.frames) frames at \(real.size)x\(real.size), one denoiser call per step = one iteration (with guidance above 1, the conditional and unconditional branches batched in that call). "
        md += "Machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, load average \(loadBefore) at the start and \(loadAfter) at the end (a shared 2-core machine: a load above 0 at the start means other jobs ran beside it).\n\n"
        md += "| Model | Steps | Guidance | Seconds per clip | Denoiser it/s |\n|---|---|---|---|---|\n"
        var timed = fidRuns
        if let baselineRun { timed.append(baselineRun) }
        if let ablationRun { timed.append(ablationRun) }
        for run in timed { md += "| \(run.name) `\(run.file)` | \(run.steps) | \(Self.guidanceText(run)) | \(String(format: "%.3f", run.secondsPerClip)) | \(String(format: "%.1f", run.stepsPerSecond)) |\n" }
        md += "\n## Contact sheets\n\nOne row per family in the order \(families.map(\.id).joined(separator: ", ")); 8 of the \(real.frames) frames across, upscaled nearest-neighbour.\n\n"
        for (title, path) in images { md += "### \(title)\n\n![\(title)](\(path))\n\n" }

        try AtomicFile.write(Data(md.utf8), to: outURL.path)
        log("wrote \(outURL.path)")
        print(String(format: "exact %.1f%%, paraphrase %.1f%%, classifier on real %.1f%%, SSIM real %.4f model %.4f",
                     100 * exactAcc, 100 * paraAcc, 100 * realAccuracy, realSSIM, mainSSIM) + " -> \(outURL.path)")
    }

    /// The objects-and-motion section: for each family with a tracked object (`ObjectTracker`),
    /// whether real and generated clips draw it, hold it through the clip, move it by steps like
    /// the real clips', in the colour and direction their captions name.
    func objectSection(real: (clips: [[Float]], labels: [SceneFamily], captions: [String], frames: Int, size: Int),
                       main: Run, others: [Run]) -> String {
        var md = "\n## Objects and motion\n\n"
        md += "`ObjectTracker` (Scenes/Evaluation) finds the family's object in every frame from the pixels: the ball as the largest compact blob of saturated colour of a disc's size, coloured by its mean hue; the car by its white headlight on the road. "
        md += "Per clip: *drawn* when found in at least half the \(real.frames) frames, *held* when found in at least 14 of 16; *step* is the median distance its centroid moves between consecutive frames (fraction of the frame), *smooth* counts held clips whose step is within 2x of the real clips' median; *colour* and *direction* count clips whose object has the colour (majority over frames) and direction of travel (least-squares slope of x) that their caption names, over the clips whose caption names one. "
        md += "Model rows use the exact training captions (seed 0 up), as in the adherence table.\n\n"
        md += "| Family | Clips | n | Drawn | Held | Frames found | Step (median) | Smooth | Colour | Direction |\n|---|---|---|---|---|---|---|---|---|---|\n"
        for family in ObjectTracker.families {
            func pick(_ clips: [[Float]], _ labels: [SceneFamily], _ captions: [String]) -> ObjectJudgement {
                let idx = labels.indices.filter { labels[$0] == family }
                return ObjectJudgement(family: family, clips: idx.map { clips[$0] }, captions: idx.map { captions[$0] },
                                       frames: real.frames, size: real.size)
            }
            let realJudgement = pick(real.clips, real.labels, real.captions)
            let reference = realJudgement.medianStep
            var rows: [(String, ObjectJudgement)] = [("real held-out", realJudgement),
                                                     ("model under test", pick(main.exact, main.exactLabels, main.exactCaptions))]
            if !main.paraphrase.isEmpty { rows.append(("model under test, paraphrases", pick(main.paraphrase, main.paraphraseLabels, main.paraphraseCaptions))) }
            for run in others { rows.append(("\(run.name) (\(run.steps) steps)", pick(run.exact, run.exactLabels, run.exactCaptions))) }
            for (name, j) in rows {
                let n = j.count
                func frac(_ x: (matching: Int, judged: Int)) -> String { x.judged == 0 ? "-" : "\(x.matching)/\(x.judged)" }
                md += "| \(family.id) | \(name) | \(n) | \(j.drawn)/\(n) | \(j.held)/\(n) | \(Self.pct(j.framePresence)) | "
                md += "\(j.medianStep.map { String(format: "%.3f", $0) } ?? "-") | \(reference.map { "\(j.smooth(reference: $0))/\(n)" } ?? "-") | "
                md += "\(frac(j.colorMatches)) | \(frac(j.directionMatches)) |\n"
            }
        }
        md += attributeSection(real: real, main: main, others: others)
        return md
    }

    /// Attribute accuracy: the share of clips whose ball colour, car direction or cloud drift
    /// (read from the pixels by `ObjectTracker` and `CloudDrift`) is what their caption names.
    func attributeSection(real: (clips: [[Float]], labels: [SceneFamily], captions: [String], frames: Int, size: Int),
                          main: Run, others: [Run]) -> String {
        func judge(_ clips: [[Float]], _ labels: [SceneFamily], _ captions: [String]) -> [(Int, Int)] {
            attributeCounts(clips, labels, captions, frames: real.frames, size: real.size)
        }
        var rows: [(String, [(Int, Int)])] = [("real held-out", judge(real.clips, real.labels, real.captions)),
                                              ("model under test", judge(main.exact, main.exactLabels, main.exactCaptions))]
        if !main.paraphrase.isEmpty { rows.append(("model under test, paraphrases", judge(main.paraphrase, main.paraphraseLabels, main.paraphraseCaptions))) }
        for run in others {
            rows.append(("\(run.name) (\(run.steps) steps)", judge(run.exact, run.exactLabels, run.exactCaptions)))
            if !run.paraphrase.isEmpty {
                rows.append(("\(run.name) (\(run.steps) steps), paraphrases", judge(run.paraphrase, run.paraphraseLabels, run.paraphraseCaptions)))
            }
        }
        var md = "\n### Attributes named in the prompt\n\n"
        md += "The share of clips whose attribute, read from the pixels, is the one their caption names: the ball's colour (the tracked ball's majority hue; a clip without a ball counts as wrong), the car's direction of travel (its headlight's track) and the clouds' drift (`CloudDrift`: the horizontal shift that best maps the sky onto itself 8 frames later).\n\n"
        md += "| Clips | Ball colour | Car direction | Cloud direction | All |\n|---|---|---|---|---|\n"
        for (name, cells) in rows {
            let ok = cells.map(\.0).reduce(0, +), judged = cells.map(\.1).reduce(0, +)
            func cell(_ c: (Int, Int)) -> String { c.1 == 0 ? "-" : "\(c.0)/\(c.1)" }
            md += "| \(name) | \(cells.map(cell).joined(separator: " | ")) | \(judged == 0 ? "-" : "\(ok)/\(judged) (\(Self.pct(Double(ok) / Double(judged))))") |\n"
        }
        return md
    }

    /// Per attribute (ball colour, car direction, cloud drift): (clips whose attribute read from
    /// the pixels is the one their caption names, clips whose caption names one).
    func attributeCounts(_ clips: [[Float]], _ labels: [SceneFamily], _ captions: [String], frames: Int, size: Int) -> [(Int, Int)] {
        AttributeProbe.families.map { family in
            var ok = 0, judged = 0
            for i in labels.indices where labels[i] == family {
                guard let want = AttributeProbe.named(Scenes.namedAttributes(captions[i], family: family), family) else { continue }
                judged += 1
                if AttributeProbe.read(clips[i], family: family, frames: frames, size: size) == want { ok += 1 }
            }
            return (ok, judged)
        }
    }

    private func log(_ message: String) {
        FileHandle.standardError.write(Data(("report: " + message + "\n").utf8))
    }

    /// The classes a family's misclassified clips were given, most frequent first: "stars x2, snow";
    /// "-" when there are none.
    static func missSummary(_ predicted: [String]) -> String {
        guard !predicted.isEmpty else { return "-" }
        var counts: [String: Int] = [:]
        for p in predicted { counts[p, default: 0] += 1 }
        return counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
            .map { $0.value > 1 ? "\($0.key) x\($0.value)" : $0.key }.joined(separator: ", ")
    }

    static func accuracy(_ predicted: [Int], _ truth: [Int]) -> Double {
        Double(zip(predicted, truth).filter { $0 == $1 }.count) / Double(max(truth.count, 1))
    }

    /// "guidance 3.0", or for a guided-distillation student "guidance 1.0 on 3.0 distilled".
    static func guidanceText(_ run: Run) -> String {
        run.distilledGuidance == 1 ? "guidance \(run.guidance)" : "guidance \(run.guidance) on \(run.distilledGuidance) distilled"
    }

    static func pct(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }

    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "unknown"
    }
}
