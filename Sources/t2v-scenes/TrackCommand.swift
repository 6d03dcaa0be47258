import ArgumentParser
import Foundation
import QualityReport
import Scenes

/// `t2v-scenes track`: runs `ObjectTracker` over the clips of an extracted dataset of the corpus
/// (real or generated) and says, per family with a tracked object, how often it finds the object
/// and whether its colour and direction agree with the captions. On real clips this is the
/// tracker's own check.
struct TrackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "track",
        abstract: "Track the ball and the car's headlight through a dataset's clips and check them against the captions.")

    @Argument(help: "Dataset directory (from t2v-render extract of t2v-scenes render output).")
    var dataset: String

    @Flag(help: "One JSON line per clip (family, caption, the attribute it names and the one the judge reads, per-frame detections) instead of the summary.")
    var json = false

    func run() throws {
        let data = try ReportClips.loadDataset(URL(fileURLWithPath: dataset))
        let clouds = data.labels.indices.filter { data.labels[$0] == .clouds }
        if !clouds.isEmpty, !json {
            var ok = 0, judged = 0
            for i in clouds {
                guard let want = Scenes.namedAttributes(data.captions[i], family: .clouds)?.direction else { continue }
                judged += 1
                if CloudDrift.measure(data.clips[i], frames: data.frames, size: data.size).direction == want { ok += 1 }
            }
            print("clouds: \(clouds.count) clips, drift direction as captioned \(ok)/\(judged)")
        }
        for family in ObjectTracker.families {
            let idx = data.labels.indices.filter { data.labels[$0] == family }
            guard !idx.isEmpty else { continue }
            let j = ObjectJudgement(family: family, clips: idx.map { data.clips[$0] }, captions: idx.map { data.captions[$0] },
                                    frames: data.frames, size: data.size)
            if json {
                for (k, t) in j.tracks.enumerated() {
                    let dets = t.detections.map { d in
                        d.map { String(format: "[%.4f,%.4f,%d%@]", $0.x, $0.y, $0.area, $0.color.map { ",\"\($0.rawValue)\"" } ?? "") } ?? "null"
                    }
                    let caption = data.captions[idx[k]].replacingOccurrences(of: "\"", with: "\\\"")
                    // The attribute the caption names and the one the judge reads (the ball's colour, else the direction).
                    let (named, read) = family == .ball
                        ? (j.named[k]?.ballColor?.rawValue, j.readColor(k)?.rawValue)
                        : (j.named[k]?.direction?.rawValue, j.readDirection(k)?.rawValue)
                    func quoted(_ v: String?) -> String { v.map { "\"\($0)\"" } ?? "null" }
                    print("{\"family\":\"\(family.id)\",\"caption\":\"\(caption)\",\"named\":\(quoted(named)),\"read\":\(quoted(read)),"
                          + "\"detections\":[\(dets.joined(separator: ","))]}")
                }
                continue
            }
            func frac(_ x: (matching: Int, judged: Int)) -> String { x.judged == 0 ? "-" : "\(x.matching)/\(x.judged)" }
            print("\(family.id): \(j.count) clips, object found in \(String(format: "%.1f%%", 100 * j.framePresence)) of frames, "
                  + "drawn in \(j.drawn), held in \(j.held), median step \(j.medianStep.map { String(format: "%.3f", $0) } ?? "-"), "
                  + "colour as captioned \(frac(j.colorMatches)), direction as captioned \(frac(j.directionMatches))")
        }
    }
}
