import Foundation
import XCTest
@testable import Imaging

final class GIFTests: XCTestCase {
    // MARK: Corpus

    func testEveryCorpusGIFGivesTheManifestVerdictSizeFramesAndLoopCount() throws {
        let entries = try Corpus.manifest().filter { $0.format == "gif" || ($0.format == "none" && $0.path.hasSuffix(".gif")) }
        XCTAssertEqual(entries.count, 30, "the corpus README lists 30 GIF files")
        for entry in entries {
            let data = try Corpus.bytes(entry.path)
            let started = Date()
            let result = Result { () throws(ImagingError) in try ImageDecoder.decode(data) }
            XCTAssertLessThan(Date().timeIntervalSince(started), 5, "\(entry.path) took too long")
            switch (entry.valid, result) {
            case (true, .success(let image)):
                XCTAssertEqual(image.width, entry.width, entry.path)
                XCTAssertEqual(image.height, entry.height, entry.path)
                XCTAssertEqual(image.sourceFormat, .gif)
                XCTAssertEqual(image.frames.count, Self.frameCount(entry.what), "\(entry.path): \(entry.what)")
                XCTAssertEqual(image.loopCount, Self.loopCount(entry.what), "\(entry.path): \(entry.what)")
                for frame in image.frames {
                    XCTAssertEqual(frame.pixels.width, image.width)
                    XCTAssertEqual(frame.pixels.layout, image.layout)
                }
                let info = try ImageDecoder.probe(data)
                XCTAssertEqual(info.width, image.width, entry.path)
                XCTAssertEqual(info.height, image.height, entry.path)
                XCTAssertEqual(info.frames, image.frames.count, entry.path)
                XCTAssertEqual(info.loopCount, image.loopCount, entry.path)
                XCTAssertEqual(info.hasAlpha, image.layout.hasAlpha, entry.path)
            case (false, .failure(let error)):
                XCTAssertEqual(error.format, .gif, "\(entry.path): \(error)")
            case (true, .failure(let error)):
                XCTFail("\(entry.path) should decode but failed: \(error)")
            case (false, .success):
                XCTFail("\(entry.path) should be refused but decoded")
            }
        }
    }

    /// Every frame of every valid corpus GIF, composited, against ImageMagick 6.9.11
    /// (an independent GIF decoder): FNV-1a 64 over all frames as RGBA, with fully
    /// transparent pixels zeroed (their colour is meaningless). Produced with
    /// `convert FILE -coalesce -depth 8 rgba:OUT` and the same hash in a script.
    /// This covers disposal 2 and 3, local tables, interlacing and clipping on real files.
    private static let imageMagickFrames: [String: UInt64] = [
        "gif/image-gif/benches/test.gif": 0x917e9bae05da31f5,
        "gif/image-gif/regression/issue-208-block-type-beta.gif": 0x962b558a4ce55125,
        "gif/image-gif/regression/issue-208-block-type.gif": 0x962b558a4ce55125,
        "gif/image-gif/regression/issue-209-extension-block-type.gif": 0x994f76653e2a3951,
        "gif/image-gif/samples/2x2.gif": 0x0153ec76769f217d,
        "gif/image-gif/samples/alpha_gif_a.gif": 0xba1005612ddf2325,
        "gif/image-gif/samples/anim-gr.gif": 0x440c4c70b2ad8855,
        "gif/image-gif/samples/beacon.gif": 0xbb88c50590dc584d,
        "gif/image-gif/samples/beacon_icc.gif": 0xbb88c50590dc584d,
        "gif/image-gif/samples/beacon_xmp.gif": 0xbb88c50590dc584d,
        "gif/image-gif/samples/gifplayer-muybridge.gif": 0x6ca054a9d09dda39,
        "gif/image-gif/samples/interlaced.gif": 0x76158f5a28d5840b,
        "gif/image-gif/samples/moon_impact.gif": 0x0dd961f8b2d014e4,
        "gif/image-gif/samples/sample_1.gif": 0x74b01a2385de70ad,
        "gif/image-gif/samples/set_hsts.gif": 0x4d25767f9dce13f5,
        "gif/libnsgif/waves.gif": 0xd0a4b5d83da50d2a,
        "gif/libvips/cogs.gif": 0xd965bc78b16f6e48,
        "gif/libvips/cramps.gif": 0x5a9fa08cca3cc914,
        "gif/libvips/dispose-background.gif": 0x09e1672462545f16,
        "gif/libvips/dispose-previous.gif": 0x4ce05708f7aa89a1,
        "gif/libvips/trans-x.gif": 0xb3edc737058138a5,
        "gif/pillow/test_extents.gif": 0x9d911946e92d34e5,
    ]

