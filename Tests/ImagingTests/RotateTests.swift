import Foundation
import XCTest
@testable import Imaging

/// The rotate action's kernels: exact right-angle moves and flips against a
/// per-pixel loop, and arbitrary angles against a float64 bicubic reference
/// written here independently of the C code.
final class RotateTests: XCTestCase {
    // MARK: Right angles and flips

    private static let oddSizes = [(1, 1), (1, 9), (9, 1), (17, 5), (70, 33), (8, 8), (16, 24), (100, 37), (33, 70)]

    func testEveryOrientationMatchesAPerPixelLoopOnEveryPathAndThreadCount() throws {
        for layout in PixelLayout.allCases {
            for (w, h) in Self.oddSizes {
                let image = Self.randomImage(width: w, height: h, layout: layout, seed: UInt64(w * 131 + h))
                for exif in 1 ... 8 {
                    let expected = Self.referenceOrientation(image, exif: exif)
                    for path in ResamplePath.supported {
                        for threads in [1, 3] {
                            let got = try image.applyingOrientation(exif, threads: threads, path: path)
                            XCTAssertEqual(got, expected, "\(layout) \(w)x\(h) exif \(exif) \(path) threads \(threads)")
                        }
                    }
                }
            }
        }
    }

    func testLargeRightAnglesAreThreadInvariantOnEveryPath() throws {
        // Big enough for several bands and stripes, sizes off every tile multiple.
        for layout in PixelLayout.allCases {
            let image = Self.randomImage(width: 301, height: 203, layout: layout, seed: 9)
            for degrees in [90.0, 180, 270] {
                let reference = try image.rotated(degrees: degrees, options: RotateOptions(threads: 1, path: .portable))
                for path in ResamplePath.supported {
                    for threads in [1, 2, 5] {
                        let got = try image.rotated(degrees: degrees, options: RotateOptions(threads: threads, path: path))
                        XCTAssertEqual(got, reference, "\(layout) \(degrees) \(path) threads \(threads)")
                    }
                }
            }
        }
    }

    func testRightAnglesUndoEachOther() throws {
        let image = Self.randomImage(width: 37, height: 66, layout: .rgb, seed: 3)
        XCTAssertEqual(try image.rotated(degrees: 90).rotated(degrees: 270), image)
        XCTAssertEqual(try image.rotated(degrees: 180).rotated(degrees: 180), image)
        XCTAssertEqual(try image.rotated(degrees: -90), try image.rotated(degrees: 270))
        XCTAssertEqual(try image.rotated(degrees: 90), image.applyingOrientation(6))
        XCTAssertEqual(try image.rotated(degrees: 450), image.applyingOrientation(6))
        XCTAssertEqual(try image.rotated(degrees: -180), image.applyingOrientation(3))
        for identity in [0.0, 360, -360, 720] {
            XCTAssertEqual(try image.rotated(degrees: identity), image, "\(identity) degrees")
        }
        let turned = try image.rotated(degrees: 90)
        XCTAssertEqual(turned.width, 66)
        XCTAssertEqual(turned.height, 37)
    }

    // MARK: Arbitrary angles

    private static let angles = [17.0, 45, -30.5, 123]

    func testArbitraryAnglesMatchTheFloatReferenceOnRandomImages() throws {
        for layout in PixelLayout.allCases {
            let image = Self.randomImage(width: 41, height: 29, layout: layout, seed: UInt64(layout.rawValue))
            for degrees in Self.angles {
                let got = try image.rotated(degrees: degrees)
                try Self.assertClose(got, Self.referenceRotation(image, degrees: degrees, background: .white), "\(layout) \(degrees)")
            }
        }
    }

    func testArbitraryAnglesMatchTheFloatReferenceOnPhotoCrops() throws {
        let photo = try ImageDecoder.decode(Corpus.bytes("png/photo/kodim23.png")).pixels
        let crop = try photo.cropped(x: 250, y: 150, width: 97, height: 64)
        for layout in PixelLayout.allCases {
            var image = crop.converted(to: layout)
            if layout.hasAlpha {
                // A soft alpha ramp, so premultiplication matters.
                let c = layout.channels, w = image.width
                for i in 0 ..< image.pixelCount { image.bytes[i * c + c - 1] = UInt8((i % w) * 255 / (w - 1)) }
            }
            for degrees in Self.angles {
                let background = RGBColor(red: 10, green: 200, blue: 90)
                let got = try image.rotated(degrees: degrees, options: RotateOptions(background: background))
                try Self.assertClose(got, Self.referenceRotation(image, degrees: degrees, background: background), "photo \(layout) \(degrees)")
            }
        }
    }

