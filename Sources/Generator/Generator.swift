/// The Generator module: the tensor engine with autograd, layers, the text encoder, the video
/// denoiser, noise schedulers and samplers, and training. It never imports FrameIO; the
/// command-line tool joins the two.
public enum GeneratorInfo {
    /// The module's version, stored in the metadata of files it writes.
    public static let version = "0.1.0"
}
