import AtomicFiles
import ArgumentParser
import Foundation
import Renderer
import FrameIO

/// `t2v-render eval`: full-reference quality of a clip against its reference (FFmpeg-exact SSIM
/// and PSNR, Wang et al. Gaussian SSIM), or, with no reference, the clip's inter-frame SSIM.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure SSIM/PSNR against a reference, or a clip's inter-frame SSIM.",
        discussion: """
            With --reference: per-frame and mean SSIM as FFmpeg's ssim filter computes it ("SSIM \
            (ffmpeg)": 8x8 box windows at stride 4, Y/U/V/All on yuv420p), Wang et al. 2004 SSIM \
            ("SSIM (gaussian)": 11x11 Gaussian window, sigma 1.5, on the Y plane, scikit-image's \
            settings) and PSNR as FFmpeg's psnr filter computes it (clip PSNR = PSNR of the mean MSE). \
            Frames are paired in decode order; if the clips differ in length the common prefix is \
            compared (--strict makes that an error).
            Without --reference: inter-frame SSIM (temporal consistency), the SSIM between each \
            frame and the next, with the same definitions.
            Plot colours: blue = SSIM (ffmpeg) All, orange = SSIM (gaussian) Y.
            """
    )

    /// Which figures to compute.
    enum Metric: String, ExpressibleByArgument, CaseIterable {
        case ssim, gssim, psnr
    }

    @Argument(help: "The clip to measure (the distorted one when --reference is given).")
    var input: String

    @Option(name: .shortAndLong, help: "The reference (original) clip.")
    var reference: String?

    @Option(name: .long, help: "Metrics to compute; repeat the flag for several (default: all). Values: ssim, gssim, psnr.")
    var metric: [Metric] = []

    @Flag(name: .long, help: "Print JSON to stdout instead of text.")
    var json = false

    @Option(name: .long, help: "Write per-frame figures to this CSV file.")
    var csv: String?

    @Option(name: .long, help: "Draw the per-frame SSIM curves into this PNG file.")
    var plot: String?

    @Flag(name: .long, help: "Resize the input to the reference's size (bicubic) instead of failing on a size mismatch.")
    var scale = false

    @Flag(name: .long, help: "Fail (exit 1) when the clips have different frame counts.")
    var strict = false

    @Flag(name: .long, help: "Print only the summary, not one line per frame (text output).")
    var summaryOnly = false

    @Flag(name: .shortAndLong, help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        if reference == nil {
            if scale { throw ValidationError("--scale needs --reference") }
            if strict { throw ValidationError("--strict needs --reference") }
            if metric == [.psnr] { throw ValidationError("inter-frame mode (no --reference) measures ssim or gssim, not psnr") }
        }
        if let plot, !plot.lowercased().hasSuffix(".png") {
            throw ValidationError("--plot writes a PNG: give a path ending in .png (got \(plot))")
        }
    }

    var metrics: [Metric] { metric.isEmpty ? Metric.allCases : Array(Set(metric)).sorted { $0.rawValue > $1.rawValue } }

    func run() throws {
        if let reference {
            try compare(reference: reference)
        } else {
            try temporal()
        }
    }

    // MARK: - Opening inputs

    /// Opens a clip, turning library errors into messages that name the file and the fix.
    private func open(_ path: String, options: VideoReader.Options = .init()) throws -> VideoPlanesSource {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CommandError("\(path): no such file. Check the path.")
        }
        do {
            return try VideoPlanesSource(path: path, options: options)
        } catch let error as FrameIOError {
            throw CommandError("\(error) Give a video file FFmpeg can decode.")
        } catch {
            throw CommandError("\(path): cannot open as a video (\(error)).")
        }
    }

    // MARK: - Full-reference comparison

    private func compare(reference referencePath: String) throws {
        let reference = try open(referencePath, options: QualityEvaluator.readerOptions)
        let refInfo = reference.reader.info
        let decoded = try open(input, options: QualityEvaluator.readerOptions)
        var distorted: PlanarFrameSource = decoded
        let info = decoded.reader.info
        if info.width != refInfo.width || info.height != refInfo.height {
            guard scale else {
                throw CommandError("""
                    \(input) is \(info.width)x\(info.height) but \(referencePath) is \(refInfo.width)x\(refInfo.height): \
                    the clips must have the same size. Add --scale to resize \(input) to the reference's size.
                    """)
            }
            // Like `ffmpeg -i A -i B -lavfi "[0:v]scale=W:H[a];[a][1:v]ssim"`: bicubic, planes only.
            distorted = try ScaledPlanesSource(decoded, width: refInfo.width, height: refInfo.height)
        }
        var options = QualityEvaluator.Options()
        options.metrics = metrics.map {
            switch $0 {
            case .ssim: return .ssim
            case .gssim: return .gaussianSSIM
            case .psnr: return .psnr
            }
        }
        // Per-frame scores only when something prints or writes them: a summary of an
        // arbitrarily long clip then runs in constant memory.
        options.keepFrames = !(summaryOnly && csv == nil && plot == nil && !json)
        // A progress bar when the container states a frame count (stderr only).
        let bar = refInfo.frameCount.map { ProgressBar(total: $0, label: "eval", unit: "frames", quiet: quiet) }
        let report: QualityReport
        do {
            report = try QualityEvaluator(options: options).compare(distorted: distorted, reference: reference) {
                bar?.update($0.framesRead)
                return true
            }
        } catch let error as FrameIOError {
            throw CommandError("\(error)")
        }
        guard report.comparedFrames > 0 else {
            let empty = report.distortedFrameCount == 0 ? input : referencePath
            throw CommandError("\(empty): no video frames could be decoded; nothing to compare.")
        }
        if report.lengthsDiffer {
            let message = "\(input) has \(report.distortedFrameCount) frames, \(referencePath) has \(report.referenceFrameCount)"
            if strict { throw CommandError("\(message) (--strict). Trim the clips to the same length or drop --strict.") }
            FileHandle.standardError.write(Data("note: \(message): compared the first \(report.comparedFrames).\n".utf8))
        }
        if let csv { try writeAtomically(csvText(report), to: csv) }
        if let plot {
            var series = [MetricsPlot.Series]()
            if report.metrics.contains(.ssim) { series.append(.init(values: report.frames.map { $0.ssim!.all }, color: Self.blue)) }
            if report.metrics.contains(.gaussianSSIM) { series.append(.init(values: report.frames.map { $0.gaussianSSIM! }, color: Self.orange)) }
            if series.isEmpty { throw CommandError("--plot draws SSIM curves: add --metric ssim or --metric gssim.") }
            try writePlot(series, to: plot)
        }
        if json {
            try printJSON(EvalJSON(report))
        } else {
            printText(report)
        }
    }

    // MARK: - Inter-frame SSIM

    private func temporal() throws {
        let source = try open(input)
        let definitions: [TemporalConsistency.Definition] = metrics.compactMap {
            switch $0 {
            case .ssim: return .ssim
            case .gssim: return .gssim
            case .psnr: return nil
            }
        }
        let reports: [TemporalConsistency.Report]
        do {
            reports = try TemporalConsistency.evaluate(source, definitions: definitions)
        } catch let error as FrameIOError {
            throw CommandError("\(error)")
        }
        guard let first = reports.first, first.frames > 0 else {
            throw CommandError("\(input): no video frames could be decoded; nothing to measure.")
        }
        if first.frames < 2 {
            throw CommandError("\(input): has a single frame; inter-frame SSIM needs at least 2.")
        }
        if let csv {
            var text = "pair," + reports.map { $0.definition == .ssim ? "ssim_ffmpeg_all" : "ssim_gaussian_y" }.joined(separator: ",") + "\n"
            for i in 0..<first.pairs.count {
                text += "\(i)," + reports.map { Self.format($0.pairs[i]) }.joined(separator: ",") + "\n"
            }
            try writeAtomically(text, to: csv)
        }
        if let plot {
            try writePlot(reports.map { .init(values: $0.pairs, color: $0.definition == .ssim ? Self.blue : Self.orange) }, to: plot)
        }
        if json {
            try printJSON(TemporalJSON(input: input, frames: first.frames, reports: reports))
            return
        }
        print("input: \(input) (\(first.frames) frames)")
        for r in reports {
            print("inter-frame \(Self.label(r.definition)): mean \(Self.format(r.mean)) min \(Self.format(r.minimum)) over \(r.pairs.count) pairs")
        }
        if !summaryOnly {
            for i in 0..<first.pairs.count {
                print("pair \(i)-\(i + 1): " + reports.map { "\($0.definition.rawValue):\(Self.format($0.pairs[i]))" }.joined(separator: " "))
            }
        }
    }

    // MARK: - Output

    static let blue: (UInt8, UInt8, UInt8) = (31, 119, 180)
    static let orange: (UInt8, UInt8, UInt8) = (255, 127, 14)

    static func label(_ d: TemporalConsistency.Definition) -> String {
        d == .ssim ? "SSIM (ffmpeg, All)" : "SSIM (gaussian, Y)"
    }

    /// Six decimals like FFmpeg's stats; `inf` for infinities.
    static func format(_ v: Double) -> String {
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        if v.isNaN { return "nan" }
        return String(format: "%.6f", v)
    }

    private func printText(_ r: QualityReport) {
        print("distorted: \(r.distorted) (\(r.distortedFrameCount) frames)")
        print("reference: \(r.reference) (\(r.referenceFrameCount) frames)")
        print("compared: \(r.comparedFrames) frames")
        if let s = r.ssim {
            print("SSIM (ffmpeg): Y:\(Self.format(s.planes[0])) U:\(Self.format(s.planes[1])) V:\(Self.format(s.planes[2])) All:\(Self.format(s.all)) (\(Self.format(s.dB)) dB)")
        }
        if let g = r.gaussianSSIM {
            print("SSIM (gaussian, Y): \(Self.format(g))")
        }
        if let p = r.psnr?.result {
            print("PSNR (ffmpeg): y:\(Self.format(p.psnr[0])) u:\(Self.format(p.psnr[1])) v:\(Self.format(p.psnr[2])) average:\(Self.format(p.psnrAverage)) min:\(Self.format(p.psnrMin)) max:\(Self.format(p.psnrMax)) dB")
        }
        guard !summaryOnly else { return }
        for f in r.frames {
            var line = "n:\(f.index + 1)"
            if let s = f.ssim {
                line += " ssim Y:\(Self.format(s.planes[0])) U:\(Self.format(s.planes[1])) V:\(Self.format(s.planes[2])) All:\(Self.format(s.all)) (\(Self.format(s.dB)))"
            }
            if let g = f.gaussianSSIM { line += " gssim:\(Self.format(g))" }
            if let p = f.psnr { line += " psnr_avg:\(Self.format(p.psnrAverage)) psnr_y:\(Self.format(p.psnr[0]))" }
            print(line)
        }
    }

    private func csvText(_ r: QualityReport) -> String {
        var header = ["frame", "time"]
        if r.ssim != nil { header += ["ssim_y", "ssim_u", "ssim_v", "ssim_all", "ssim_db"] }
        if r.gaussianSSIM != nil { header += ["gssim_y"] }
        if r.psnr != nil { header += ["mse_y", "mse_u", "mse_v", "mse_avg", "psnr_y", "psnr_u", "psnr_v", "psnr_avg"] }
        var text = header.joined(separator: ",") + "\n"
        for f in r.frames {
            var row = ["\(f.index)", f.time.map { String(format: "%.6f", $0) } ?? ""]
            if let s = f.ssim { row += (s.planes + [s.all, s.dB]).map(Self.format) }
            if let g = f.gaussianSSIM { row.append(Self.format(g)) }
            if let p = f.psnr { row += (p.mse + [p.mseAverage] + p.psnr + [p.psnrAverage]).map(Self.format) }
            text += row.joined(separator: ",") + "\n"
        }
        return text
    }

    private func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    private func writePlot(_ series: [MetricsPlot.Series], to path: String) throws {
        let frame = try MetricsPlot.render(series, width: 800, height: 400)
        do {
            try PNGImage.write(frame, to: path)   // temporary file + rename
        } catch {
            throw CommandError("cannot write the plot: \(error)")
        }
    }

    private func writeAtomically(_ text: String, to path: String) throws {
        do { try AtomicFile.write(Data(text.utf8), to: path) } catch {
            throw CommandError("\(path): cannot write (\(CommandError.text(error))). Check the directory exists and is writable.")
        }
    }
}