    func testArbitraryAnglesGiveTheSameBytesOnEveryPathAndThreadCount() throws {
        for layout in PixelLayout.allCases {
            let image = Self.randomImage(width: 123, height: 77, layout: layout, seed: 5)
            for degrees in Self.angles {
                let reference = try image.rotated(degrees: degrees, options: RotateOptions(threads: 1, path: .portable))
                for path in ResamplePath.supported {
                    for threads in [1, 2, 7] {
                        let got = try image.rotated(degrees: degrees, options: RotateOptions(threads: threads, path: path))
                        XCTAssertEqual(got, reference, "\(layout) \(degrees) \(path) threads \(threads)")
                    }
                }
            }
        }
    }

    func testPositiveAnglesTurnClockwise() throws {
        // A bright dot straight above the centre moves right (and stays above) when turned 30 degrees clockwise.
        var image = PixelBuffer(width: 41, height: 41, layout: .gray)
        image.bytes[5 * 41 + 20] = 255
        let turned = try image.rotated(degrees: 30, options: RotateOptions(background: .black))
        let brightest = turned.bytes.indices.max { turned.bytes[$0] < turned.bytes[$1] }!
        let (x, y) = (brightest % turned.width, brightest / turned.width)
        let cx = turned.width / 2, cy = turned.height / 2
        // Expected offset from the centre: 15 * (sin 30, -cos 30) = (7.5, -13).
        XCTAssertEqual(x - cx, 7, accuracy: 1)
        XCTAssertEqual(y - cy, -13, accuracy: 1)
    }

    func testOutputSizeIsTheRotatedBoundingBox() throws {
        XCTAssertTrue(PixelBuffer.rotatedSize(width: 100, height: 50, degrees: 30) == (112, 94))  // 111.6 x 93.3
        XCTAssertTrue(PixelBuffer.rotatedSize(width: 100, height: 50, degrees: -30) == (112, 94))
        XCTAssertTrue(PixelBuffer.rotatedSize(width: 100, height: 50, degrees: 90) == (50, 100))
        XCTAssertTrue(PixelBuffer.rotatedSize(width: 100, height: 50, degrees: 180) == (100, 50))
        XCTAssertTrue(PixelBuffer.rotatedSize(width: 10, height: 10, degrees: 45) == (15, 15))   // 14.14
        let image = Self.randomImage(width: 100, height: 50, layout: .rgb, seed: 1)
        let turned = try image.rotated(degrees: 30)
        XCTAssertEqual(turned.width, 112)
        XCTAssertEqual(turned.height, 94)
        XCTAssertEqual(turned.layout, .rgb)
    }

    func testAnOpaqueSquareOnAnAlphaCanvasHasNoFringe() throws {
        let red = PixelBuffer(width: 40, height: 40, layout: .rgba,
                              bytes: [UInt8]((0 ..< 1600).flatMap { _ in [255, 0, 0, 255] as [UInt8] }))
        let turned = try red.rotated(degrees: 30)
        var partial = 0
        for y in 0 ..< turned.height {
            for x in 0 ..< turned.width {
                let p = turned.pixel(x: x, y: y)
                guard p[3] > 0 else { continue }
                if p[3] < 255 { partial += 1 }
                XCTAssert(p[0] >= 254 && p[1] <= 1 && p[2] <= 1, "pixel (\(x), \(y)) = \(p): a fringe")
            }
        }
        XCTAssertGreaterThan(partial, 40, "the edges should be antialiased")
        for (x, y) in Self.corners(turned) { XCTAssertEqual(turned.pixel(x: x, y: y)[3], 0, "corner (\(x), \(y))") }
        XCTAssertEqual(turned.pixel(x: turned.width / 2, y: turned.height / 2), [255, 0, 0, 255])
    }

    func testOpaqueImagesGetTheBackgroundInTheCornersOrTransparencyWhenAsked() throws {
        let gray = PixelBuffer(width: 60, height: 40, layout: .rgb, bytes: [UInt8](repeating: 128, count: 60 * 40 * 3))
        let white = try gray.rotated(degrees: 30)
        for (x, y) in Self.corners(white) { XCTAssertEqual(white.pixel(x: x, y: y), [255, 255, 255]) }
        XCTAssertEqual(white.pixel(x: white.width / 2, y: white.height / 2), [128, 128, 128])

        let black = try gray.rotated(degrees: 30, options: RotateOptions(background: .black))
        for (x, y) in Self.corners(black) { XCTAssertEqual(black.pixel(x: x, y: y), [0, 0, 0]) }

        let clear = try gray.rotated(degrees: 30, addingAlpha: true)
        XCTAssertEqual(clear.layout, .rgba)
        for (x, y) in Self.corners(clear) { XCTAssertEqual(clear.pixel(x: x, y: y)[3], 0) }
        XCTAssertEqual(clear.pixel(x: clear.width / 2, y: clear.height / 2), [128, 128, 128, 255])
        // Right angles uncover nothing, so they keep the layout.
        XCTAssertEqual(try gray.rotated(degrees: 90, addingAlpha: true).layout, .rgb)

        let plainGray = PixelBuffer(width: 30, height: 20, layout: .gray, bytes: [UInt8](repeating: 40, count: 600))
        let grayAlpha = try plainGray.rotated(degrees: 10, addingAlpha: true)
        XCTAssertEqual(grayAlpha.layout, .grayAlpha)
        XCTAssertEqual(grayAlpha.pixel(x: 0, y: 0), [0, 0])
    }

