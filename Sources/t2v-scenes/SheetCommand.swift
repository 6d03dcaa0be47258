import ArgumentParser
import FrameIO
import Foundation
import Renderer
import Scenes

/// `t2v-scenes sheet`: a contact sheet with one row per family (frames of one clip, left to
/// right in time), for the README gallery.
struct SheetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sheet",
        abstract: "Render a contact sheet: one row per family, frames of one clip across.",
        discussion: "The output format follows the extension: .png (through FrameIO's PNGImage) or .ppm (binary PPM).")

    @Option(name: [.short, .customLong("output")], help: "Output image (.png or .ppm).")
    var output: String

    @Option(help: "Cell size in pixels.")
    var size: Int = 96

    @Option(help: "Frames shown per row, evenly spaced over the clip.")
    var columns: Int = 6

    @Option(help: "Clip length the columns are sampled from.")
    var frames: Int = 16

    @Option(help: "Seed of the clip shown for every family.")
    var seed: UInt64 = 0

    @OptionGroup var selection: FamilySelection

    func validate() throws {
        guard size >= Scenes.minimumSize, size <= 1024 else { throw ValidationError("--size must be from \(Scenes.minimumSize) to 1024, got \(size)") }
        guard columns >= 1, columns <= 64 else { throw ValidationError("--columns must be from 1 to 64, got \(columns)") }
        guard frames >= 1, frames <= 10_000 else { throw ValidationError("--frames must be from 1 to 10000, got \(frames)") }
        let ext = URL(fileURLWithPath: output).pathExtension.lowercased()
        guard ImageFormat(rawValue: ext) != nil else {
            throw ValidationError("-o \(output): unsupported image type '.\(ext)'; use \(ImageFormat.allCases.map { "." + $0.rawValue }.joined(separator: " or "))")
        }
    }

    func run() throws {
        let families = try selection.resolved()
        // One row per family: `columns` frames of the (family, seed) clip, evenly spaced in time.
        let picks = (0..<columns).map { columns == 1 ? 0 : $0 * (frames - 1) / (columns - 1) }
        var tiles: [RGBFrame] = []
        for family in families {
            let clip = Scenes.render(family: family, seed: seed, size: size, frames: frames)
            tiles += picks.map { clip.frames[$0] }
        }
        let sheet: RGBFrame
        do { sheet = try ContactSheet(columns: columns, spacing: 2, background: [24, 24, 24]).compose(tiles) } catch let error as FrameIOError {
            throw CommandError("cannot lay out the contact sheet: \(error.description)")
        }
        let url = URL(fileURLWithPath: output)
        try ImageFile.write(sheet, to: url)
        print("wrote \(url.path): \(sheet.width)x\(sheet.height), \(families.count) rows x \(columns) frames")
    }
}
