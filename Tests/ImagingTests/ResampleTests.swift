import Foundation
import XCTest
@testable import Imaging

/// Resampling: an independent float64 reference, path and thread
/// equivalence, Pillow's output on real photos, alpha edges and sizes.
final class ResampleTests: XCTestCase {
    // MARK: Float64 reference (written from the filter definitions, sharing no code with Sources/)

    /// Kernel values from the textbook formulas.
    static func kernel(_ filter: ResampleFilter, _ x: Double) -> Double {
        let t = abs(x)
        switch filter {
        case .nearest: return 0
        case .box: return (x > -0.5 && x <= 0.5) ? 1 : 0
        case .bilinear: return max(0, 1 - t)
        case .bicubic: // Keys, a = -0.5
            if t < 1 { return 1.5 * t * t * t - 2.5 * t * t + 1 }
            if t < 2 { return -0.5 * t * t * t + 2.5 * t * t - 4 * t + 2 }
            return 0
        case .mitchell: // B = C = 1/3, expanded
            if t < 1 { return (7 * t * t * t - 12 * t * t + 16.0 / 3.0) / 6 }
            if t < 2 { return (-7.0 / 3.0 * t * t * t + 12 * t * t - 20 * t + 32.0 / 3.0) / 6 }
            return 0
        case .lanczos3:
            if t == 0 { return 1 }
            if t >= 3 { return 0 }
            return 3 * sin(Double.pi * t) * sin(Double.pi * t / 3) / (Double.pi * Double.pi * t * t)
        }
    }

    static func kernelSupport(_ filter: ResampleFilter) -> Double {
        switch filter {
        case .nearest: 0
        case .box: 0.5
        case .bilinear: 1
        case .bicubic, .mitchell: 2
        case .lanczos3: 3
        }
    }

    /// For each output sample, every input with a non-zero weight.
    static func referenceTaps(_ filter: ResampleFilter, inSize: Int, outSize: Int) -> [[(Int, Double)]] {
        let scale = Double(inSize) / Double(outSize)
        return (0 ..< outSize).map { i in
            let centre = (Double(i) + 0.5) * scale
            if filter == .nearest { return [(min(Int(centre.rounded(.down)), inSize - 1), 1.0)] }
            let stretch = max(scale, 1)
            // Pillow's window: the inputs within the support, rounded to whole
            // pixels. It decides ties where an input sits exactly on the box's edge.
            let support = kernelSupport(filter) * stretch
            let window = max(0, Int(centre - support + 0.5)) ..< min(Int(centre + support + 0.5), inSize)
            var taps: [(Int, Double)] = []
            for j in window {
                // Evaluated in Pillow's order, so an input exactly on the box
                // filter's edge (e.g. 3.3x) falls on the same side as there.
                let w = kernel(filter, (Double(j) - centre + 0.5) * (1 / stretch))
                if w != 0 { taps.append((j, w)) }
            }
            let total = taps.reduce(0) { $0 + $1.1 }
            return taps.map { ($0.0, $0.1 / total) }
        }
    }

    /// Horizontal then vertical, each result clamped to [0, 255] like an
    /// 8-bit intermediate but not rounded. An axis that keeps its size is skipped.
    static func referenceResize(_ samples: [Double], width: Int, height: Int, channels c: Int,
                                to outWidth: Int, _ outHeight: Int, filter: ResampleFilter) -> [Double] {
        var rows = samples
        var w = width
        if outWidth != width {
            let taps = referenceTaps(filter, inSize: width, outSize: outWidth)
            var next = [Double](repeating: 0, count: outWidth * height * c)
            for y in 0 ..< height {
                for x in 0 ..< outWidth {
                    for ch in 0 ..< c {
                        var s = 0.0
                        for (j, wt) in taps[x] { s += wt * rows[(y * w + j) * c + ch] }
                        next[(y * outWidth + x) * c + ch] = min(max(s, 0), 255)
                    }
                }
            }
            rows = next
            w = outWidth
        }
        if outHeight != height {
            let taps = referenceTaps(filter, inSize: height, outSize: outHeight)
            var next = [Double](repeating: 0, count: w * outHeight * c)
            for y in 0 ..< outHeight {
                for i in 0 ..< w * c {
                    var s = 0.0
                    for (j, wt) in taps[y] { s += wt * rows[j * w * c + i] }
                    next[y * w * c + i] = min(max(s, 0), 255)
                }
            }
            rows = next
        }
        return rows
    }