    func testGrayImagesRotate() throws {
        let image = Self.randomImage(width: 35, height: 22, layout: .gray, seed: 11)
        let turned = try image.rotated(degrees: 17, options: RotateOptions(background: RGBColor(red: 0, green: 0, blue: 255)))
        XCTAssertEqual(turned.layout, .gray)
        XCTAssertEqual(turned.pixel(x: 0, y: 0), [29])   // Rec. 601 luma of pure blue
        try Self.assertClose(turned, Self.referenceRotation(image, degrees: 17, background: RGBColor(red: 0, green: 0, blue: 255)), "gray")
    }

    func testInvalidInputsThrow() {
        let image = Self.randomImage(width: 4, height: 4, layout: .rgb, seed: 1)
        for degrees in [Double.nan, .infinity, -.infinity] {
            XCTAssertThrowsError(try image.rotated(degrees: degrees)) { error in
                XCTAssertEqual((error as? ImagingError)?.code, .invalidArgument, "\(degrees)")
            }
        }
        for empty in [PixelBuffer(width: 0, height: 5, layout: .rgb), PixelBuffer(width: 5, height: 0, layout: .gray)] {
            for degrees in [90.0, 17] {
                XCTAssertThrowsError(try empty.rotated(degrees: degrees)) { error in
                    XCTAssertEqual((error as? ImagingError)?.code, .invalidArgument)
                }
            }
        }
    }

    func testEveryFrameOfAnAnimationRotatesAndKeepsItsTiming() throws {
        let a = Self.randomImage(width: 20, height: 10, layout: .rgba, seed: 1)
        let b = Self.randomImage(width: 20, height: 10, layout: .rgba, seed: 2)
        let image = Image(frames: [ImageFrame(pixels: a, delayCentiseconds: 7), ImageFrame(pixels: b, delayCentiseconds: 9)], loopCount: 0)
        let turned = try image.rotated(degrees: 33)
        XCTAssertEqual(turned.frames.map(\.delayCentiseconds), [7, 9])
        XCTAssertEqual(turned.loopCount, 0)
        XCTAssertEqual(turned.frames[0].pixels, try a.rotated(degrees: 33))
        XCTAssertEqual(turned.frames[1].pixels, try b.rotated(degrees: 33))
    }

    // MARK: References

    private static func corners(_ image: PixelBuffer) -> [(Int, Int)] {
        [(0, 0), (image.width - 1, 0), (0, image.height - 1), (image.width - 1, image.height - 1)]
    }

    /// Per-pixel loop straight from the EXIF meanings: where displayed pixel (x, y) is stored.
    static func referenceOrientation(_ image: PixelBuffer, exif: Int) -> PixelBuffer {
        let w = image.width, h = image.height
        let swaps = (5 ... 8).contains(exif)
        let ow = swaps ? h : w, oh = swaps ? w : h
        var out = [UInt8]()
        for y in 0 ..< oh {
            for x in 0 ..< ow {
                let (sx, sy): (Int, Int) = switch exif {
                case 2: (w - 1 - x, y)
                case 3: (w - 1 - x, h - 1 - y)
                case 4: (x, h - 1 - y)
                case 5: (y, x)
                case 6: (y, h - 1 - x)
                case 7: (w - 1 - y, h - 1 - x)
                case 8: (w - 1 - y, x)
                default: (x, y)
                }
                out += image.pixel(x: sx, y: sy)
            }
        }
        return PixelBuffer(width: ow, height: oh, layout: image.layout, bytes: out)
    }

