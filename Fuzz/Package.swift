// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for t2v-render's parsers. Separate from the root package so that `swift test`
// never builds them. Build (see scripts/fuzz.sh):
//   swift build --package-path Fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
// Each target is an executable whose `main` comes from libFuzzer; the Swift file only defines
// `LLVMFuzzerTestOneInput`.
let package = Package(
    name: "t2v-render-fuzz",
    dependencies: [.package(name: "t2v-render", path: "..")],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(name: "FuzzSafeTensors", dependencies: ["FuzzDriver", .product(name: "Generator", package: "t2v-render")]),
        .executableTarget(name: "FuzzTokenizer", dependencies: ["FuzzDriver", .product(name: "Generator", package: "t2v-render")]),
        .executableTarget(name: "FuzzDataset", dependencies: ["FuzzDriver", .product(name: "FrameIO", package: "t2v-render")]),
        .executableTarget(name: "FuzzVideoReader", dependencies: ["FuzzDriver", .product(name: "FrameIO", package: "t2v-render")]),
    ],
    swiftLanguageModes: [.v5]
)
