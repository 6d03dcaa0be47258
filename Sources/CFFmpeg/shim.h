// The one header Swift imports for FFmpeg 5.1. It wraps the macros Swift cannot
// import as prefixed static inline functions (cff_*). Nothing else lives here.
#ifndef CFFMPEG_SHIM_H
#define CFFMPEG_SHIM_H

#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libavutil/avutil.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/cpu.h>
#include <libavutil/rational.h>
#include <libavutil/mathematics.h>

/// AVERROR(e): FFmpeg's negative error code for a POSIX errno value.
static inline int cff_averror(int e) { return AVERROR(e); }
/// AVERROR(EAGAIN).
static inline int cff_averror_eagain(void) { return AVERROR(EAGAIN); }
/// AVERROR_EOF.
static inline int cff_averror_eof(void) { return AVERROR_EOF; }
/// AVERROR_INVALIDDATA.
static inline int cff_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
/// AVERROR_ENCODER_NOT_FOUND.
static inline int cff_averror_encoder_not_found(void) { return AVERROR_ENCODER_NOT_FOUND; }
/// AV_NOPTS_VALUE.
static inline int64_t cff_nopts_value(void) { return AV_NOPTS_VALUE; }
/// AV_TIME_BASE as a rational (1/1000000).
static inline AVRational cff_time_base_q(void) { return AV_TIME_BASE_Q; }
/// av_err2str without the compound literal: writes the message into buf.
static inline const char *cff_err2str(int errnum, char *buf, size_t size) {
    av_strerror(errnum, buf, size);
    return buf;
}
/// AVFMT_GLOBALHEADER test on an output format.
/// Whether FFmpeg detected AVX-512 on this CPU (then AVX2, FMA3 and BMI2 are present too).
static inline int cff_cpu_has_avx512(void) {
#if defined(AV_CPU_FLAG_AVX512)
    return (av_get_cpu_flags() & AV_CPU_FLAG_AVX512) != 0;
#else
    return 0;
#endif
}
/// AVFMT_FLAG_BITEXACT (a macro Swift cannot import).
static inline int cff_fmt_flag_bitexact(void) { return AVFMT_FLAG_BITEXACT; }
static inline int cff_oformat_wants_global_header(const AVOutputFormat *f) {
    return (f->flags & AVFMT_GLOBALHEADER) != 0;
}
/// AVFMT_NOFILE test on an output format.
static inline int cff_oformat_is_nofile(const AVOutputFormat *f) {
    return (f->flags & AVFMT_NOFILE) != 0;
}
/// AV_CODEC_FLAG_GLOBAL_HEADER.
static inline int cff_codec_flag_global_header(void) { return AV_CODEC_FLAG_GLOBAL_HEADER; }
/// AV_PKT_FLAG_KEY.
static inline int cff_pkt_flag_key(void) { return AV_PKT_FLAG_KEY; }
/// AV_FRAME_FLAG / key frame helper for FFmpeg 5.1 (key_frame field).
static inline int cff_frame_is_key(const AVFrame *f) { return f->key_frame; }
/// FF_THREAD_FRAME | FF_THREAD_SLICE.
static inline int cff_thread_frame(void) { return FF_THREAD_FRAME; }
static inline int cff_thread_slice(void) { return FF_THREAD_SLICE; }
/// AVSEEK_FLAG_BACKWARD.
static inline int cff_seek_flag_backward(void) { return AVSEEK_FLAG_BACKWARD; }
/// AVIO_FLAG_WRITE / AVIO_FLAG_READ.
static inline int cff_avio_flag_write(void) { return AVIO_FLAG_WRITE; }
static inline int cff_avio_flag_read(void) { return AVIO_FLAG_READ; }
/// SWS_* scaler flags.
static inline int cff_sws_bicubic(void) { return SWS_BICUBIC; }
static inline int cff_sws_area(void) { return SWS_AREA; }
static inline int cff_sws_bilinear(void) { return SWS_BILINEAR; }
static inline int cff_sws_lanczos(void) { return SWS_LANCZOS; }
static inline int cff_sws_point(void) { return SWS_POINT; }
static inline int cff_sws_accurate_rnd(void) { return SWS_ACCURATE_RND; }
static inline int cff_sws_full_chr_h_int(void) { return SWS_FULL_CHR_H_INT; }
static inline int cff_sws_full_chr_h_inp(void) { return SWS_FULL_CHR_H_INP; }
/// SWS_CS_* colour matrices.
static inline int cff_sws_cs_itu709(void) { return SWS_CS_ITU709; }
static inline int cff_sws_cs_itu601(void) { return SWS_CS_ITU601; }
static inline int cff_sws_cs_default(void) { return SWS_CS_DEFAULT; }
static inline int cff_sws_cs_bt2020(void) { return SWS_CS_BT2020; }
/// AVFMT_FLAG_CUSTOM_IO.
static inline int cff_fmt_flag_custom_io(void) { return AVFMT_FLAG_CUSTOM_IO; }

#endif
