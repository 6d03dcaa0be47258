import CFFmpeg

extension VideoReader {
    /// The next decoded picture into `slot`, as `nextPlanes(pixelFormat:)` would return it but
    /// without copying: the slot keeps a reference to the decoder's picture (or converts it into
    /// its own buffer when the decoder outputs another format) and views its planes in place.
    /// False at the end of the stream. Throws as `nextPlanes(pixelFormat:)`.
    func nextPicture(into slot: PictureSlot, pixelFormat: String) throws -> Bool {
        let target = av_get_pix_fmt(pixelFormat)
        guard target != AV_PIX_FMT_NONE, let descriptor = av_pix_fmt_desc_get(target) else {
            throw FrameIOError.invalidArgument("unknown pixel format '\(pixelFormat)'; use an FFmpeg name such as yuv420p")
        }
        try VideoReader.checkEightBitPlanar(descriptor.pointee, name: pixelFormat)
        let time: Double
        if samplerTimeBase == nil && pending.isEmpty {
            // Every picture in order and none held back: decode straight into the slot.
            guard try decode(into: slot.frame) else {
                slot.release()
                return false
            }
            let pts = stamp(slot.frame).pts
            positionPts = pts
            time = seconds(pts)
        } else {
            guard let (picture, sampledTime) = try nextSampledPicture() else {
                slot.release()
                return false
            }
            slot.release()
            let referenced = av_frame_ref(slot.frame, picture.frame)
            if referenced < 0 { throw FrameIOError.ffmpeg(path: path, FFmpegError(code: referenced, function: "av_frame_ref")) }
            time = sampledTime
        }
        var picture = slot.frame
        if picture.pointee.format != target.rawValue {
            picture = try slot.converter.convert(picture, width: picture.pointee.width, height: picture.pointee.height,
                                                 format: target, flags: cff_sws_bicubic(), path: path)
            av_frame_unref(slot.frame)   // the converted copy is what the slot holds
        }
        try slot.view(picture, descriptor: descriptor.pointee, name: pixelFormat, time: time)
        return true
    }
}