    // MARK: Inputs


    static func random(width: Int, height: Int, layout: PixelLayout, seed: UInt64) -> PixelBuffer {
        var rng = SplitMix64(seed: seed)
        let bytes = (0 ..< width * height * layout.channels).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        return PixelBuffer(width: width, height: height, layout: layout, bytes: bytes)
    }

    static func crop(_ p: PixelBuffer, x: Int, y: Int, width: Int, height: Int) -> PixelBuffer {
        let c = p.channels
        var out: [UInt8] = []
        out.reserveCapacity(width * height * c)
        for row in y ..< y + height {
            let start = (row * p.width + x) * c
            out += p.bytes[start ..< start + width * c]
        }
        return PixelBuffer(width: width, height: height, layout: p.layout, bytes: out)
    }

    /// Adds a smooth alpha with fully transparent and fully opaque areas.
    static func withRampAlpha(_ p: PixelBuffer) -> PixelBuffer {
        let target = p.layout.withAlpha
        var q = p.converted(to: target)
        let c = target.channels
        for y in 0 ..< p.height {
            for x in 0 ..< p.width {
                let v = Double(x) / Double(max(1, p.width - 1)) * 1.6 - 0.3 + 0.2 * sin(Double(y) / 5)
                q.bytes[(y * p.width + x) * c + c - 1] = UInt8(min(max(v, 0), 1) * 255)
            }
        }
        return q
    }

    static func sharedFile(_ relativePath: String) throws -> [UInt8] {
        let url = try Corpus.require().deletingLastPathComponent().appendingPathComponent(relativePath)
        guard FileManager.default.fileExists(atPath: url.path) else {
            if Corpus.isCI { XCTFail("missing \(url.path)") }
            throw XCTSkip("missing \(url.path)")
        }
        return [UInt8](try Data(contentsOf: url))
    }

    static func photo() throws -> PixelBuffer {
        try ImageDecoder.decode(Corpus.bytes("png/photo/kodim23.png")).pixels
    }

    // MARK: Comparison with the reference

    /// Our bytes against the float reference: colour within +-1; with alpha,
    /// alpha within +-1 and premultiplied colour within +-2 of the unrounded
    /// reference (+-1 for the resampling, up to 0.5 more for the final
    /// rounding, which the other comparisons absorb by rounding the reference,
    /// and 0.5 for storing the colour unpremultiplied in 8 bits).
    static func assertMatchesReference(_ input: PixelBuffer, width: Int, height: Int, filter: ResampleFilter,
                                       path: ResamplePath, file: StaticString = #filePath, line: UInt = #line) throws {
        let out = try input.resized(width: width, height: height, options: .init(filter: filter, threads: 1, path: path))
        XCTAssertEqual(out.width, width, file: file, line: line)
        XCTAssertEqual(out.height, height, file: file, line: line)
        let c = input.channels
        var samples = input.bytes.map(Double.init)
        if input.layout.hasAlpha {
            // The definition premultiplies with exact rounding before resampling.
            for p in 0 ..< input.pixelCount {
                let a = samples[p * c + c - 1]
                for ch in 0 ..< c - 1 { samples[p * c + ch] = (samples[p * c + ch] * a / 255).rounded() }
            }
        }
        let ref = referenceResize(samples, width: input.width, height: input.height, channels: c,
                                  to: width, height, filter: filter)
        var worst = 0.0
        for p in 0 ..< width * height {
            if input.layout.hasAlpha {
                let a = Double(out.bytes[p * c + c - 1])
                let refAlpha = ref[p * c + c - 1]
                worst = max(worst, abs(a - refAlpha.rounded()))
                for ch in 0 ..< c - 1 {
                    // Colour above alpha (ringing) cannot be stored: it unpremultiplies to 255.
                    let premultiplied = Double(out.bytes[p * c + ch]) * a / 255
                    worst = max(worst, abs(premultiplied - min(ref[p * c + ch], refAlpha)) - 1)
                }
            } else {
                for ch in 0 ..< c {
                    worst = max(worst, abs(Double(out.bytes[p * c + ch]) - ref[p * c + ch].rounded()))
                }
            }
        }
        XCTAssertLessThanOrEqual(worst, 1.0, "\(input.width)x\(input.height) \(input.layout) -> \(width)x\(height) \(filter) \(path)",
                                 file: file, line: line)
    }

