import CFFmpeg

extension VideoReader {
    /// Positions the reader so that the next `nextFrame()`/`nextPlanes()` returns the first frame
    /// whose presentation time is at or after `seconds` (timestamps compared in the stream's time
    /// base after rounding `seconds` to the nearest tick). Frame-accurate: seeks to the keyframe at
    /// or before the target (`av_seek_frame` with `AVSEEK_FLAG_BACKWARD`), flushes the decoder,
    /// decodes forward and drops frames before the target. When the demuxer lands after the
    /// target, it retries from further back.
    ///
    /// With `options.frameRate = F`, sampling restarts at output tick `round(seconds * F)`: the next
    /// frame is the source frame the sampler would show at that time (see `VideoReader`).
    ///
    /// Pipes (stdin) can only seek forward (frames are decoded and dropped); a backward seek
    /// throws `FrameIOError.unsupported`. Throws `.invalidArgument` for a negative or non-finite time.
    public func seek(toSeconds seconds: Double) throws {
        guard seconds.isFinite, seconds >= 0 else {
            throw FrameIOError.invalidArgument("seek time \(seconds) must be a finite number of seconds >= 0")
        }
        if let outBase = samplerTimeBase {
            let k = Int64((seconds * Double(outBase.den) / Double(outBase.num)).rounded())
            let target = av_rescale_q_rnd(k, outBase, timeBase, AV_ROUND_UP)
            try position(at: target, keepBefore: true)
            samplerNext = k
            samplerHeld = nil
            samplerEnded = false
        } else {
            try position(at: ticks(seconds), keepBefore: false)
        }
    }

    /// Positions the reader at frame `index` in presentation order, counted at the stream's frame
    /// rate (`info.frameRate`) from the stream's start: frame k is the first frame whose time is at
    /// or after `start + (k - 1/2) / rate` — exactly the k-th frame of a constant-rate stream,
    /// robust to timestamp rounding. With `options.frameRate = F` the index counts output frames
    /// of the sampler instead: `seek(toSeconds: start + k / F)`.
    ///
    /// Throws `FrameIOError.unsupported` when the stream has no frame rate, `.invalidArgument`
    /// for a negative index.
    public func seek(toFrame index: Int) throws {
        guard index >= 0 else { throw FrameIOError.invalidArgument("frame index \(index) must be >= 0") }
        let start = max(0, info.startTime ?? 0)
        if let fps = options.frameRate {
            try seek(toSeconds: start + Double(index) / fps)
            return
        }
        guard let rate = info.frameRate, rate.doubleValue > 0 else {
            throw FrameIOError.unsupported("\(path): the stream has no frame rate, so frame indices are undefined; seek by time instead")
        }
        let target = ticks(start + (Double(index) - 0.5) / rate.doubleValue)
        try position(at: target, keepBefore: false)
    }

    /// `seconds` in stream ticks, rounded to nearest.
    func ticks(_ seconds: Double) -> Int64 {
        Int64((seconds * Double(timeBase.den) / Double(timeBase.num)).rounded())
    }

    /// Leaves in `pending` the first picture with `pts >= target` (preceded by the last picture
    /// before it when `keepBefore`).
    func position(at target: Int64, keepBefore: Bool) throws {
        guard let format, let codec else { return }
        samplerHeld = nil
        samplerEnded = false
        if !seekable {
            // Forward only: decode and drop.
            if let current = positionPts, target < current {
                throw FrameIOError.unsupported(
                    "\(path): cannot seek backward in a pipe (at \(seconds(current)) s, asked for \(seconds(target)) s); "
                    + "read from a file to seek freely")
            }
            var before: Picture?
            while let picture = try pullPicture() {
                if picture.pts >= target {
                    pending.insert(picture, at: 0)
                    if keepBefore, let before { pending.insert(before, at: 0) }
                    return
                }
                before = picture
            }
            if keepBefore, let before { pending = [before] }
            return
        }

        let startPts = info.startTime.map { ticks($0) } ?? 0
        let oneSecond = max(1, ticks(1))
        var margin: Int64 = 0
        for attempt in 0..<6 {
            let ts = target - margin
            var result = av_seek_frame(format, streamIndex, ts, cff_seek_flag_backward())
            if result < 0 {
                // Before the first keyframe: go back to the very start.
                result = avformat_seek_file(format, streamIndex, Int64.min, min(ts, startPts), min(ts, startPts), 0)
                if result < 0 {
                    result = av_seek_frame(format, -1, 0, cff_seek_flag_backward() | AVSEEK_FLAG_BYTE)
                }
                if result < 0 {
                    throw FrameIOError.ffmpeg(path: path, FFmpegError(code: result, function: "av_seek_frame"))
                }
            }
            avcodec_flush_buffers(codec)
            pending.removeAll()
            sentEndOfStream = false
            decoderFinished = false
            consecutiveErrors = 0
            lastPts = nil
            positionPts = nil

            guard let first = try decodePicture() else { return }
            if first.pts > target && ts > startPts && attempt < 5 {
                margin = margin == 0 ? oneSecond : margin * 2
                continue
            }
            var before: Picture?
            var current: Picture? = first
            while let picture = current, picture.pts < target {
                before = picture
                current = try decodePicture()
            }
            if keepBefore, let before { pending.append(before) }
            if let current { pending.append(current) }
            return
        }
    }
}
