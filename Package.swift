// swift-tools-version: 6.1
import Foundation
import PackageDescription

// AssetWorker: local image processing (libpng, libjpeg-turbo, giflib) and the
// Classy API 2.0 asset upload flow. No unsafeFlags anywhere, so the package can
// be used as a dependency of other packages.
let package = Package(
    name: "AssetWorker",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Imaging", targets: ["Imaging"]),
        .library(name: "AssetPipeline", targets: ["AssetPipeline"]),
        .executable(name: "asset-worker", targets: ["asset-worker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3" ..< "5.0.0"),
    ],
    targets: [
        // System libraries, found through pkg-config (Debian: libpng-dev, libjpeg-dev, libgif-dev).
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CGIF", pkgConfig: "libgif", providers: [.apt(["libgif-dev"])]),

        // The only C that talks to libpng and libjpeg: both report errors with
        // longjmp, so every setjmp lives here and no longjmp ever crosses a Swift frame.
        .target(name: "CImageCodecs", dependencies: ["CPNG", "CJPEG"]),

        // Resampling kernels: portable C plus AVX2 / AVX-512 paths chosen at run time.
        .target(name: "CResample"),

        // Pixel buffers, format detection, decode limits and the three codecs.
        .target(name: "Imaging", dependencies: ["CImageCodecs", "CResample", "CPNG", "CJPEG", "CGIF"]),

        // Parent/child asset records, local processing plans, and (later) the upload flow.
        .target(
            name: "AssetPipeline",
            dependencies: ["Imaging", .product(name: "Crypto", package: "swift-crypto")]
        ),

        .executableTarget(
            name: "asset-worker",
            dependencies: [
                "Imaging",
                "AssetPipeline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        .testTarget(
            name: "ImagingTests",
            dependencies: ["Imaging", .product(name: "Crypto", package: "swift-crypto")],
            resources: [.copy("Reference")]
        ),
        .testTarget(name: "AssetPipelineTests", dependencies: ["AssetPipeline"]),
    ]
)

// Benchmarks (ordo-one/benchmark) live in Benchmarks/ and are only part of the
// package when asked for, so tests, CI and packages that depend on this one
// never resolve or build the benchmark harness:
//   ASSET_WORKER_BENCHMARKS=1 swift package benchmark
if ProcessInfo.processInfo.environment["ASSET_WORKER_BENCHMARKS"] != nil {
    package.dependencies.append(
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]))
    package.targets.append(
        .executableTarget(
            name: "ImagingBenchmarks",
            dependencies: ["Imaging", "AssetPipeline", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/ImagingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ))
}