    /// (input size, output size): down 8x, 3.3x, 2x, 1.5x; up 1.7x, 2x; and single-axis changes.
    static let ratios: [(Int, Int, Int, Int)] = [
        (96, 64, 12, 8), (66, 50, 20, 15), (64, 48, 32, 24), (60, 45, 40, 30),
        (30, 20, 51, 34), (24, 18, 48, 36), (40, 30, 40, 13), (40, 30, 17, 30),
    ]

    func testMatchesFloatReferenceOnRandomPixels() throws {
        for path in ResamplePath.supported {
            for (i, (w, h, ow, oh)) in Self.ratios.enumerated() {
                for layout in [PixelLayout.gray, .rgb, .rgba, .grayAlpha] {
                    let input = Self.random(width: w, height: h, layout: layout, seed: UInt64(i * 10 + layout.rawValue))
                    for filter in ResampleFilter.allCases {
                        try Self.assertMatchesReference(input, width: ow, height: oh, filter: filter, path: path)
                    }
                }
            }
        }
    }

    func testMatchesFloatReferenceOnPhotoCrops() throws {
        let photo = try Self.photo()
        let rgb = Self.crop(photo, x: 280, y: 180, width: 120, height: 90)
        let inputs = [rgb, rgb.converted(to: .gray), Self.withRampAlpha(rgb)]
        let sizes = [(15, 11), (36, 27), (60, 45), (80, 60), (204, 153), (240, 180)]
        for path in ResamplePath.supported {
            for input in inputs {
                for (ow, oh) in sizes {
                    for filter in ResampleFilter.allCases {
                        try Self.assertMatchesReference(input, width: ow, height: oh, filter: filter, path: path)
                    }
                }
            }
        }
    }

    // MARK: Paths and threads

    func testEverySupportedPathGivesThePortableBytes() throws {
        XCTAssertTrue(ResamplePath.supported.contains(.portable))
        let photo = try Self.photo()
        let crop = Self.crop(photo, x: 100, y: 50, width: 133, height: 91)
        let inputs = PixelLayout.allCases.map { crop.converted(to: $0) } + [Self.withRampAlpha(crop)]
        let sizes = [(16, 11), (41, 26), (132, 91), (133, 40), (227, 150), (7, 100)]
        for input in inputs {
            for (ow, oh) in sizes {
                for filter in ResampleFilter.allCases {
                    let portable = try input.resized(width: ow, height: oh, options: .init(filter: filter, threads: 1, path: .portable))
                    for path in ResamplePath.supported + [.automatic] {
                        let other = try input.resized(width: ow, height: oh, options: .init(filter: filter, threads: 1, path: path))
                        XCTAssertEqual(Self.differingBytes(other, portable), 0, "\(input.layout) \(ow)x\(oh) \(filter) \(path)")
                    }
                }
            }
        }
    }

    static func differingBytes(_ a: PixelBuffer, _ b: PixelBuffer) -> Int {
        precondition(a.bytes.count == b.bytes.count)
        return zip(a.bytes, b.bytes).reduce(0) { $0 + ($1.0 == $1.1 ? 0 : 1) }
    }

    func testThreadCountDoesNotChangePixels() throws {
        let photo = try Self.photo()
        let crop = Self.crop(photo, x: 200, y: 100, width: 200, height: 150)
        let inputs = [crop, Self.withRampAlpha(crop)]
        for input in inputs {
            for (ow, oh) in [(37, 23), (input.width * 2 - 3, input.height * 2 + 5)] {
                for linear in [false, true] {
                    for path in ResamplePath.supported {
                        let one = try input.resized(width: ow, height: oh, options: .init(threads: 1, linearLight: linear, path: path))
                        for threads in [2, 7] {
                            let many = try input.resized(width: ow, height: oh, options: .init(threads: threads, linearLight: linear, path: path))
                            XCTAssertEqual(Self.differingBytes(many, one), 0, "\(input.layout) \(ow)x\(oh) threads \(threads) linear \(linear) \(path)")
                        }
                    }
                }
            }
        }
    }