    func testEveryFrameMatchesImageMagicksCoalescedFrames() throws {
        for (path, expected) in Self.imageMagickFrames.sorted(by: { $0.key < $1.key }) {
            let image = try ImageDecoder.decode(Corpus.bytes(path))
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for frame in image.frames {
                frame.pixels.converted(to: .rgba).bytes.withUnsafeBufferPointer { p in
                    for i in stride(from: 0, to: p.count, by: 4) {
                        let transparent = p[i + 3] == 0
                        for c in 0 ..< 4 {
                            hash = (hash ^ UInt64(transparent ? 0 : p[i + c])) &* 0x100_0000_01b3
                        }
                    }
                }
            }
            XCTAssertEqual(hash, expected, path)
        }
    }

    func testHostileFilesGiveTheRightErrorCodes() throws {
        let expected: [(String, ImagingError.Code)] = [
            ("gif/libvips/truncated.gif", .truncated),
            ("gif/libvips/invalid_multiframe.gif", .corrupt),
            // 6727x65351 declared in 40 bytes: refused on the header, so it cannot hang.
            ("gif/image-gif/stall/issue-101-infinite-empty-loop.gif", .tooLarge),
            ("gif/image-gif/crashtest/issue-96-small-codesize-2.gif", .tooLarge),
            ("gif/image-gif/crashtest/issue-96-small-codesize.gif", .corrupt),
            ("gif/libnsgif/lzwof.gif", .corrupt),
            ("gif/libnsgif/lzwoob.gif", .corrupt),
        ]
        for (path, code) in expected {
            // Read outside the assertion: a missing corpus must skip the test, not fail inside an autoclosure.
            let bytes = try Corpus.bytes(path)
            XCTAssertThrowsError(try ImageDecoder.decode(bytes), path) { error in
                XCTAssertEqual((error as? ImagingError)?.code, code, "\(path): \(error)")
                XCTAssertEqual((error as? ImagingError)?.format, .gif, path)
            }
        }
        // The out-of-range crash regression only has to fail cleanly, with a typed error.
        let outOfRange = try Corpus.bytes("gif/image-gif/crashtest/issue-117-out-of-range.gif")
        XCTAssertThrowsError(try ImageDecoder.decode(outOfRange)) { error in
            XCTAssertNotNil(error as? ImagingError)
        }
    }

    func testTheStallRegressionEndsQuicklyEvenWithLimitsThatAdmitItsScreen() throws {
        // 6727x65351 passes these limits, so the decoder really walks the (empty) data.
        let generous = DecodeOptions(limits: DecodeLimits(maxPixels: 500_000_000, maxTotalFramePixels: 500_000_000))
        let data = try Corpus.bytes("gif/image-gif/stall/issue-101-infinite-empty-loop.gif")
        let started = Date()
        XCTAssertThrowsError(try ImageDecoder.decode(data, options: generous)) { error in
            XCTAssertEqual((error as? ImagingError)?.code, .truncated, "\(error)")
        }
        XCTAssertThrowsError(try ImageDecoder.probe(data, limits: generous.limits))
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
    }

    func testBackgroundIndexOutsideThePaletteStillDecodes() throws {
        let image = try ImageDecoder.decode(Corpus.bytes("gif/image-gif/samples/set_hsts.gif"))
        XCTAssertEqual(image.width, 1)
    }

