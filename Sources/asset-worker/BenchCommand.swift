import ArgumentParser
import Foundation
import AssetPipeline
import Imaging

/// `asset-worker bench FILE --stage ...`: times one stage in process and prints
/// one JSON object as its last line (`median_ms`, `min_ms`, `max_ms`, `cpu_ms`, `cpu_min_ms`, `cpu_mean_ms`, `n`).
/// `../shared/bench/compare.py` calls exactly these flags.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time decoding, encoding or an action on one image, in process.",
        discussion: """
        decode: bytes in memory -> pixels (with --shrink for JPEG DCT scaling). encode: already-decoded pixels -> bytes \
        in memory (--format, --quality). op: one action (same flags as process) on an already-decoded image. \
        A rotation consumes the image as a pipeline's last action does (each iteration gets its own copy, made \
        before its timing starts, so a half turn works in place); --keep-source times the call that leaves the \
        decoded image as it is (a fresh output per call) instead. \
        end-to-end: file -> decode (shrink-on-load for JPEG thumbnails) -> action -> encode -> file. \
        hash: the SHA-256 of the file's bytes in memory, as end-to-end computes it for the source's record \
        (with decode --shrink 8, the floor T3's end-to-end goal is measured against). \
        cpu_ms is the median over iterations of the process CPU time (as the peers report it); cpu_mean_ms the mean.
        """
    )

    enum Stage: String, ExpressibleByArgument, CaseIterable {
        case decode, encode, op
        case endToEnd = "end-to-end"
        case hash
    }

    @Argument(help: "The input image.")
    var file: String

    @OptionGroup var actionFlags: ActionFlags

    @Option(help: "What to time: \(Stage.allCases.map(\.rawValue).joined(separator: ", ")).")
    var stage: Stage

    @Option(help: "JPEG shrink-on-load factor for --stage decode: 2, 4 or 8.")
    var shrink: Int = 1

    @Option(help: "Output format for --stage encode: png, jpeg or gif (default: the input's).")
    var format: ImageFormat?

    @OptionGroup var jpegFlags: JPEGEncodingFlags

    @Option(help: ArgumentHelp("PNG zlib level for --stage encode.", visibility: .hidden))
    var pngLevel: Int?

    @Option(help: ArgumentHelp("PNG zlib strategy for --stage encode: standard, filtered, rle.", visibility: .hidden))
    var pngStrategy: String?

    @Option(help: "Worker threads (stages that are single-threaded by nature ignore it).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: ArgumentHelp("PNG reader for --stage decode: automatic (whole-buffer where it applies) or libpng.",
                               visibility: .hidden))
    var pngReader: PNGReader = .automatic

    @Option(help: ArgumentHelp("Kernel path for --stage op and decode: automatic, portable, avx2, avx512 (to compare paths side by side).",
                               visibility: .hidden))
    var kernelPath: KernelPath = .automatic

    @Flag(help: ArgumentHelp("For a --stage op rotation: time the call that keeps the decoded image (a new output per call).",
                             visibility: .hidden))
    var keepSource = false

    @Option(help: "Timed iterations (after one untimed warm-up).")
    var iterations: Int = 10

    @Flag(help: "Print the result as JSON (the last line of output).")
    var json = false

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard iterations > 0 else { throw ValidationError("--iterations must be at least 1") }
        guard JPEGShrink(rawValue: shrink) != nil else { throw ValidationError("--shrink must be 1, 2, 4 or 8") }
    }

    func run() throws {
        let bytes: [UInt8]
        do {
            bytes = try ImageFile.read(file)
        } catch {
            printError(error)
            throw ExitCode(ExitStatus.dataError)
        }
        let task: () throws(ImagingError) -> Void
        var prepare: () -> Void = {}
        switch stage {
        case .decode:
            guard kernelPath.isSupported else { throw ValidationError("this CPU cannot run kernel path \(kernelPath.rawValue)") }
            let options = DecodeOptions(jpegShrink: JPEGShrink(rawValue: shrink)!, keepColorProfile: false,
                                        pngReader: pngReader, kernelPath: kernelPath)
            task = { () throws(ImagingError) in _ = try ImageDecoder.decode(bytes, options: options) }
        case .encode:
            let image = try decodedOrExit(bytes)
            let target = format ?? image.sourceFormat ?? .png
            var options = jpegFlags.encodeOptions
            if let pngLevel { options.png.compressionLevel = pngLevel }
            if let pngStrategy, let strategy = PNGEncodeOptions.Strategy(rawValue: pngStrategy) { options.png.strategy = strategy }
            // With the tuning flags, say how large the output is (one extra encode, outside the timing).
            if target == .png, pngLevel != nil || pngStrategy != nil, let size = try? ImageEncoder.encode(image, as: target, options: options).count {
                FileHandle.standardError.write(Data("encoded size: \(size) bytes\n".utf8))
            }
            task = { () throws(ImagingError) in _ = try ImageEncoder.encode(image, as: target, options: options) }
        case .op:
            let actions = try actionFlags.actions()
            guard actions.count == 1, let action = actions.first else {
                throw ValidationError("--stage op times exactly one action (--thumbnails, --crop, --scale or --rotate)")
            }
            let image = try decodedOrExit(bytes)
            guard kernelPath.isSupported else { throw ValidationError("this CPU cannot run kernel path \(kernelPath.rawValue)") }
            let processing = ProcessingOptions(filter: actionFlags.filter, threads: threads, kernelPath: kernelPath)
            let hasAlpha = (format ?? image.sourceFormat ?? .png) != .jpeg
            if case .rotate = action, !keepSource {
                // What a pipeline does with the image it decoded when the rotation is its last use of it.
                var held: Image?
                prepare = { held = Self.ownCopy(of: image) }
                task = { () throws(ImagingError) in
                    _ = try held.take()!.applyingConsuming(action, outputHasAlpha: hasAlpha, options: processing)
                }
            } else {
                task = { () throws(ImagingError) in _ = try image.applying(action, outputHasAlpha: hasAlpha, options: processing) }
            }
        case .hash:
            task = { () throws(ImagingError) in _ = LocalProcessor.sha256(bytes) }
        case .endToEnd:
            let actions = try actionFlags.actions()
            guard !actions.isEmpty else { throw ValidationError("--stage end-to-end needs an action") }
            let processor = LocalProcessor(processing: ProcessingOptions(filter: actionFlags.filter, threads: threads),
                                           encoding: jpegFlags.encodeOptions, outputFormat: format)
            let outputDirectory = FileManager.default.temporaryDirectory
                .appendingPathComponent("asset-worker-bench-\(getpid())").path
            let source = file
            defer { try? FileManager.default.removeItem(atPath: outputDirectory) }
            task = { () throws(ImagingError) in
                _ = try processor.processSynchronously(file: source, actions: actions, outputDirectory: outputDirectory)
            }
        }
        let result: Timing.Result
        do {
            result = try Timing.measure(iterations: iterations, prepare: prepare, task)
        } catch {
            printError(error)
            throw ExitCode(ExitStatus.dataError)
        }
        if json {
            JSONLine.print(result)
        } else {
            print(String(format: "%@ %@: median %.3f ms, min %.3f, max %.3f, cpu median %.3f ms (mean %.3f), n=%d",
                         stage.rawValue, file, result.median_ms, result.min_ms, result.max_ms, result.cpu_ms,
                         result.cpu_mean_ms, result.n))
        }
    }

    /// A copy of `image` whose pixels nothing else holds, written (so faulted in) like a decoder's output.
    private static func ownCopy(of image: Image) -> Image {
        var copy = image
        for index in copy.frames.indices {
            let source = copy.frames[index].pixels
            copy.frames[index].pixels = PixelBuffer(width: source.width, height: source.height, layout: source.layout) { out in
                source.bytes.withUnsafeBytes { out.copyMemory(from: $0) }
            }
        }
        return copy
    }

    /// The source decoded once, outside the timing; a refused file exits 65.
    private func decodedOrExit(_ bytes: [UInt8]) throws -> Image {
        do {
            return try ImageDecoder.decode(bytes)
        } catch {
            printError(error)
            throw ExitCode(ExitStatus.dataError)
        }
    }

    private func printError(_ error: ImagingError) {
        FileHandle.standardError.write(Data("asset-worker bench: \(error)\n".utf8))
    }
}

