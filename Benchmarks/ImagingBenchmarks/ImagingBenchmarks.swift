import AssetPipeline
import Benchmark
import Foundation
import Imaging

// The core kernels, timed with ordo-one/benchmark. Inputs are the shared
// benchmark images (../shared/bench/images, or $ANCHORS_IMG), the same files
// ../shared/bench/compare.py puts beside the peer libraries.
//   ASSET_WORKER_BENCHMARKS=1 swift package benchmark
//   ASSET_WORKER_BENCHMARKS=1 swift package benchmark --filter "resize.*"

let imagesFolder: String = {
    if let folder = ProcessInfo.processInfo.environment["ANCHORS_IMG"] { return folder }
    let here = URL(fileURLWithPath: #filePath)
    return here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/bench/images").path
}()

func load(_ name: String) -> [UInt8] {
    let path = imagesFolder + "/" + name
    guard let bytes = try? ImageFile.read(path) else { fatalError("benchmark input missing: \(path)") }
    return bytes
}

func decoded(_ name: String) -> Image {
    guard let image = try? ImageDecoder.decode(load(name)) else { fatalError("cannot decode \(name)") }
    return image
}

/// One buffer the in-place benchmarks keep mutating (the harness runs iterations one at a time).
final class HeldPixels: @unchecked Sendable {
    var pixels: PixelBuffer
    init(_ pixels: PixelBuffer) { self.pixels = pixels }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(3),
        maxIterations: 200
    )

    // MARK: Decoding

    let jpeg24 = load("photo24mp.jpg")
    let pngRGBA = load("rgba2560.png")
    let gif800 = load("palette800.gif")
    Benchmark("decode JPEG 24MP full") { benchmark in
        blackHole(try ImageDecoder.decode(jpeg24))
    }
    Benchmark("decode JPEG 24MP DCT 1/8") { benchmark in
        blackHole(try ImageDecoder.decode(jpeg24, options: DecodeOptions(jpegShrink: .eighth)))
    }
    Benchmark("decode PNG RGBA 2560x1600") { benchmark in
        blackHole(try ImageDecoder.decode(pngRGBA))
    }
    // The same file through libpng alone, and the whole-buffer reader with the scalar unfiltering.
    Benchmark("decode PNG RGBA 2560x1600 (libpng reader)") { benchmark in
        blackHole(try ImageDecoder.decode(pngRGBA, options: DecodeOptions(pngReader: .libpng)))
    }
    Benchmark("decode PNG RGBA 2560x1600 (whole-buffer, portable kernels)") { benchmark in
        blackHole(try ImageDecoder.decode(pngRGBA, options: DecodeOptions(kernelPath: .portable)))
    }
    Benchmark("decode GIF 800x600") { benchmark in
        blackHole(try ImageDecoder.decode(gif800))
    }

    // MARK: Encoding

    let rgb = decoded("rgb2560.png")
    let rgba = decoded("rgba2560.png")
    Benchmark("encode JPEG q85 2560x1600") { benchmark in
        blackHole(try ImageEncoder.encode(rgb, as: .jpeg))
    }
    Benchmark("encode PNG RGBA 2560x1600") { benchmark in
        blackHole(try ImageEncoder.encode(rgba, as: .png))
    }

    // MARK: Resampling, one thread, each SIMD path the CPU has

    for path in KernelPath.supported {
        for filter in [ResampleFilter.lanczos3, .bicubic, .bilinear] {
            let options = ResampleOptions(filter: filter, threads: 1, path: path)
            Benchmark("resize RGB 2560x1600->320x200 \(filter.rawValue) \(path.rawValue)") { benchmark in
                blackHole(try rgb.pixels.resized(width: 320, height: 200, options: options))
            }
        }
        let lanczos = ResampleOptions(filter: .lanczos3, threads: 1, path: path)
        Benchmark("resize RGBA 2560x1600->320x200 lanczos3 \(path.rawValue)") { benchmark in
            blackHole(try rgba.pixels.resized(width: 320, height: 200, options: lanczos))
        }
        Benchmark("resize RGB 2560x1600->1280x800 lanczos3 \(path.rawValue)") { benchmark in
            blackHole(try rgb.pixels.resized(width: 1280, height: 800, options: lanczos))
        }
        Benchmark("resize RGB 2560x1600->5120x3200 lanczos3 \(path.rawValue)") { benchmark in
            blackHole(try rgb.pixels.resized(width: 5120, height: 3200, options: lanczos))
        }
    }
    for threads in [1, 2] {
        let options = ResampleOptions(filter: .lanczos3, threads: threads)
        Benchmark("resize RGB 2560x1600->5120x3200 lanczos3 threads=\(threads)") { benchmark in
            blackHole(try rgb.pixels.resized(width: 5120, height: 3200, options: options))
        }
    }

    // MARK: Geometry and end to end

    let photo = decoded("photo24mp.jpg")
    for degrees in [90.0, 180.0, 17.0] {
        let options = ProcessingOptions(threads: 1)
        Benchmark("rotate 24MP \(Int(degrees))") { benchmark in
            blackHole(try photo.applying(.rotate(degrees: degrees), outputHasAlpha: false, options: options))
        }
    }
    // The in-place half turn: no second 72 MB buffer (each iteration turns the same pixels again).
    for path in KernelPath.supported {
        let held = HeldPixels(photo.frames[0].pixels)
        Benchmark("half turn in place 24MP \(path.rawValue)") { benchmark in
            try held.pixels.turnHalfInPlace(threads: 1, path: path)
            blackHole(held.pixels.width)
        }
    }
    let processor = LocalProcessor(processing: ProcessingOptions(threads: 1))
    Benchmark("thumbnail 24MP JPEG -> 150x150 JPEG (in memory)") { benchmark in
        blackHole(try processor.process(bytes: jpeg24, actions: [.thumbnails([PixelSize(width: 150, height: 150)])]))
    }
}
