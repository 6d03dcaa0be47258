import ArgumentParser
import Foundation
import Renderer
import FrameIO
import Generator

/// `t2v-render encode-latents`: codes a dataset written by `extract` with a trained autoencoder,
/// for training a diffusion model in latent space.
struct EncodeLatents: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode-latents",
        abstract: "Code a dataset made by `t2v-render extract` into autoencoder latents.",
        discussion: """
        Writes one safetensors shard per source shard (same file name) holding F32 `latents` \
        [n, T, C, H/f, W/f]: each frame's posterior mean times the autoencoder's latent scale; every \
        shard's metadata names the autoencoder (t2v.autoencoder_sha256, its configuration, \
        t2v.latent_scale). manifest.jsonl keeps the source's records and captions and is written last, \
        so a folder with a manifest is complete.
        """)

    @Argument(help: "Dataset directory (from `t2v-render extract`).")
    var dataset: String

    @Option(help: "The autoencoder (written by `t2v-render train-autoencoder -o`).")
    var autoencoder: String

    @Option(name: .shortAndLong, help: "Output folder for the latent dataset (created when missing).")
    var output: String

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    @OptionGroup var compute: PrecisionOptions

    func validate() throws {
        let source = URL(fileURLWithPath: dataset).standardizedFileURL.resolvingSymlinksInPath().path
        let target = URL(fileURLWithPath: output).standardizedFileURL.resolvingSymlinksInPath().path
        guard source != target else { throw ValidationError("-o must be another folder than the dataset: the latent shards take the source shards' names") }
    }

    func run() throws {
        let interrupted = SignalFlag.install()
        // Latents are training data: fp32 unless asked, like the training commands.
        try compute.apply()
        let model: VideoAutoencoder
        do { model = try VideoAutoencoder.load(from: URL(fileURLWithPath: autoencoder)).model } catch {
            throw CommandError("--autoencoder: \(CommandError.text(error))")
        }
        let sha = try SHA256.hex(fileAt: autoencoder)
        let loader: DatasetLoader
        do { loader = try DatasetLoader(directory: URL(fileURLWithPath: dataset), seed: 0) } catch { throw CommandError("\(error)") }
        let writer: LatentDatasetWriter
        do {
            writer = try LatentDatasetWriter(directory: URL(fileURLWithPath: output), autoencoder: model, autoencoderSHA256: sha,
                                             frames: loader.frames, height: loader.height, width: loader.width)
        } catch { throw CommandError("\(dataset): \(CommandError.text(error))") }

        // Clips by shard in manifest order; a latent shard's row i is its i-th record.
        var shards = [String: [Int]](), order = [String]()
        for (i, r) in loader.records.enumerated() {
            if shards[r.shard] == nil { order.append(r.shard) }
            shards[r.shard, default: []].append(i)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var lines = [String](), done = 0
        let bar = ProgressBar(total: loader.records.count, label: "encode-latents", unit: "clips", quiet: quiet)
        for name in order {
            let members = shards[name]!
            let written = try writeShard(writer, name: name, members: members, loader: loader) { n in
                bar.update(done + n)
                return !interrupted.isSet
            }
            guard written else {
                throw CommandError("interrupted after \(done) of \(loader.records.count) clips; \(output) has no manifest yet, so it is not a dataset. Run the command again to encode it.")
            }
            done += members.count
            for (row, i) in members.enumerated() {
                var record = loader.records[i]
                record.index = row
                lines.append(String(decoding: try encoder.encode(record), as: UTF8.self))
            }
        }
        do { try writer.writeManifest(lines: lines) } catch { throw CommandError(CommandError.text(error)) }
        if !quiet {
            let shape = writer.latentShape.map(String.init).joined(separator: "x")
            FileHandle.standardError.write(Data("encode-latents: \(done) clips in \(order.count) shards to \(output) (latents \(shape) per clip, scale \(model.scaleFactor))\n".utf8))
        }
    }

    /// Writes one shard; false when interrupted.
    private func writeShard(_ writer: LatentDatasetWriter, name: String, members: [Int], loader: DatasetLoader,
                            progress: @escaping (Int) -> Bool) throws -> Bool {
        do {
            return try writer.writeShard(named: name, count: members.count, loadClip: { try loader.clip(at: members[$0]) }, progress: progress)
        } catch let error as AutoencoderError {
            throw CommandError(CommandError.text(error))
        } catch {
            throw CommandError("\(dataset): \(error)")
        }
    }
}
