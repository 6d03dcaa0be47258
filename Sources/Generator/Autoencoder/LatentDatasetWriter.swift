import AtomicFiles
import Foundation

/// Writes a latent dataset: the clips of a pixel dataset (from `extract`) coded by a
/// `VideoAutoencoder`, for training a diffusion model in its latent space.
///
/// Layout: one safetensors shard per source shard, with the source shard's file name, holding one
/// F32 tensor `latents` of shape `[n, T, C, H/f, W/f]` (row i is the i-th clip of that shard: the
/// posterior means times the autoencoder's scale factor) and metadata naming the autoencoder
/// (`t2v.autoencoder_sha256`, its configuration and `t2v.latent_scale`); and a `manifest.jsonl`
/// with the source's records (captions, sources, start times; `shard` and `index` point into the
/// latent shards). Python reads a shard as it is:
/// `safetensors.numpy.load_file(path)["latents"]`.
///
/// Every file is written atomically (temporary file beside it, fsync, rename), shards as they are
/// encoded and the manifest last, so a folder with a manifest is complete.
public final class LatentDatasetWriter {
    /// Name of the tensor in each shard.
    public static let tensorName = "latents"
    /// Metadata key of the autoencoder file's SHA-256 (lower-case hex) in each shard.
    public static let sha256Key = "t2v.autoencoder_sha256"
    /// The manifest's file name (as a pixel dataset's).
    public static let manifestName = "manifest.jsonl"

    /// The output folder.
    public let directory: URL
    /// The autoencoder that codes the clips.
    public let autoencoder: VideoAutoencoder
    /// SHA-256 of the autoencoder's file, stored in every shard.
    public let autoencoderSHA256: String
    /// Frames, height and width of every source clip.
    public let frames: Int, height: Int, width: Int

    /// Shape of one clip's latents: `[T, C, H/f, W/f]`.
    public var latentShape: [Int] {
        let f = autoencoder.config.downsamplingFactor
        return [frames, autoencoder.config.latentChannels, height / f, width / f]
    }

    /// Prepares to write into `directory` (created when missing).
    ///
    /// - Throws: `AutoencoderError.badInput` when the frame size is not a multiple of the
    ///   autoencoder's downsampling factor, `.badLatentDataset` when the folder cannot be created.
    public init(directory: URL, autoencoder: VideoAutoencoder, autoencoderSHA256: String,
                frames: Int, height: Int, width: Int) throws {
        let f = autoencoder.config.downsamplingFactor
        guard frames > 0, height > 0, width > 0, height % f == 0, width % f == 0 else {
            throw AutoencoderError.badInput("clips of \(frames) frames of \(width)x\(height) cannot be coded: the autoencoder needs frame sizes that are multiples of \(f); extract the dataset with --size a multiple of \(f)")
        }
        self.directory = directory
        self.autoencoder = autoencoder
        self.autoencoderSHA256 = autoencoderSHA256
        self.frames = frames
        self.height = height
        self.width = width
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw AutoencoderError.badLatentDataset(path: directory.path, message: "cannot create the folder: \(error.localizedDescription)")
        }
    }

    /// The metadata of every shard.
    func shardMetadata() throws -> [String: String] {
        [
            Self.sha256Key: autoencoderSHA256,
            AutoencoderConfig.metadataKey: try canonicalJSON(autoencoder.config),
            VideoAutoencoder.scaleKey: String(autoencoder.scaleFactor),
            "t2v.generator_version": GeneratorInfo.version,
            "format": "t2v-render latents [N,T,C,H/f,W/f] float32: posterior mean x latent scale",
        ]
    }

    /// Stops `writeShard` when `progress` asks to.
    private struct Cancelled: Error {}

    /// Codes `count` clips and writes them as shard `name`, streaming each clip's latents to the
    /// file as it is coded.
    ///
    /// - Parameters:
    ///   - name: the shard's file name (a plain name inside `directory`).
    ///   - count: clips in the shard.
    ///   - loadClip: clip i of the shard as `[T, 3, H, W]` values in [-1, 1].
    ///   - progress: called after each clip; return false to stop (the shard is then not written).
    /// - Returns: true when the shard was written, false when `progress` stopped it.
    /// - Throws: `AutoencoderError.badLatentDataset` naming the file, or what `loadClip` throws.
    @discardableResult
    public func writeShard(named name: String, count: Int, loadClip: (Int) throws -> [Float],
                           progress: ((Int) -> Bool)? = nil) throws -> Bool {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw AutoencoderError.badLatentDataset(path: directory.path, message: "shard name '\(name)' is not a file name")
        }
        let url = directory.appendingPathComponent(name)
        let spec = SafeTensors.TensorSpec(name: Self.tensorName, dtype: .f32, shape: [count] + latentShape)
        do {
            try SafeTensors.withStreamWriter(url: url, tensors: [spec], metadata: try shardMetadata()) { writer in
                for i in 0..<count {
                    let latents = try autoencoder.latents(ofClip: try loadClip(i), frames: frames, height: height, width: width)
                    try writer.append(Self.tensorName, floats: latents)
                    if let progress, !progress(i + 1) { throw Cancelled() }
                }
            }
        } catch is Cancelled {
            return false
        } catch let error as SafeTensorsError {
            throw AutoencoderError.badLatentDataset(path: url.path, message: error.message)
        }
        return true
    }

    /// Writes `manifest.jsonl` atomically: `lines` (one JSON record each, no newlines), each
    /// followed by a newline.
    ///
    /// - Throws: `AutoencoderError.badLatentDataset` naming the file when it cannot be written.
    public func writeManifest(lines: [String]) throws {
        let url = directory.appendingPathComponent(Self.manifestName)
        let data = Data(lines.map { $0 + "\n" }.joined().utf8)
        do {
            try AtomicFile.write(data, to: url.path)
        } catch let error as AtomicFileError {
            throw AutoencoderError.badLatentDataset(path: url.path, message: error.reason)
        }
    }
}
