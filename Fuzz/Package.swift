// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets for the PNG, JPEG and GIF decoders (and the encoders, on
// whatever decodes). A separate package so the root package keeps no
// sanitizer flags and CI never builds this. Build and run with
// `bash scripts/fuzz.sh <png|jpeg|gif> <seconds>` from the repository root;
// see docs/fuzzing.md.
let package = Package(
    name: "AssetWorkerFuzz",
    dependencies: [
        .package(name: "AssetWorker", path: ".."),
    ],
    targets: [
        // One fuzzer binary; the format is chosen with FUZZ_FORMAT=png|jpeg|gif.
        // Built with `--sanitize fuzzer --sanitize address`, so libFuzzer supplies `main`
        // (the target has no main.swift and is compiled with -parse-as-library).
        .executableTarget(
            name: "ImagingFuzzer",
            dependencies: [.product(name: "Imaging", package: "AssetWorker")]
        ),
    ]
)
