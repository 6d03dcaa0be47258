import ArgumentParser
import Foundation
import Renderer
import FrameIO

/// `t2v-render extract`: video files into a dataset of training clips.
struct Extract: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cut video files into fixed-size training clips (safetensors shards + manifest.jsonl).",
        discussion: """
        INPUT is a video file, a directory (searched recursively; files are probed, not judged by \
        extension, except that caption sidecars and .csv or .jsonl manifests in it are skipped) \
        or a manifest (.csv with a header naming path[,caption,start,end], or .jsonl \
        with those keys). Captions come from the manifest or a sidecar NAME.txt beside NAME.mp4.
        Re-running the same command resumes: finished inputs are skipped and no clip is written \
        twice. --shard i/N splits the inputs between N machines; --merge combines their outputs.
        """)

    @Argument(help: "Video files, directories or manifests (.csv/.jsonl). With --merge: dataset directories.")
    var inputs: [String] = []

    @Option(name: .shortAndLong, help: "The dataset directory to write (created if needed).")
    var output: String

    @Option(help: "Frames per clip.")
    var frames: Int = 16

    @Option(help: "Sampling rate in frames per second (frames picked by timestamp).")
    var fps: Double = 8

    @Option(help: "Clip size WxH.")
    var size = FrameSize(width: 64, height: 64)

    @Option(help: "How frames are fitted to the size: \(ExtractOptions.Resize.allCases.map(\.rawValue).joined(separator: ", ")).")
    var resize: ExtractOptions.Resize = .crop

    @Option(help: "Seconds between clip starts (default: the clip length, no overlap).")
    var stride: Double?

    @Option(help: "At most this many clips per video.")
    var maxClipsPerVideo: Int?

    @Flag(help: "Drop clips spanning a hard scene cut (inter-frame SSIM below --cut-threshold).")
    var skipCuts = false

    @Option(help: "Luma SSIM (FFmpeg's definition) between consecutive frames under which a cut is assumed.")
    var cutThreshold: Double = 0.4

    @Option(help: "Largest shard, in bytes of pixel data, with an optional K/M/G suffix.")
    var shardSize: String = "64M"

    @Option(help: "Process only shard i of N (e.g. 0/4), split by a stable hash of each input path.")
    var shard: String?

    @Flag(help: "Combine the dataset directories given as inputs into --output.")
    var merge = false

    @Flag(help: "Exit non-zero if any input could not be read.")
    var strict = false

    @Flag(help: "Print the summary as JSON on stdout.")
    var json = false

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    func parsedSize() -> (Int, Int)? { (size.width, size.height) }

    func parsedShard() -> (Int, Int)? {
        shard.flatMap(ShardArgument.parse).map { ($0.index, $0.count) }
    }

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("give at least one input (a video, a directory or a manifest)") }
        if merge { return }
        guard frames >= 1 else { throw ValidationError("--frames must be at least 1, got \(frames)") }
        guard fps > 0, fps.isFinite else { throw ValidationError("--fps must be positive, got \(fps)") }
        guard let (w, h) = parsedSize(), w <= 4096, h <= 4096 else {
            throw ValidationError("--size must be WxH with positive sides up to 4096, got '\(size)'")
        }
        if let stride, !(stride > 0) { throw ValidationError("--stride must be positive, got \(stride)") }
        if let m = maxClipsPerVideo, m < 1 { throw ValidationError("--max-clips-per-video must be at least 1") }
        if shard != nil, parsedShard() == nil { throw ValidationError("--shard must be i/N with 0 <= i < N, got '\(shard!)'") }
        guard let bytes = Extract.parseBytes(shardSize), bytes >= 1 else {
            throw ValidationError("--shard-size must be a positive byte count such as 500K or 64M, got '\(shardSize)'")
        }
        _ = bytes
        guard (0...1).contains(cutThreshold) else { throw ValidationError("--cut-threshold must be in 0...1") }
    }

    /// The extraction settings from the flags.
    private var extractOptions: ExtractOptions {
        var options = ExtractOptions()
        options.frames = frames
        options.fps = fps
        (options.width, options.height) = parsedSize()!
        options.resize = resize
        options.stride = stride
        options.maxClipsPerVideo = maxClipsPerVideo
        options.skipCuts = skipCuts
        options.cutThreshold = cutThreshold
        options.maxShardBytes = Extract.parseBytes(shardSize)!
        return options
    }

    /// `--merge`: the datasets given as inputs into -o.
    private func runMerge(into out: URL) throws {
        do {
            let s = try DatasetMerger.merge(inputs.map { URL(fileURLWithPath: $0) }, into: out)
            if json {
                print(#"{"clips": \#(s.clips), "shards": \#(s.shards), "duplicates": \#(s.duplicates)}"#)
            } else {
                FileHandle.standardError.write(Data("merged \(inputs.count) datasets into \(output): \(s.clips) clips in \(s.shards) shards, \(s.duplicates) duplicates dropped\n".utf8))
            }
        } catch {
            throw CommandError("merge failed: \(error)")
        }
    }

    /// The summary as JSON on stdout (--json) or lines on stderr (errors even with -q).
    private func report(_ summary: ExtractJob.Summary) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else if !quiet || !summary.errors.isEmpty {
            var lines = ["extract: \(summary.videosRead) videos read, \(summary.videosSkipped) already done, "
                         + "\(summary.clipsWritten) clips written (\(summary.bytesWritten / 1024) KiB), "
                         + "\(summary.clipsWithoutCaption) without caption, \(summary.clipsDroppedAtCuts) dropped at cuts, "
                         + "\(summary.errors.count) errors" + (summary.inputsInOtherShards > 0 ? ", \(summary.inputsInOtherShards) inputs in other shards" : "")]
            for (path, message) in summary.errors.sorted(by: { $0.key < $1.key }) { lines.append("  error: \(path): \(message)") }
            if !summary.errors.isEmpty { lines.append("  (also listed in \(output)/errors.jsonl)") }
            FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
    }

    func run() throws {
        let out = URL(fileURLWithPath: output)
        if merge { return try runMerge(into: out) }

        let expanded: (inputs: [ExtractInput], rejected: [ExtractInputs.Rejected])
        do {
            expanded = try ExtractInputs.expand(inputs) { path in
                guard let reader = try? VideoReader(path: path, options: .init(threads: 1)) else { return false }
                return reader.info.width > 0
            }
        } catch {
            throw CommandError("\(error)")
        }
        let job = ExtractJob(options: extractOptions, similarity: skipCuts ? ClipExtractor.lumaSSIM : nil)
        let bar = ProgressBar(total: expanded.inputs.count, label: "extract", unit: "videos", quiet: quiet)
        let interrupted = SignalFlag.install()
        let summaryResult: ExtractJob.Summary
        do {
            summaryResult = try job.run(inputs: expanded.inputs, into: out, shard: parsedShard()) { p in
                bar.update(p.inputsDone, suffix: "\(p.clipsWritten) clips")
                return !interrupted.isSet
            }
        } catch {
            throw CommandError("extract into \(output) failed: \(error)")
        }
        var summary = summaryResult
        for r in expanded.rejected {
            summary.errors[r.path] = r.reason
            try? DatasetManifest.recordError(source: r.path, message: r.reason, in: out)
        }
        try report(summary)
        if interrupted.isSet {
            throw CommandError("interrupted; finished shards are kept in \(output). Run the same command again to resume.")
        }
        let readable = summary.videosRead + summary.videosSkipped
        if readable == 0 && summary.inputsInOtherShards == 0 {
            throw CommandError("no input could be read; nothing was extracted (see the errors above)")
        }
        if strict && !summary.errors.isEmpty {
            throw CommandError("\(summary.errors.count) inputs could not be read (--strict)")
        }
    }

    /// "500K", "64M", "1G" or a plain number of bytes.
    static func parseBytes(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        if let last = text.uppercased().last, let unit = units[last] {
            return Int(text.dropLast()).map { $0 * unit }
        }
        return Int(text)
    }
}

extension ExtractOptions.Resize: ExpressibleByArgument {}
