import CFFmpeg

/// One 8-bit plane seen in place: its first sample, its size and its row stride in bytes. Valid
/// while the `PictureSlot` it came from holds its picture.
struct PlaneView {
    /// The first sample of the first row.
    var base: UnsafePointer<UInt8>
    /// Width in samples.
    var width: Int
    /// Height in rows.
    var height: Int
    /// Bytes from one row to the next (at least `width`).
    var stride: Int
}

/// A picture buffer that is filled, read and refilled, so a stream of frames moves through a
/// fixed set of buffers instead of allocating per frame. Internal to `QualityEvaluator`.
///
/// Filled in one of two ways: from a `VideoReader` it holds a reference to the decoder's own
/// picture (no copy; the decoder's buffer pool recycles the memory once the slot lets go), or a
/// swscale conversion into a buffer of its own; from any other `PlanarFrameSource` it copies the
/// planes of the `PlanarImage` into storage it keeps. `planes` then views the samples in place.
final class PictureSlot {
    /// The decoded picture when filled from a reader (an empty frame otherwise).
    let frame: UnsafeMutablePointer<AVFrame>
    /// The slot's own swscale context and destination, for readers whose decoder outputs
    /// another pixel format than the one requested. Created on first use.
    private(set) lazy var converter = VideoReader.Converter()
    /// Copied samples of a `PlanarImage` (grown to the largest picture, then reused).
    private var storage: UnsafeMutablePointer<UInt8>?
    private var storageCapacity = 0
    /// Views of the planes (up to 4).
    private let views = UnsafeMutablePointer<PlaneView>.allocate(capacity: 4)
    /// Planes in use.
    private(set) var planeCount = 0
    /// FFmpeg's name of the pixel format of the planes.
    private(set) var pixelFormat = ""
    /// Presentation time in seconds, when known.
    private(set) var time: Double?

    /// An empty slot. Throws `FrameIOError.unsupported` when FFmpeg cannot allocate a frame.
    init() throws {
        guard let frame = av_frame_alloc() else { throw FrameIOError.unsupported("out of memory allocating a picture") }
        self.frame = frame
    }

    deinit {
        var f: UnsafeMutablePointer<AVFrame>? = frame
        av_frame_free(&f)
        storage?.deallocate()
        views.deallocate()
    }

    /// The planes of the picture held.
    var planes: UnsafeBufferPointer<PlaneView> { UnsafeBufferPointer(start: views, count: planeCount) }

    /// Gives the decoder's buffers back (the views become invalid until the next fill).
    func release() {
        av_frame_unref(frame)
        planeCount = 0
    }

    /// Views the planes of `picture` (the slot's `frame` or its converter's output), an 8-bit
    /// planar frame in the format `descriptor` describes. Throws `FrameIOError.unsupported` when
    /// a plane is missing.
    func view(_ picture: UnsafeMutablePointer<AVFrame>, descriptor: AVPixFmtDescriptor, name: String, time: Double) throws {
        let width = Int(picture.pointee.width), height = Int(picture.pointee.height)
        let count = Int(av_pix_fmt_count_planes(AVPixelFormat(rawValue: picture.pointee.format)))
        guard count <= 4 else { throw FrameIOError.unsupported("\(name) has \(count) planes; at most 4 are supported") }
        try VideoReader.withFramePointers(picture) { data, lines in
            for i in 0..<count {
                let chroma = i == 1 || i == 2
                let sx = chroma ? Int(descriptor.log2_chroma_w) : 0
                let sy = chroma ? Int(descriptor.log2_chroma_h) : 0
                guard let base = data[i] else { throw FrameIOError.unsupported("plane \(i) of \(name) is missing") }
                views[i] = PlaneView(base: UnsafePointer(base), width: (width + (1 << sx) - 1) >> sx,
                                     height: (height + (1 << sy) - 1) >> sy, stride: Int(lines[i]))
            }
        }
        planeCount = count
        pixelFormat = name
        self.time = time
    }

    /// Copies the planes of `image` into the slot's storage.
    func copy(_ image: PlanarImage) throws {
        guard image.planes.count <= 4 else {
            throw FrameIOError.unsupported("\(image.pixelFormat) has \(image.planes.count) planes; at most 4 are supported")
        }
        av_frame_unref(frame)
        let total = image.planes.reduce(0) { $0 + $1.data.count }
        if total > storageCapacity {
            storage?.deallocate()
            storage = .allocate(capacity: total)
            storageCapacity = total
        }
        var offset = 0
        for (i, plane) in image.planes.enumerated() {
            let base = storage! + offset
            plane.data.withUnsafeBufferPointer { base.update(from: $0.baseAddress!, count: $0.count) }
            views[i] = PlaneView(base: UnsafePointer(base), width: plane.width, height: plane.height, stride: plane.width)
            offset += plane.data.count
        }
        planeCount = image.planes.count
        pixelFormat = image.pixelFormat
        time = image.time
    }

    /// "WxH format" of the first plane, for messages.
    var summary: String {
        "\(planeCount > 0 ? "\(views[0].width)x\(views[0].height)" : "empty") \(pixelFormat)"
    }
}
