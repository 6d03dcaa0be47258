import CFFmpeg
import AtomicFiles
import Foundation

/// Still images in PNG, encoded by FFmpeg's own `png` encoder (8-bit RGB, lossless).
public enum PNGImage {
    /// Encodes `frame` as an 8-bit RGB PNG and returns the file's bytes.
    /// Throws `FrameIOError.unsupported` when FFmpeg has no PNG encoder, `.ffmpeg` when encoding fails.
    public static func encode(_ frame: RGBFrame) throws -> [UInt8] {
        let where_ = "PNG encoder"
        guard let encoder = avcodec_find_encoder(AV_CODEC_ID_PNG) else {
            throw FrameIOError.unsupported("this FFmpeg build has no PNG encoder; install a full ffmpeg")
        }
        var context = avcodec_alloc_context3(encoder)
        var picture = av_frame_alloc()
        var packet = av_packet_alloc()
        defer {
            av_packet_free(&packet)
            av_frame_free(&picture)
            avcodec_free_context(&context)
        }
        guard let context, let picture, let packet else {
            throw FrameIOError.unsupported("out of memory allocating the PNG encoder")
        }
        func fail(_ code: Int32, _ function: String) -> FrameIOError {
            .ffmpeg(path: where_, FFmpegError(code: code, function: function))
        }
        context.pointee.width = Int32(frame.width)
        context.pointee.height = Int32(frame.height)
        context.pointee.pix_fmt = AV_PIX_FMT_RGB24
        context.pointee.time_base = AVRational(num: 1, den: 1)
        var result = avcodec_open2(context, encoder, nil)
        if result < 0 { throw fail(result, "avcodec_open2") }

        picture.pointee.width = Int32(frame.width)
        picture.pointee.height = Int32(frame.height)
        picture.pointee.format = AV_PIX_FMT_RGB24.rawValue
        picture.pointee.pts = 0
        result = av_frame_get_buffer(picture, 0)
        if result < 0 { throw fail(result, "av_frame_get_buffer") }
        let stride = Int(picture.pointee.linesize.0)
        let rowBytes = frame.width * 3
        frame.packedRGB.withUnsafeBufferPointer { src in
            let dst = picture.pointee.data.0!
            for y in 0..<frame.height {
                (dst + y * stride).update(from: src.baseAddress! + y * rowBytes, count: rowBytes)
            }
        }
        result = avcodec_send_frame(context, picture)
        if result < 0 { throw fail(result, "avcodec_send_frame") }
        result = avcodec_send_frame(context, nil)
        if result < 0 { throw fail(result, "avcodec_send_frame") }
        var bytes: [UInt8] = []
        while true {
            result = avcodec_receive_packet(context, packet)
            if result == FFmpegError.eof || result == FFmpegError.eagain { break }
            if result < 0 { throw fail(result, "avcodec_receive_packet") }
            bytes.append(contentsOf: UnsafeBufferPointer(start: packet.pointee.data, count: Int(packet.pointee.size)))
            av_packet_unref(packet)
        }
        guard !bytes.isEmpty else { throw FrameIOError.unsupported("the PNG encoder produced no data") }
        return bytes
    }

    /// Writes `frame` as a PNG file at `path`: encoded in memory, written to a temporary file in
    /// the same directory, then renamed over `path`, so readers never see a partial file.
    /// Throws `FrameIOError.unwritable` when the directory is missing or not writable.
    public static func write(_ frame: RGBFrame, to path: String) throws {
        let bytes = try encode(frame)
        try writeAtomically(Data(bytes), to: path)
    }
}

extension PNGImage {
    /// Writes `data` to `path` atomically. Throws `FrameIOError.unwritable` with the reason.
    static func writeAtomically(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FrameIOError.unwritable(path: path, reason: "the directory \(directory.path) does not exist; create it first")
        }
        try writingAtomically { try AtomicFile.write(data, to: path) }
    }
}
