// swift-tools-version:6.0
import PackageDescription

// t2v-render: text-to-video on a CPU. Dependencies point one way:
// CFFmpeg <- FrameIO <- Renderer -> Generator -> CBLAS, CDNNL; t2v-render uses all three. FrameIO and
// Generator both write through AtomicFiles (whole files or none).
let package = Package(
    name: "t2v-render",
    products: [
        .executable(name: "t2v-render", targets: ["t2v-render"]),
        .executable(name: "t2v-scenes", targets: ["t2v-scenes"]),
        .library(name: "FrameIO", targets: ["FrameIO"]),
        .library(name: "Generator", targets: ["Generator"]),
        .library(name: "Renderer", targets: ["Renderer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // FFmpeg 5.1 (Debian 12): libavformat, libavcodec, libswscale, libavutil.
        .systemLibrary(
            name: "CFFmpeg",
            path: "Sources/CFFmpeg",
            pkgConfig: "libavformat libavcodec libswscale libavutil",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]
        ),
        // Debian's OpenBLAS (pthread variant), used only by Generator/Runtime/BLAS.swift.
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // oneDNN (Debian's libdnnl-dev 2.6) behind a small C layer: bf16 convolutions with fp32
        // tensors in and out, used only by Generator/Runtime/OneDNN.swift.
        .target(name: "CDNNL", linkerSettings: [.linkedLibrary("dnnl")]),
        // Files written whole or not at all (temporary file, fsync, rename): the one helper every
        // writer of the package uses.
        .target(name: "AtomicFiles"),
        .target(
            name: "FrameIO",
            dependencies: ["CFFmpeg", "AtomicFiles"]
        ),
        .target(
            name: "Generator",
            dependencies: ["CBLAS", "CDNNL", "AtomicFiles"]
        ),
        // Prompts into video files: the pipeline's frames streamed into FrameIO's encoders,
        // written whole or not at all; batches of prompts from JSON Lines, sharded.
        .target(name: "Renderer", dependencies: ["FrameIO", "Generator", "AtomicFiles"]),
        .executableTarget(
            name: "t2v-render",
            dependencies: [
                "FrameIO", "Generator", "Renderer", "AtomicFiles",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The procedural scene corpus (training data for the default model). Never linked into
        // t2v-render: a prompt's video comes from the diffusion model alone.
        .target(name: "Scenes", dependencies: ["FrameIO", "AtomicFiles"]),
        // The quality report of a trained model against the held-out corpus (t2v-scenes report).
        .target(name: "QualityReport", dependencies: ["Scenes", "FrameIO", "Generator", "Renderer", "AtomicFiles"]),
        .executableTarget(
            name: "t2v-scenes",
            dependencies: ["Scenes", "FrameIO", "Generator", "Renderer", "QualityReport", "AtomicFiles", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Tensor-engine benchmark driven by bench/tensor_bench.py.
        .executableTarget(
            name: "t2v-bench",
            dependencies: ["Generator"],
            path: "bench/Swift"
        ),
        .testTarget(name: "AtomicFilesTests", dependencies: ["AtomicFiles"]),
        .testTarget(name: "FrameIOTests", dependencies: ["FrameIO"], exclude: ["Scripts"], resources: [.copy("Fixtures")]),
        .testTarget(name: "GeneratorTests", dependencies: ["Generator", "Renderer"], exclude: ["Scripts"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ScenesTests", dependencies: ["Scenes"]),
        .testTarget(name: "QualityReportTests", dependencies: ["QualityReport", "Scenes", "FrameIO"]),
        .testTarget(name: "CLITests", dependencies: ["t2v-render", "t2v-scenes"]),
    ],
    swiftLanguageModes: [.v5]
)