    /// Float64 rotation by the written definition: clockwise, bounding-box
    /// canvas, output centre onto source centre, Catmull-Rom (a = -0.5) over
    /// the 4x4 taps around the exact position, taps outside the source = the
    /// background (opaque layouts) or transparent (alpha layouts, computed on
    /// 8-bit premultiplied samples, colour clamped to alpha). Returns
    /// unrounded, premultiplied values.
    static func referenceRotation(_ image: PixelBuffer, degrees: Double, background: RGBColor) -> (width: Int, height: Int, values: [Double]) {
        let w = image.width, h = image.height, c = image.channels
        let radians = degrees * .pi / 180
        let cs = cos(radians), sn = sin(radians)
        let ow = Int((Double(w) * abs(cs) + Double(h) * abs(sn) - 1e-7).rounded(.up))
        let oh = Int((Double(w) * abs(sn) + Double(h) * abs(cs) - 1e-7).rounded(.up))
        let luma = (0.299 * Double(background.red) + 0.587 * Double(background.green) + 0.114 * Double(background.blue)).rounded()
        let outside: [Double] = switch image.layout {
        case .gray: [luma]
        case .rgb: [Double(background.red), Double(background.green), Double(background.blue)]
        default: [Double](repeating: 0, count: c)
        }
        func sample(_ x: Int, _ y: Int) -> [Double] {
            guard x >= 0, x < w, y >= 0, y < h else { return outside }
            let p = image.pixel(x: x, y: y).map(Double.init)
            guard image.layout.hasAlpha else { return p }
            let a = p[c - 1]
            return (0 ..< c).map { $0 == c - 1 ? a : (p[$0] * a / 255).rounded() }
        }
        func weight(_ d: Double) -> Double {
            let x = abs(d), a = -0.5
            if x <= 1 { return (a + 2) * x * x * x - (a + 3) * x * x + 1 }
            if x < 2 { return a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a }
            return 0
        }
        var values = [Double]()
        values.reserveCapacity(ow * oh * c)
        for y in 0 ..< oh {
            for x in 0 ..< ow {
                let dx = Double(x) - Double(ow - 1) / 2, dy = Double(y) - Double(oh - 1) / 2
                let sx = Double(w - 1) / 2 + dx * cs + dy * sn
                let sy = Double(h - 1) / 2 - dx * sn + dy * cs
                let ix = Int(sx.rounded(.down)), iy = Int(sy.rounded(.down))
                var acc = [Double](repeating: 0, count: c)
                for j in -1 ... 2 {
                    let wy = weight(sy - Double(iy + j))
                    for i in -1 ... 2 {
                        let wgt = wy * weight(sx - Double(ix + i))
                        let s = sample(ix + i, iy + j)
                        for k in 0 ..< c { acc[k] += wgt * s[k] }
                    }
                }
                var clamped = acc.map { min(255, max(0, $0)) }
                if image.layout.hasAlpha {
                    // Overshoot can leave colour above alpha; a valid premultiplied colour is at most alpha.
                    for k in 0 ..< c - 1 { clamped[k] = min(clamped[k], clamped[c - 1]) }
                }
                values += clamped
            }
        }
        return (ow, oh, values)
    }

    /// Opaque layouts: every sample within +-1 of the rounded reference. With
    /// alpha: alpha within +-1, and colour compared premultiplied (our bytes
    /// are unpremultiplied, so re-multiplying adds up to half a level) within +-2.
    static func assertClose(_ got: PixelBuffer, _ reference: (width: Int, height: Int, values: [Double]), _ label: String,
                            file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(got.width, reference.width, label, file: file, line: line)
        XCTAssertEqual(got.height, reference.height, label, file: file, line: line)
        guard got.width == reference.width, got.height == reference.height else { return }
        let c = got.channels
        var worst = 0.0
        for p in 0 ..< got.pixelCount {
            let a = Double(got.bytes[p * c + c - 1])
            for k in 0 ..< c {
                let expected = reference.values[p * c + k]
                let value = Double(got.bytes[p * c + k])
                let difference: Double
                if got.layout.hasAlpha && k < c - 1 {
                    difference = abs(value * a / 255 - expected)
                    if difference > 2 {
                        XCTFail("\(label): pixel \(p % got.width),\(p / got.width) channel \(k): \(value) at alpha \(a), premultiplied reference \(expected)", file: file, line: line)
                        return
                    }
                } else {
                    difference = abs(value - expected.rounded())
                    if difference > 1 {
                        XCTFail("\(label): pixel \(p % got.width),\(p / got.width) channel \(k): \(value), reference \(expected)", file: file, line: line)
                        return
                    }
                }
                worst = max(worst, difference)
            }
        }
    }

    static func randomImage(width: Int, height: Int, layout: PixelLayout, seed: UInt64) -> PixelBuffer {
        var state = seed &+ 0x1234_5678
        func next() -> UInt8 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return UInt8(truncatingIfNeeded: z ^ (z >> 31))
        }
        return PixelBuffer(width: width, height: height, layout: layout, bytes: (0 ..< width * height * layout.channels).map { _ in next() })
    }
}
