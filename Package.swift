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
        .library(name: "AssetProcessing", targets: ["AssetProcessing"]),
        .library(name: "AssetJobs", targets: ["AssetJobs"]),
        .library(name: "AssetJournalSQLite", targets: ["AssetJournalSQLite"]),
        .library(name: "AssetQueuePostgres", targets: ["AssetQueuePostgres"]),
        .library(name: "AssetSourcesS3", targets: ["AssetSourcesS3"]),
        .library(name: "AssetPipeline", targets: ["AssetPipeline"]),
        .library(name: "AssetReport", targets: ["AssetReport"]),
        .library(name: "SigV4", targets: ["SigV4"]),
        .library(name: "ClassyAPI", targets: ["ClassyAPI"]),
        .library(name: "ClassySandbox", targets: ["ClassySandbox"]),
        .executable(name: "asset-worker", targets: ["asset-worker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3" ..< "5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // Metrics API in the library (no backend); Prometheus exposition in the CLI's `work --metrics-port`.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // Manifests (YAML/JSON, parsed to nodes so every problem keeps its line).
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        // The SQLite job journal (Debian: libsqlite3-dev).
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        // The shared job queue and source store on PostgreSQL (several workers, several machines).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // System libraries, found through pkg-config (Debian: libpng-dev, libjpeg-dev, libgif-dev).
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CGIF", pkgConfig: "libgif", providers: [.apt(["libgif-dev"])]),
        .systemLibrary(name: "CLCMS2", pkgConfig: "lcms2", providers: [.apt(["liblcms2-dev"])]),

        // Colour conversion to sRGB through Little CMS 2 (profiles parsed and applied in C).
        .target(name: "CColour", dependencies: ["CLCMS2"]),

        // The only C that talks to libpng and libjpeg: both report errors with
        // longjmp, so every setjmp lives here and no longjmp ever crosses a Swift frame.
        // PNG's whole-buffer reader inflates with libdeflate (Debian: libdeflate-dev).
        .target(name: "CImageCodecs", dependencies: ["CPNG", "CJPEG"], linkerSettings: [.linkedLibrary("deflate")]),

        // Which kernel implementation runs (CPU detection): the one home both kernel families dispatch from.
        .target(name: "CKernelChoice"),

        // Resampling kernels: portable C plus AVX2 / AVX-512 paths chosen at run time.
        .target(name: "CResample", dependencies: ["CKernelChoice"]),

        // Rotation and flip kernels (right angles, bicubic): portable C plus AVX2, chosen at run time.
        .target(name: "CGeometry", dependencies: ["CKernelChoice"]),

        // Pixel buffers, format detection, decode limits, the three codecs and the operations.
        .target(name: "Imaging", dependencies: ["CImageCodecs", "CKernelChoice", "CResample", "CGeometry", "CColour", "CPNG", "CJPEG", "CGIF"]),

        // AWS Signature V4 query-string (pre-signed URL) signing and verification.
        // Its own target because both the client side (tests) and the sandbox's
        // object store need it, and it only needs swift-crypto.
        .target(name: "SigV4", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),

        // The API's vocabulary every module shares (datetimes, documented limits), without network code.
        .target(name: "ClassyVocabulary", dependencies: ["SigV4"]),

        // Local processing (decode once, any actions) and its asset records: Imaging only,
        // so a caller that wants thumbnails links neither GRDB nor AsyncHTTPClient.
        .target(
            name: "AssetProcessing",
            dependencies: ["Imaging", "ClassyVocabulary", .product(name: "Crypto", package: "swift-crypto")]
        ),

        // The job store port (JobStore, claims, fences), the journal's rules, and an
        // in-memory store: value types only, so any storage can implement it from its own module.
        .target(name: "AssetJobs", dependencies: ["AssetProcessing", "ClassyVocabulary"]),

        // The SQLite journal (GRDB) for one machine: a JobStore.
        .target(
            name: "AssetJournalSQLite",
            dependencies: ["AssetJobs", "ClassyVocabulary", .product(name: "GRDB", package: "GRDB.swift")]
        ),

        // The PostgreSQL job store and source store, shared by workers on several machines.
        .target(
            name: "AssetQueuePostgres",
            dependencies: [
                "AssetJobs",
                "ClassyVocabulary",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // A source store in an S3-compatible bucket (AWS, MinIO, moto): pre-signed
        // requests through SigV4, so it needs no AWS SDK.
        .target(
            name: "AssetSourcesS3",
            dependencies: [
                "AssetJobs",
                "SigV4",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),

        // The contract every JobStore passes, as XCTest cases to subclass (test support only).
        .target(name: "JobStoreContract", dependencies: ["AssetJobs"], path: "Tests/JobStoreContract"),
        // The preview / report page (`plan --html`, `status --html`): a value model
        // rendered as one self-contained HTML page; images only, no network code.
        .target(name: "AssetReport", dependencies: ["AssetProcessing", "Imaging"]),

        // The Classy API 2.0 client and the asset upload flow, on AsyncHTTPClient.
        .target(
            name: "ClassyAPI",
            dependencies: [
                "SigV4",
                "ClassyVocabulary",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),

        // A local Classy (asset API + S3-compatible store) on Hummingbird, for
        // development and end-to-end tests without credentials or a network.
        .target(
            name: "ClassySandbox",
            dependencies: [
                "SigV4",
                // The API's documented limits and its process actions, shared with the client.
                "ClassyVocabulary",
                "Imaging",
                // `/process` names and converts its actions as local processing does.
                "AssetProcessing",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Manifests, the job lifecycle and the batch runner, over any JobStore (no storage of its own).
        .target(
            name: "AssetPipeline",
            dependencies: [
                "Imaging",
                "AssetProcessing",
                "AssetJobs",
                "ClassyAPI",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),

        .executableTarget(
            name: "asset-worker",
            dependencies: [
                "Imaging",
                "AssetPipeline",
                "AssetJournalSQLite",
                "AssetQueuePostgres",
                "AssetSourcesS3",
                "AssetReport",
                "ClassyAPI",
                "ClassySandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        .testTarget(
            name: "ImagingTests",
            dependencies: ["Imaging", .product(name: "Crypto", package: "swift-crypto")],
            resources: [.copy("Reference")]
        ),
        .testTarget(
            name: "AssetPipelineTests",
            dependencies: ["AssetPipeline", "AssetJournalSQLite", "AssetProcessing", "ClassyAPI", "ClassySandbox", "SigV4",
                           .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(name: "AssetJobsTests", dependencies: ["AssetJobs", "JobStoreContract"]),
        .testTarget(name: "AssetJournalSQLiteTests", dependencies: ["AssetJournalSQLite", "JobStoreContract"]),
        .testTarget(
            name: "AssetQueuePostgresTests",
            dependencies: ["AssetQueuePostgres", "AssetJournalSQLite", "JobStoreContract", .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
        .testTarget(
            name: "AssetSourcesS3Tests",
            dependencies: ["AssetSourcesS3", "AssetJobs", "SigV4", .product(name: "AsyncHTTPClient", package: "async-http-client")]
        ),
        .testTarget(name: "AssetProcessingTests", dependencies: ["AssetProcessing", "Imaging"]),
        .testTarget(name: "ClassyVocabularyTests", dependencies: ["ClassyVocabulary"]),
        // The page in a real browser (headless Chromium), and its rendering.
        .testTarget(
            name: "AssetReportTests",
            dependencies: ["AssetReport", "AssetProcessing", "Imaging"]
        ),
        .testTarget(
            name: "ClassyTests",
            dependencies: [
                "SigV4", "ClassyAPI", "ClassySandbox", "Imaging", "AssetProcessing",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Fixtures")]
        ),
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