/// The JSON shape of `eval --reference ... --json`.
struct EvalJSON: Encodable {
    struct SSIM: Encodable {
        var definition = "ffmpeg ssim filter: 8x8 box windows at stride 4, x264 constants; All weights planes by pixel count"
        var Y: Double, U: Double, V: Double, All: Double, dB: Double
    }
    struct Gaussian: Encodable {
        var definition = "Wang et al. 2004: 11x11 Gaussian sigma 1.5, K1 0.01, K2 0.03, population covariance, Y plane (scikit-image settings)"
        var mean: Double
    }
    struct PSNR: Encodable {
        var definition = "ffmpeg psnr filter: clip PSNR is the PSNR of the mean MSE"
        var y: Double, u: Double, v: Double, average: Double, min: Double, max: Double
    }
    struct Frame: Encodable {
        var n: Int
        var time: Double?
        var ssim: [String: Double]?
        var gssim: Double?
        var psnr: [String: Double]?
    }
    var distorted: String
    var reference: String
    var comparedFrames: Int
    var distortedFrames: Int
    var referenceFrames: Int
    var lengthsDiffer: Bool
    var ssim: SSIM?
    var gaussianSSIM: Gaussian?
    var psnr: PSNR?
    var frames: [Frame]

    init(_ r: QualityReport) {
        distorted = r.distorted
        reference = r.reference
        comparedFrames = r.comparedFrames
        distortedFrames = r.distortedFrameCount
        referenceFrames = r.referenceFrameCount
        lengthsDiffer = r.lengthsDiffer
        if let s = r.ssim { ssim = SSIM(Y: s.planes[0], U: s.planes[1], V: s.planes[2], All: s.all, dB: s.dB) }
        if let g = r.gaussianSSIM { gaussianSSIM = Gaussian(mean: g) }
        if let p = r.psnr?.result {
            psnr = PSNR(y: p.psnr[0], u: p.psnr[1], v: p.psnr[2], average: p.psnrAverage, min: p.psnrMin, max: p.psnrMax)
        }
        frames = r.frames.map { f in
            Frame(n: f.index, time: f.time,
                  ssim: f.ssim.map { ["Y": $0.planes[0], "U": $0.planes[1], "V": $0.planes[2], "All": $0.all, "dB": $0.dB] },
                  gssim: f.gaussianSSIM,
                  psnr: f.psnr.map { ["mse_y": $0.mse[0], "mse_u": $0.mse[1], "mse_v": $0.mse[2], "mse_avg": $0.mseAverage,
                                      "psnr_y": $0.psnr[0], "psnr_u": $0.psnr[1], "psnr_v": $0.psnr[2], "psnr_avg": $0.psnrAverage] })
        }
    }
}

/// The JSON shape of `eval <clip> --json` (inter-frame SSIM).
struct TemporalJSON: Encodable {
    struct Entry: Encodable {
        var definition: String
        var mean: Double
        var min: Double
        var pairs: [Double]
    }
    var input: String
    var frames: Int
    var interFrameSSIM: [String: Entry]

    init(input: String, frames: Int, reports: [TemporalConsistency.Report]) {
        self.input = input
        self.frames = frames
        var entries = [String: Entry]()
        for r in reports {
            entries[r.definition.rawValue] = Entry(definition: Eval.label(r.definition), mean: r.mean, min: r.minimum, pairs: r.pairs)
        }
        interFrameSSIM = entries
    }
}