    func testMoonImpactHasLocalTablesAndLoopCountTen() throws {
        let image = try ImageDecoder.decode(Corpus.bytes("gif/image-gif/samples/moon_impact.gif"))
        XCTAssertEqual(image.frames.count, 14)
        XCTAssertEqual(image.loopCount, 10)
        let first = try ImageDecoder.decode(Corpus.bytes("gif/image-gif/samples/moon_impact.gif"), options: DecodeOptions(firstFrameOnly: true))
        XCTAssertEqual(first.frames.count, 1)
        Self.assertSamePixels(first.frames[0].pixels, image.frames[0].pixels, "moon_impact first frame")
    }

    func testFirstFrameOnlyIgnoresABrokenLaterFrame() throws {
        let image = try ImageDecoder.decode(Corpus.bytes("gif/libvips/invalid_multiframe.gif"), options: DecodeOptions(firstFrameOnly: true))
        XCTAssertEqual(image.frames.count, 1)
    }

    // MARK: Compositing (hand-built files, expected pixels worked out by hand)

    private static let red: [UInt8] = [255, 0, 0, 255], green: [UInt8] = [0, 255, 0, 255]
    private static let blue: [UInt8] = [0, 0, 255, 255], white: [UInt8] = [255, 255, 255, 255]
    private static let clear: [UInt8] = [0, 0, 0, 0]
    private static let palette: [[UInt8]] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]]

    func testDisposalKeepBackgroundAndPrevious() throws {
        var gif = TinyGIF(width: 4, height: 4, palette: Self.palette)
        gif.frames = [
            .init(x: 0, y: 0, width: 4, height: 4, indices: Array(repeating: 0, count: 16), disposal: 1, delay: 10),
            .init(x: 1, y: 1, width: 2, height: 2, indices: [1, 1, 1, 1], disposal: 2, delay: 20),
            .init(x: 0, y: 0, width: 1, height: 1, indices: [2], disposal: 3, delay: 30),
            .init(x: 3, y: 3, width: 1, height: 1, indices: [3], disposal: 1, delay: 40),
            // Index 3 is transparent here: only (0,0) is painted, (3,3) keeps its white.
            .init(x: 0, y: 0, width: 4, height: 4, indices: [1] + Array(repeating: 3, count: 15), disposal: 0, delay: 0, transparent: 3),
        ]
        let image = try ImageDecoder.decode(gif.bytes())
        XCTAssertEqual(image.frames.count, 5)
        XCTAssertEqual(image.layout, .rgba)
        XCTAssertEqual(image.frames.map(\.delayCentiseconds), [10, 20, 30, 40, 0])
        XCTAssertNil(image.loopCount)

        let r = Self.red, g = Self.green, b = Self.blue, w = Self.white, t = Self.clear
        let expected: [[[UInt8]]] = [
            [r, r, r, r, r, r, r, r, r, r, r, r, r, r, r, r],
            [r, r, r, r, r, g, g, r, r, g, g, r, r, r, r, r],
            // Frame 2's rectangle went back to transparent before frame 3 was drawn.
            [b, r, r, r, r, t, t, r, r, t, t, r, r, r, r, r],
            // Frame 3 was undone (restore to previous) before frame 4.
            [r, r, r, r, r, t, t, r, r, t, t, r, r, r, r, w],
            [g, r, r, r, r, t, t, r, r, t, t, r, r, r, r, w],
        ]
        for (n, frame) in image.frames.enumerated() {
            XCTAssertEqual(Self.pixels(frame.pixels), expected[n], "frame \(n + 1)")
        }
    }

    func testRestoreToPreviousOnTheFirstFrameGoesBackToTransparent() throws {
        var gif = TinyGIF(width: 2, height: 1, palette: Self.palette)
        gif.frames = [
            .init(x: 0, y: 0, width: 2, height: 1, indices: [0, 1], disposal: 3, delay: 5),
            .init(x: 1, y: 0, width: 1, height: 1, indices: [2], disposal: 1, delay: 5),
        ]
        let image = try ImageDecoder.decode(gif.bytes())
        XCTAssertEqual(Self.pixels(image.frames[0].pixels), [Self.red, Self.green])
        XCTAssertEqual(Self.pixels(image.frames[1].pixels), [Self.clear, Self.blue])
    }

    func testFramesStickingOutOfTheScreenAreClipped() throws {
        var gif = TinyGIF(width: 3, height: 3, palette: Self.palette)
        gif.frames = [
            .init(x: 0, y: 0, width: 3, height: 3, indices: Array(repeating: 3, count: 9), disposal: 1, delay: 0),
            // 4x4 at (1,1): only its top-left 2x2 is on the screen.
            .init(x: 1, y: 1, width: 4, height: 4, indices: [0, 1, 2, 3,
                                                              2, 0, 1, 1,
                                                              1, 1, 1, 1,
                                                              2, 2, 2, 2], disposal: 1, delay: 0),
        ]
        let image = try ImageDecoder.decode(gif.bytes())
        XCTAssertEqual(image.layout, .rgba, "the second frame does not cover the screen")
        let w = Self.white
        XCTAssertEqual(Self.pixels(image.frames[1].pixels), [w, w, w, w, Self.red, Self.green, w, Self.blue, Self.red])

        let extents = try ImageDecoder.decode(Corpus.bytes("gif/pillow/test_extents.gif"))
        XCTAssertEqual(extents.frames.count, 2)
        XCTAssertEqual(extents.width, 100)
        XCTAssertEqual(extents.height, 100)
    }

    func testInterlacedRowsLandWhereTheyBelong() throws {
        // 11 rows so every pass, including a short last one, is exercised.
        let indices = (0 ..< 11).flatMap { y in [UInt8(y % 4), UInt8((y / 4) % 4)] }
        var plain = TinyGIF(width: 2, height: 11, palette: Self.palette)
        plain.frames = [.init(x: 0, y: 0, width: 2, height: 11, indices: indices, disposal: 0, delay: 0)]
        var interlaced = plain
        interlaced.frames[0].interlaced = true
        XCTAssertNotEqual(plain.bytes(), interlaced.bytes())
        let a = try ImageDecoder.decode(plain.bytes()), b = try ImageDecoder.decode(interlaced.bytes())
        XCTAssertEqual(a.layout, .rgb)
        XCTAssertEqual(a.pixels, b.pixels)
        XCTAssertEqual(b.pixels.pixel(x: 0, y: 5), [0, 255, 0], "row 5 has index 1")
        XCTAssertEqual(b.pixels.pixel(x: 1, y: 9), [0, 0, 255], "row 9 has index 2 in column 1")
    }

    func testInterlacedCorpusFileMatchesANonInterlacedReencode() throws {
        for path in ["gif/image-gif/samples/interlaced.gif", "gif/libvips/cramps.gif", "gif/libvips/trans-x.gif"] {
            let original = try ImageDecoder.decode(Corpus.bytes(path))
            let reencoded = try ImageEncoder.encode(original, as: .gif)
            let again = try ImageDecoder.decode(reencoded)
            XCTAssertEqual(again.frames.count, 1)
            XCTAssertEqual(again.layout, original.layout, path)
            Self.assertSamePixels(again.pixels, original.pixels, path)
        }
    }

    /// GIF89a leaves the table of a frame that has neither a local nor a global
    /// one to the decoder. libvips (libnsgif) and MuPDF use black for index 0
    /// and white for index 1; so does this decoder, with the other indices
    /// opaque black (like any index past the end of a short table).
    func testAFrameWithoutAnyColourTableGetsTheDefaultBlackAndWhiteTable() throws {
        var gif = TinyGIF(width: 4, height: 1, palette: nil)
        gif.frames = [.init(x: 0, y: 0, width: 4, height: 1, indices: [0, 1, 2, 1], disposal: 0, delay: 0)]
        let bytes = gif.bytes()
        let info = try ImageDecoder.probe(bytes)
        XCTAssertEqual(info.format, .gif)
        XCTAssertEqual(info.width, 4)
        let pixels = try ImageDecoder.decode(bytes).pixels
        XCTAssertEqual(pixels.layout, .rgb)
        XCTAssertEqual((0 ..< 4).map { pixels.pixel(x: $0, y: 0) }, [[0, 0, 0], [255, 255, 255], [0, 0, 0], [255, 255, 255]])
        // A local table still wins over the default.
        gif.frames[0].localPalette = Self.palette
        XCTAssertEqual(try ImageDecoder.decode(gif.bytes()).pixels.pixel(x: 1, y: 0), [0, 255, 0])
    }

    /// With transparency (the RGBA canvas path) the default table applies too.
    func testATablelessFrameWithATransparentIndexDrawsTheDefaultColours() throws {
        var gif = TinyGIF(width: 3, height: 1, palette: nil)
        gif.frames = [.init(x: 0, y: 0, width: 3, height: 1, indices: [1, 0, 3], disposal: 0, delay: 0, transparent: 3)]
        let pixels = try ImageDecoder.decode(gif.bytes()).pixels
        XCTAssertEqual(pixels.layout, .rgba)
        XCTAssertEqual((0 ..< 3).map { pixels.pixel(x: $0, y: 0) }, [[255, 255, 255, 255], [0, 0, 0, 255], [0, 0, 0, 0]])
    }

    func testAMissingTrailerIsAcceptedButACutFrameIsTruncated() throws {
        var gif = TinyGIF(width: 2, height: 1, palette: Self.palette)
        gif.frames = [.init(x: 0, y: 0, width: 2, height: 1, indices: [0, 1], disposal: 0, delay: 0)]
        let full = gif.bytes()
        XCTAssertEqual(full.last, 0x3B)
        XCTAssertEqual(try ImageDecoder.decode(Array(full.dropLast())).pixels.pixel(x: 0, y: 0), [255, 0, 0])
        XCTAssertThrowsError(try ImageDecoder.decode(Array(full.dropLast(4)))) { error in
            XCTAssertEqual((error as? ImagingError)?.code, .truncated, "\(error)")
        }
    }

    // MARK: Limits

    func testAHugeDeclaredScreenIsRefusedFromTheHeader() throws {
        // GIF89a, 60000x60000, no global table, then the trailer: nothing to decode.
        let header: [UInt8] = Array("GIF89a".utf8) + [0x60, 0xEA, 0x60, 0xEA, 0x00, 0x00, 0x00, 0x3B]
        for attempt in [{ () throws in _ = try ImageDecoder.decode(header) }, { () throws in _ = try ImageDecoder.probe(header) }] {
            XCTAssertThrowsError(try attempt()) { error in
                XCTAssertEqual((error as? ImagingError)?.code, .tooLarge, "\(error)")
            }
        }
    }

    func testFrameLimitsAreEnforced() throws {
        let data = try Corpus.bytes("gif/image-gif/samples/gifplayer-muybridge.gif")
        let fewFrames = DecodeOptions(limits: DecodeLimits(maxFrames: 100))
        XCTAssertThrowsError(try ImageDecoder.decode(data, options: fewFrames)) { error in
            XCTAssertEqual((error as? ImagingError)?.code, .tooLarge)
        }
        XCTAssertThrowsError(try ImageDecoder.probe(data, limits: fewFrames.limits))
        // 472x298 is 140,656 pixels a frame: ten frames fit, eleven do not.
        let fewPixels = DecodeOptions(limits: DecodeLimits(maxTotalFramePixels: 472 * 298 * 10))
        XCTAssertThrowsError(try ImageDecoder.decode(data, options: fewPixels)) { error in
            XCTAssertEqual((error as? ImagingError)?.code, .tooLarge)
        }
        var justOne = fewFrames
        justOne.limits.maxFrames = 1
        justOne.firstFrameOnly = true
        XCTAssertEqual(try ImageDecoder.decode(data, options: justOne).frames.count, 1)
    }

    // MARK: Encoding

    func testTransparencySurvivesARoundTrip() throws {
        var pixels = PixelBuffer(width: 3, height: 2, layout: .rgba)
        pixels.bytes = [255, 0, 0, 255, 0, 0, 0, 0, 10, 20, 30, 255,
                        0, 0, 0, 100, 7, 8, 9, 200, 255, 255, 255, 255]
        let decoded = try ImageDecoder.decode(ImageEncoder.encode(Image(pixels: pixels), as: .gif))
        XCTAssertEqual(decoded.layout, .rgba)
        // Alpha below 128 becomes transparent; anything else becomes opaque.
        XCTAssertEqual(decoded.pixels.bytes, [255, 0, 0, 255, 0, 0, 0, 0, 10, 20, 30, 255,
                                              0, 0, 0, 0, 7, 8, 9, 255, 255, 255, 255, 255])

        let corpus = try ImageDecoder.decode(Corpus.bytes("gif/image-gif/samples/alpha_gif_a.gif"))
        XCTAssertEqual(corpus.layout, .rgba)
        Self.assertSamePixels(try ImageDecoder.decode(ImageEncoder.encode(corpus, as: .gif)).pixels, corpus.pixels, "alpha_gif_a.gif")
    }

    func testAnimationDelaysAndLoopCountSurviveARoundTrip() throws {
        let frames = (0 ..< 3).map { n in
            ImageFrame(pixels: PixelBuffer(width: 5, height: 4, layout: .rgb, bytes: (0 ..< 60).map { UInt8(($0 * 37 + n * 91) % 256) }),
                       delayCentiseconds: [7, 250, 0][n])
        }
        let animation = Image(frames: frames, loopCount: 3)
        let decoded = try ImageDecoder.decode(ImageEncoder.encode(animation, as: .gif))
        XCTAssertEqual(decoded.frames.count, 3)
        XCTAssertEqual(decoded.loopCount, 3)
        XCTAssertEqual(decoded.frames.map(\.delayCentiseconds), [7, 250, 0])
        XCTAssertEqual(decoded.frames.map(\.pixels), frames.map(\.pixels))

        var forever = animation
        forever.loopCount = nil
        XCTAssertEqual(try ImageDecoder.decode(ImageEncoder.encode(forever, as: .gif)).loopCount, 0, "animations loop forever by default")
        let still = Image(pixels: frames[0].pixels)
        XCTAssertNil(try ImageDecoder.decode(ImageEncoder.encode(still, as: .gif)).loopCount)

        let corpus = try ImageDecoder.decode(Corpus.bytes("gif/libvips/dispose-previous.gif"))
        let again = try ImageDecoder.decode(ImageEncoder.encode(corpus, as: .gif))
        XCTAssertEqual(again.frames.count, corpus.frames.count)
        for (a, b) in zip(again.frames, corpus.frames) { Self.assertSamePixels(a.pixels, b.pixels, "dispose-previous.gif") }
        XCTAssertEqual(again.frames.map(\.delayCentiseconds), corpus.frames.map(\.delayCentiseconds))
    }

    func testPhotoIsQuantisedTo256ColoursAbove30dB() throws {
        let photo = try ImageDecoder.decode(Corpus.bytes("png/photo/kodim23.png")).pixels.converted(to: .rgb)
        for dither in [false, true] {
            let options = EncodeOptions(gif: GIFEncodeOptions(dither: dither))
            let encoded = try ImageEncoder.encode(Image(pixels: photo), as: .gif, options: options)
            let decoded = try ImageDecoder.decode(encoded).pixels
            XCTAssertEqual(decoded.layout, .rgb)
            XCTAssertLessThanOrEqual(Set(stride(from: 0, to: decoded.bytes.count, by: 3).map { decoded.bytes[$0 ..< $0 + 3] }).count, 256)
            let psnr = Self.psnr(photo, decoded)
            XCTAssertGreaterThan(psnr, dither ? 28 : 30, "dither: \(dither)")
            print("kodim23 GIF (dither: \(dither)): \(encoded.count) bytes, PSNR \(String(format: "%.2f", psnr)) dB")
        }
    }

    func testFewerColoursWhenAsked() throws {
        let photo = try ImageDecoder.decode(Corpus.bytes("png/photo/kodim23.png")).pixels.converted(to: .rgb)
        let encoded = try ImageEncoder.encode(Image(pixels: photo), as: .gif, options: EncodeOptions(gif: GIFEncodeOptions(maxColors: 16)))
        let decoded = try ImageDecoder.decode(encoded).pixels
        XCTAssertLessThanOrEqual(Set(stride(from: 0, to: decoded.bytes.count, by: 3).map { decoded.bytes[$0 ..< $0 + 3] }).count, 16)
        XCTAssertGreaterThan(Self.psnr(photo, decoded), 20)
    }

    func testEncodingIsDeterministic() throws {
        let photo = try ImageDecoder.decode(Corpus.bytes("png/photo/kodim23.png"))
        for options in [GIFEncodeOptions(), GIFEncodeOptions(dither: true)] {
            let a = try ImageEncoder.encode(photo, as: .gif, options: EncodeOptions(gif: options))
            let b = try ImageEncoder.encode(Image(pixels: PixelBuffer(width: photo.width, height: photo.height, layout: photo.layout,
                                                                      bytes: Array(photo.pixels.bytes))),
                                            as: .gif, options: EncodeOptions(gif: options))
            XCTAssertEqual(a, b)
        }
        let animation = try ImageDecoder.decode(Corpus.bytes("gif/libnsgif/waves.gif"))
        XCTAssertEqual(try ImageEncoder.encode(animation, as: .gif), try ImageEncoder.encode(animation, as: .gif))
    }

    func testEncodesEveryLayout() throws {
        let gray = PixelBuffer(width: 2, height: 1, layout: .grayAlpha, bytes: [40, 255, 200, 0])
        let decoded = try ImageDecoder.decode(ImageEncoder.encode(Image(pixels: gray), as: .gif))
        XCTAssertEqual(decoded.pixels.bytes, [40, 40, 40, 255, 0, 0, 0, 0])
        let oneColour = PixelBuffer(width: 3, height: 3, layout: .gray, bytes: Array(repeating: 9, count: 9))
        XCTAssertEqual(try ImageDecoder.decode(ImageEncoder.encode(Image(pixels: oneColour), as: .gif)).pixels.bytes,
                       Array(repeating: 9, count: 27))
    }

    // MARK: Helpers

    private static func frameCount(_ what: String) -> Int {
        guard let range = what.range(of: #"animated, (\d+) frames"#, options: .regularExpression) else { return 1 }
        return Int(what[range].split(separator: " ")[1])!
    }

    private static func loopCount(_ what: String) -> Int? {
        guard let range = what.range(of: #"loop count (\d+)"#, options: .regularExpression) else { return nil }
        return Int(what[range].split(separator: " ")[2])!
    }

    private static func pixels(_ buffer: PixelBuffer) -> [[UInt8]] {
        (0 ..< buffer.height).flatMap { y in (0 ..< buffer.width).map { x in buffer.pixel(x: x, y: y) } }
    }

    /// Same size and same RGBA samples whatever the layouts; names the first difference
    /// rather than printing megabytes of samples.
    private static func assertSamePixels(_ a: PixelBuffer, _ b: PixelBuffer, _ label: String, line: UInt = #line) {
        XCTAssertEqual(a.width, b.width, label, line: line)
        XCTAssertEqual(a.height, b.height, label, line: line)
        let ra = a.converted(to: .rgba).bytes, rb = b.converted(to: .rgba).bytes
        guard ra != rb, ra.count == rb.count else { return }
        let first = zip(ra, rb).enumerated().first { $0.element.0 != $0.element.1 }!.offset / 4
        XCTFail("\(label): pixels differ first at (\(first % a.width), \(first / a.width))", line: line)
    }

    private static func psnr(_ a: PixelBuffer, _ b: PixelBuffer) -> Double {
        precondition(a.bytes.count == b.bytes.count)
        var sum = 0.0
        for i in a.bytes.indices {
            let d = Double(a.bytes[i]) - Double(b.bytes[i])
            sum += d * d
        }
        let mse = sum / Double(a.bytes.count)
        return 10 * log10(255 * 255 / mse)
    }
}

/// Writes small GIFs byte by byte, independently of giflib and of the encoder
/// under test, so the decoder is checked against files whose every pixel is
/// known. The LZW stream sends a clear code before every two pixels, which keeps
/// the code width constant: large, but trivially correct.
struct TinyGIF {
    struct Frame {
        var x, y, width, height: Int
        var indices: [UInt8]
        var disposal: Int
        var delay: Int
        var transparent: Int?
        var interlaced = false
        var localPalette: [[UInt8]]?
    }

    var width: Int
    var height: Int
    /// Four RGB entries (2-bit table), or nil for no global table.
    var palette: [[UInt8]]?
    var loopCount: Int?
    var frames: [Frame] = []

    func bytes() -> [UInt8] {
        var out = Array("GIF89a".utf8)
        out += Self.le16(width) + Self.le16(height)
        out += [palette == nil ? 0x00 : 0x81, 0, 0] // global table flag, 2 bits per entry
        out += (palette ?? []).flatMap { $0 }
        if let loopCount {
            out += [0x21, 0xFF, 11] + Array("NETSCAPE2.0".utf8) + [3, 1] + Self.le16(loopCount) + [0]
        }
        for frame in frames {
            let packed = UInt8(frame.disposal << 2) | (frame.transparent == nil ? 0 : 1)
            out += [0x21, 0xF9, 4, packed] + Self.le16(frame.delay) + [UInt8(frame.transparent ?? 0), 0]
            out += [0x2C] + Self.le16(frame.x) + Self.le16(frame.y) + Self.le16(frame.width) + Self.le16(frame.height)
            out += [(frame.localPalette == nil ? 0 : 0x81) | (frame.interlaced ? 0x40 : 0)]
            out += (frame.localPalette ?? []).flatMap { $0 }
            out += [2] + Self.subBlocks(Self.lzw(Self.rowsInFileOrder(frame)))
        }
        return out + [0x3B]
    }

    private static func rowsInFileOrder(_ frame: Frame) -> [UInt8] {
        guard frame.interlaced else { return frame.indices }
        let order = [(0, 8), (4, 8), (2, 4), (1, 2)].flatMap { start, step in Swift.stride(from: start, to: frame.height, by: step) }
        return order.flatMap { y in frame.indices[y * frame.width ..< (y + 1) * frame.width] }
    }

    /// Minimum code size 2: codes are 3 bits, clear is 4, end is 5.
    private static func lzw(_ indices: [UInt8]) -> [UInt8] {
        var codes: [Int] = []
        for (i, index) in indices.enumerated() {
            if i % 2 == 0 { codes.append(4) }
            codes.append(Int(index))
        }
        codes.append(5)
        var bytes: [UInt8] = [], accumulator = 0, bits = 0
        for code in codes {
            accumulator |= code << bits
            bits += 3
            while bits >= 8 {
                bytes.append(UInt8(accumulator & 0xFF))
                accumulator >>= 8
                bits -= 8
            }
        }
        if bits > 0 { bytes.append(UInt8(accumulator)) }
        return bytes
    }

    private static func subBlocks(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for start in Swift.stride(from: 0, to: data.count, by: 255) {
            let chunk = data[start ..< min(data.count, start + 255)]
            out += [UInt8(chunk.count)] + chunk
        }
        return out + [0]
    }

    private static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
}