extension KernelPath: ExpressibleByArgument {}
extension PNGReader: ExpressibleByArgument {}

extension ImageFormat: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument.lowercased() {
        case "png": self = .png
        case "jpeg", "jpg": self = .jpeg
        case "gif": self = .gif
        default: return nil
        }
    }
}

/// Wall-clock and process-CPU timing of a repeated task.
///
/// `cpu_ms` is the median over iterations of the process CPU time each one
/// took, the statistic the peers in ../shared/bench report (Python's
/// `time.process_time()` per iteration), so their ratios compare like with
/// like; `cpu_mean_ms` keeps the mean (total CPU / iterations) beside it.
enum Timing {
    struct Result: Encodable {
        var median_ms: Double
        var min_ms: Double
        var max_ms: Double
        var cpu_ms: Double
        var cpu_min_ms: Double
        var cpu_mean_ms: Double
        var n: Int
    }

    /// `prepare` runs before each call (the warm-up too), outside the timing.
    static func measure(iterations: Int, prepare: () -> Void = {},
                        _ task: () throws(ImagingError) -> Void) throws(ImagingError) -> Result {
        prepare()
        try task() // warm-up: first-touch page faults, lazy library initialisation
        var wall: [Double] = [], cpu: [Double] = []
        wall.reserveCapacity(iterations)
        cpu.reserveCapacity(iterations)
        for _ in 0 ..< iterations {
            prepare()
            let cpuStart = processCPUSeconds()
            let start = ContinuousClock.now
            try task()
            let elapsed = ContinuousClock.now - start
            cpu.append((processCPUSeconds() - cpuStart) * 1000)
            wall.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        }
        return Result(median_ms: median(wall), min_ms: wall.min()!, max_ms: wall.max()!,
                      cpu_ms: median(cpu), cpu_min_ms: cpu.min()!,
                      cpu_mean_ms: cpu.reduce(0, +) / Double(iterations), n: iterations)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// CPU time of the whole process (all threads), nanosecond clock.
    static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