    // MARK: Pillow on real photos

    static func psnr(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count)
        let mse = zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(a.count)
        return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }

    /// Samples for PSNR; with alpha, colour is compared premultiplied, since
    /// the colour of nearly transparent pixels is not visible.
    static func visibleSamples(_ p: PixelBuffer) -> [Double] {
        guard p.layout.hasAlpha else { return p.bytes.map(Double.init) }
        let c = p.channels
        var out: [Double] = []
        for i in 0 ..< p.pixelCount {
            let a = Double(p.bytes[i * c + c - 1])
            for ch in 0 ..< c - 1 { out.append(Double(p.bytes[i * c + ch]) * a / 255) }
            out.append(a)
        }
        return out
    }

    func testCloseToPillowOnRealPhotos() throws {
        let folder = Corpus.projectRoot.appendingPathComponent("Tests/ImagingTests/Reference/resample")
        let table = try String(contentsOf: folder.appendingPathComponent("cases.tsv"), encoding: .utf8)
        let rows = table.split(separator: "\n").filter { !$0.hasPrefix("#") }.dropFirst()
        XCTAssertGreaterThanOrEqual(rows.count, 10)
        var decoded: [String: PixelBuffer] = [:]
        for row in rows {
            let f = row.split(separator: "\t").map(String.init)
            let (name, input) = (f[0], f[1])
            let n = f[2 ... 7].map { Int($0)! }
            let filter = try XCTUnwrap(ResampleFilter(rawValue: f[8]))
            if decoded[input] == nil { decoded[input] = try ImageDecoder.decode(Self.sharedFile(input)).pixels }
            let source = Self.crop(decoded[input]!, x: n[0], y: n[1], width: n[2], height: n[3])
            let expected = try ImageDecoder.decode([UInt8](Data(contentsOf: folder.appendingPathComponent(name)))).pixels
            let ours = try source.resized(width: n[4], height: n[5], options: .init(filter: filter))
            XCTAssertEqual(ours.width, expected.width)
            XCTAssertEqual(ours.height, expected.height)
            let a = Self.visibleSamples(ours), b = Self.visibleSamples(expected.converted(to: ours.layout))
            let value = Self.psnr(a, b)
            XCTAssertGreaterThanOrEqual(value, 40, "\(name): PSNR \(value) dB")
            // Same kernels and windows as Pillow: only fixed-point rounding may differ.
            let largest = zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
            XCTAssertLessThanOrEqual(largest, 2, "\(name): largest difference from Pillow")
        }
    }

    // MARK: Alpha

    /// An opaque red disc on a fully transparent background of the given colour.
    static func disc(size: Int, background: [UInt8]) -> PixelBuffer {
        var p = PixelBuffer(width: size, height: size, layout: .rgba)
        let r = Double(size) * 0.3, centre = Double(size) / 2
        for y in 0 ..< size {
            for x in 0 ..< size {
                let d = hypot(Double(x) + 0.5 - centre, Double(y) + 0.5 - centre)
                let px: [UInt8] = d < r ? [255, 0, 0, 255] : background
                for c in 0 ..< 4 { p.bytes[(y * size + x) * 4 + c] = px[c] }
            }
        }
        return p
    }

    func testNoFringeAroundTransparentEdges() throws {
        for background: [UInt8] in [[0, 0, 0, 0], [0, 255, 0, 0], [255, 255, 255, 0]] {
            let disc = Self.disc(size: 64, background: background)
            for filter in ResampleFilter.allCases {
                for linear in [false, true] {
                    for (w, h) in [(23, 23), (9, 13), (150, 150), (64, 97)] {
                        let out = try disc.resized(width: w, height: h, options: .init(filter: filter, linearLight: linear))
                        var visible = 0
                        for i in 0 ..< w * h where out.bytes[i * 4 + 3] > 0 {
                            visible += 1
                            let px = Array(out.bytes[i * 4 ..< i * 4 + 3])
                            XCTAssert(px[0] >= 254 && px[1] <= 1 && px[2] <= 1,
                                      "fringe \(px) at \(i % w),\(i / w) \(filter) \(w)x\(h) linear \(linear) bg \(background)")
                        }
                        XCTAssertGreaterThan(visible, 0)
                    }
                }
            }
        }
    }

    func testTransparentPixelsHaveZeroColour() throws {
        let disc = Self.disc(size: 40, background: [0, 255, 0, 0])
        let out = try disc.resized(width: 80, height: 80, options: .init(filter: .bilinear))
        for i in 0 ..< 80 * 80 where out.bytes[i * 4 + 3] == 0 {
            XCTAssertEqual(Array(out.bytes[i * 4 ..< i * 4 + 3]), [0, 0, 0])
        }
    }

    // MARK: Linear light

    func testLinearLightAveragesLightNotCodeValues() throws {
        var checker = PixelBuffer(width: 16, height: 16, layout: .gray)
        for y in 0 ..< 16 { for x in 0 ..< 16 where (x + y) % 2 == 0 { checker.bytes[y * 16 + x] = 255 } }
        let plain = try checker.resized(width: 8, height: 8, options: .init(filter: .box))
        let linear = try checker.resized(width: 8, height: 8, options: .init(filter: .box, linearLight: true))
        // Half the light of white is sRGB 0.7354, i.e. 187.5.
        XCTAssertTrue(linear.bytes.allSatisfy { $0 == 187 || $0 == 188 }, "\(Set(linear.bytes))")
        XCTAssertTrue(plain.bytes.allSatisfy { $0 == 127 || $0 == 128 }, "\(Set(plain.bytes))")
    }

    func testLinearLightKeepsFlatColoursExactly() throws {
        for v: UInt8 in [0, 1, 2, 17, 128, 254, 255] {
            let flat = PixelBuffer(width: 37, height: 23, layout: .rgb, bytes: [UInt8](repeating: v, count: 37 * 23 * 3))
            for filter in ResampleFilter.allCases {
                let out = try flat.resized(width: 11, height: 50, options: .init(filter: filter, linearLight: true))
                XCTAssertTrue(out.bytes.allSatisfy { $0 == v }, "\(v) \(filter) -> \(Set(out.bytes))")
            }
        }
    }

    // MARK: Sizes

    func testFlatImagesStayExactlyFlat() throws {
        for layout in PixelLayout.allCases {
            let pixel: [UInt8] = Array([200, 7, 99, 255].suffix(layout.channels))
            let flat = PixelBuffer(width: 50, height: 31, layout: layout, bytes: pixel.repeated(50 * 31))
            for filter in ResampleFilter.allCases {
                for path in ResamplePath.supported {
                    for (w, h) in [(7, 3), (120, 77), (50, 5), (1, 1)] {
                        let out = try flat.resized(width: w, height: h, options: .init(filter: filter, path: path))
                        let wrong = out.bytes.indices.filter { out.bytes[$0] != pixel[$0 % layout.channels] }
                        XCTAssertTrue(wrong.isEmpty, "\(layout) \(filter) \(path) \(w)x\(h): \(wrong.count) samples differ")
                    }
                }
            }
        }
    }

    func testLowAlphaColourKeepsEightBitPremultipliedPrecision() throws {
        // Gray 200 at alpha 7 premultiplies to round(200 * 7 / 255) = 5 and
        // comes back as round(5 * 255 / 7) = 182: the documented cost of 8-bit premultiplication.
        let flat = PixelBuffer(width: 20, height: 20, layout: .grayAlpha, bytes: [200, 7].repeated(400))
        let out = try flat.resized(width: 9, height: 31)
        XCTAssertEqual(Set(out.bytes.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)), [182])
        XCTAssertEqual(Set(out.bytes.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)), [7])
    }

    func testDegenerateSizes() throws {
        let photo = try Self.photo()
        let cases: [(PixelBuffer, Int, Int)] = [
            (Self.crop(photo, x: 5, y: 0, width: 1, height: 300), 1, 77),
            (Self.crop(photo, x: 5, y: 0, width: 1, height: 300), 9, 1),
            (Self.crop(photo, x: 0, y: 9, width: 300, height: 1), 61, 1),
            (Self.crop(photo, x: 0, y: 9, width: 300, height: 1), 1, 5),
            (Self.crop(photo, x: 3, y: 3, width: 1, height: 1), 1, 1),
            (Self.crop(photo, x: 3, y: 3, width: 1, height: 1), 17, 3),
            (Self.crop(photo, x: 0, y: 0, width: 7, height: 5), 1, 1),
            (Self.withRampAlpha(Self.crop(photo, x: 0, y: 0, width: 3, height: 2)), 5, 1),
        ]
        for (input, w, h) in cases {
            for filter in ResampleFilter.allCases {
                for path in ResamplePath.supported {
                    try Self.assertMatchesReference(input, width: w, height: h, filter: filter, path: path)
                }
            }
        }
    }

    func testSameSizeIsIdentity() throws {
        let photo = try Self.photo()
        for filter in ResampleFilter.allCases {
            XCTAssertEqual(try photo.resized(width: photo.width, height: photo.height, options: .init(filter: filter)), photo)
        }
        // A 3x enlargement puts every third output centre exactly on an input
        // centre, where interpolating kernels return the input sample itself
        // (Mitchell is not interpolating and is left out).
        let crop = Self.crop(photo, x: 0, y: 0, width: 64, height: 48)
        for filter in [ResampleFilter.nearest, .box, .bilinear, .bicubic, .lanczos3] {
            for path in ResamplePath.supported {
                let big = try crop.resized(width: 192, height: 144, options: .init(filter: filter, path: path))
                for y in 0 ..< 48 {
                    for x in 0 ..< 64 {
                        XCTAssertEqual(big.pixel(x: 3 * x + 1, y: 3 * y + 1), crop.pixel(x: x, y: y), "\(filter) \(path) at \(x),\(y)")
                    }
                }
            }
        }
    }

    func testExtremeRatios() throws {
        // 4000 -> 1: a horizontal ramp averages to its mean.
        let ramp = PixelBuffer(width: 4000, height: 2, layout: .gray, bytes: (0 ..< 8000).map { UInt8(($0 % 4000) * 256 / 4000) })
        for filter in ResampleFilter.allCases where filter != .nearest {
            let out = try ramp.resized(width: 1, height: 1, options: .init(filter: filter))
            XCTAssertEqual(Double(out.bytes[0]), 127.5, accuracy: 1.5, "\(filter)")
        }
        let tall = Self.random(width: 3, height: 4000, layout: .rgb, seed: 42)
        for path in ResamplePath.supported {
            try Self.assertMatchesReference(tall, width: 2, height: 1, filter: .box, path: path)
            try Self.assertMatchesReference(tall, width: 3, height: 7, filter: .lanczos3, path: path)
        }
        // 1 -> 3000 repeats the pixel.
        let dot = PixelBuffer(width: 1, height: 1, layout: .rgba, bytes: [10, 20, 30, 255])
        let big = try dot.resized(width: 3000, height: 2)
        XCTAssertTrue(big.bytes == [UInt8](dot.bytes).repeated(6000), "1x1 -> 3000x2 is not a copy of the pixel")
    }

    func testInvalidSizesThrowInvalidArgument() {
        let p = PixelBuffer(width: 4, height: 4, layout: .rgb)
        for (w, h) in [(0, 4), (4, 0), (-1, 4), (4, -3), (1 << 20, 4), (60000, 60000)] {
            XCTAssertThrowsError(try p.resized(width: w, height: h)) { error in
                XCTAssertEqual((error as? ImagingError)?.code, .invalidArgument, "\(w)x\(h)")
            }
        }
        XCTAssertThrowsError(try p.resized(width: 2, height: 2, options: .init(threads: 0))) { error in
            XCTAssertEqual((error as? ImagingError)?.code, .invalidArgument)
        }
        let empty = PixelBuffer(width: 0, height: 3, layout: .gray)
        XCTAssertThrowsError(try empty.resized(width: 2, height: 2)) { error in
            XCTAssertEqual((error as? ImagingError)?.code, .invalidArgument)
        }
    }
}

private extension Array {
    func repeated(_ times: Int) -> [Element] {
        var out: [Element] = []
        out.reserveCapacity(count * times)
        for _ in 0 ..< times { out += self }
        return out
    }
}
