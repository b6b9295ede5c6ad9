import Foundation
import XCTest
@testable import Imaging

final class JPEGTests: XCTestCase {
    // MARK: - Corpus verdicts

    func testEveryCorpusJPEGGetsItsExpectedVerdictAndStoredSize() throws {
        let entries = try Corpus.manifest().filter { $0.format == "jpeg" }
        XCTAssertEqual(entries.count, 80, "MANIFEST lists 71 valid and 9 invalid JPEGs")
        for entry in entries {
            let bytes = try Corpus.bytes(entry.path)
            let stored = DecodeOptions(applyOrientation: false)
            if entry.valid {
                do {
                    let image = try ImageDecoder.decode(bytes, options: stored)
                    XCTAssertEqual(image.width, entry.width, entry.path)
                    XCTAssertEqual(image.height, entry.height, entry.path)
                    XCTAssertEqual(image.sourceFormat, .jpeg, entry.path)
                    let info = try ImageDecoder.probe(bytes)
                    XCTAssertEqual(info.width, entry.width, entry.path)
                    XCTAssertEqual(info.height, entry.height, entry.path)
                } catch {
                    XCTFail("\(entry.path) is valid but failed: \(error)")
                }
            } else {
                XCTAssertThrowsError(try ImageDecoder.decode(bytes, options: stored), entry.path) { error in
                    XCTAssertEqual((error as? ImagingError)?.format, .jpeg, "\(entry.path): \(error)")
                }
            }
        }
    }

    func testInvalidFilesReportASensibleCode() throws {
        let expectations: [(String, ImagingError.Code)] = [
            ("jpeg/jpeg-decoder-crashtest/max_size.jpg", .tooLarge),
            ("jpeg/libvips/truncated.jpg", .truncated),
            ("jpeg/jpeg-decoder-crashtest/invalid-prediction-shift.jpg", .unsupported),
            ("jpeg/jpeg-decoder-crashtest/null_height.jpg", .corrupt),
            ("jpeg/jpeg-decoder-crashtest/invalid-dimensions.jpg", .corrupt),
            ("jpeg/jpeg-decoder-crashtest/derive-huffman-codes-overflow.jpg", .corrupt),
        ]
        for (path, code) in expectations {
            // Read outside the assertion: a missing corpus must skip the test, not fail inside an autoclosure.
            let bytes = try Corpus.bytes(path)
            XCTAssertEqual(decodeError(bytes)?.code, code, path)
        }
    }

    func testTwelveBitPrecisionIsUnsupported() throws {
        var bytes = try Corpus.bytes("jpeg/mozilla/jpg-size-8x8.jpg")
        let sof = try XCTUnwrap(segments(bytes).first { $0.marker == 0xC0 })
        bytes[sof.payloadStart] = 12
        XCTAssertEqual(decodeError(bytes)?.code, .unsupported)
    }

    func testTinyFileDeclaringHugeImageIsRefusedFromTheHeader() throws {
        // A 1x1 file whose SOF now declares 20000x20000: under libjpeg's own
        // 65500 limit, so only the worker's pixel limit stands in the way.
        var bytes = try Corpus.bytes("jpeg/mozilla/jpg-size-1x1.jpg")
        let sof = try XCTUnwrap(segments(bytes).first { $0.marker == 0xC0 })
        for offset in [sof.payloadStart + 1, sof.payloadStart + 3] {
            bytes[offset] = UInt8(20000 >> 8)
            bytes[offset + 1] = UInt8(20000 & 0xFF)
        }
        XCTAssertEqual(decodeError(bytes)?.code, .tooLarge)
        XCTAssertThrowsError(try ImageDecoder.probe(bytes)) { error in
            XCTAssertEqual((error as? ImagingError)?.code, .tooLarge)
        }
        let small = DecodeOptions(limits: DecodeLimits(maxPixels: 10_000))
        XCTAssertEqual(decodeError(try Corpus.bytes("jpeg/libjpeg-turbo/testorig.jpg"), options: small)?.code, .tooLarge)
    }

    func testProgressiveFileWithEndlessScansIsCutOff() throws {
        let encoded = try ImageEncoder.encode(Image(pixels: gradient(width: 16, height: 16, layout: .gray)), as: .jpeg,
                                              options: EncodeOptions(jpeg: JPEGEncodeOptions(progressive: true)))
        // Repeat the last scan (a refinement scan) before EOI: libjpeg only warns
        // about the inconsistent progression, so only the scan cap stops it.
        let lastScan = try XCTUnwrap(lastIndex(of: [0xFF, 0xDA], in: encoded))
        let scan = Array(encoded[lastScan ..< encoded.count - 2])
        func withRepeats(_ count: Int) -> [UInt8] {
            var bytes = Array(encoded.dropLast(2))
            for _ in 0 ..< count { bytes += scan }
            return bytes + [0xFF, 0xD9]
        }
        XCTAssertNoThrow(try ImageDecoder.decode(withRepeats(20)))
        XCTAssertEqual(decodeError(withRepeats(JPEGDecoder.maxScans + 10))?.code, .tooLarge)
    }

    func testCorruptDataWarningsAreToleratedUnlessStrict() throws {
        let original = try ImageDecoder.decode(Corpus.bytes("jpeg/mozilla/jpg-size-16x16.jpg"))
        let damaged = try Corpus.bytes("jpeg/jpeg-decoder/extraneous-data.jpg")
        // The same image with junk before EOI: the pixels are untouched.
        XCTAssertEqual(try ImageDecoder.decode(damaged).pixels, original.pixels)
        let strict = Result { () throws(ImagingError) in
            try withBytes(damaged) { raw throws(ImagingError) in try JPEGDecoder.decode(raw, options: .default, strict: true) }
        }
        XCTAssertEqual(strict.failureCode, .corrupt)
    }

    // MARK: - Decoding features

    func testArithmeticCodedFileMatchesTheHuffmanOriginal() throws {
        let huffman = try ImageDecoder.decode(Corpus.bytes("jpeg/libjpeg-turbo/testorig.jpg"))
        let arithmetic = try ImageDecoder.decode(Corpus.bytes("jpeg/libjpeg-turbo/testimgari.jpg"))
        XCTAssertLessThan(meanAbsoluteDifference(huffman.pixels, arithmetic.pixels), 3)
    }

    func testRestartMarkersDoNotChangeThePixels() throws {
        let plain = try ImageDecoder.decode(Corpus.bytes("jpeg/mozilla/jpg-size-33x33.jpg"))
        let restarts = try ImageDecoder.decode(Corpus.bytes("jpeg/jpeg-decoder/restarts.jpg"))
        XCTAssertLessThan(meanAbsoluteDifference(plain.pixels, restarts.pixels), 1)
    }

    func testProgressiveAndBaselineCodingsOfOneImageAgree() throws {
        let baseline = try ImageDecoder.decode(Corpus.bytes("jpeg/mozilla/jpg-size-32x32.jpg"))
        let progressive = try ImageDecoder.decode(Corpus.bytes("jpeg/mozilla/jpg-progressive.jpg"))
        XCTAssertLessThan(meanAbsoluteDifference(baseline.pixels, progressive.pixels), 3)
    }

    func testGrayscaleFilesDecodeToGray() throws {
        for path in ["jpeg/mozilla/jpg-gray.jpg", "jpeg/jpeg-decoder/grayscale_16x24_sampling2x2.jpg", "jpeg/mozilla/jpg-srgb-icc.jpg"] {
            let bytes = try Corpus.bytes(path) // outside the assertion, so a missing corpus skips
            XCTAssertEqual(try ImageDecoder.decode(bytes).layout, .gray, path)
        }
        let rgb = try Corpus.bytes("jpeg/jpeg-decoder/rgb.jpg")
        XCTAssertEqual(try ImageDecoder.decode(rgb).layout, .rgb)
    }

    func testAdobeCMYKMatchesTheSameImageInYCbCr() throws {
        // jpg-cmyk-1 is the picture of jpg-size-32x32 stored as (inverted) Adobe CMYK.
        let cmyk = try ImageDecoder.decode(Corpus.bytes("jpeg/mozilla/jpg-cmyk-1.jpg"))
        let rgb = try ImageDecoder.decode(Corpus.bytes("jpeg/mozilla/jpg-size-32x32.jpg"))
        XCTAssertEqual(cmyk.layout, .rgb)
        assertMeansClose(cmyk.pixels, rgb.pixels, tolerance: 3)
        XCTAssertLessThan(meanAbsoluteDifference(cmyk.pixels, rgb.pixels), 8)
    }

    func testYCCKMatchesTheSamePhotoInRGB() throws {
        let ycck = try ImageDecoder.decode(Corpus.bytes("jpeg/jpeg-decoder/ycck.jpg"))
        let rgb = try ImageDecoder.decode(Corpus.bytes("jpeg/jpeg-decoder/rgb.jpg"))
        XCTAssertEqual(ycck.layout, .rgb)
        assertMeansClose(ycck.pixels, rgb.pixels, tolerance: 3)
        XCTAssertLessThan(meanAbsoluteDifference(ycck.pixels, rgb.pixels), 8)
    }

    func testCMYKInkWordsComeOutInTheirColours() throws {
        // jpg-cmyk-2 (4:2:0 CMYK) shows the words "cyan", "yellow", "magenta" and
        // "black" printed in those inks on white; the darkest pixel of each word
        // must have that colour.
        let image = try ImageDecoder.decode(Corpus.bytes("jpeg/mozilla/jpg-cmyk-2.jpg"))
        let cyan = darkest(image.pixels, x: 28 ..< 72, y: 33 ..< 50)
        XCTAssert(cyan[0] < 100 && cyan[1] > 150 && cyan[2] > 150, "cyan: \(cyan)")
        let yellow = darkest(image.pixels, x: 125 ..< 183, y: 70 ..< 88)
        XCTAssert(yellow[2] < 100 && yellow[0] > 150 && yellow[1] > 150, "yellow: \(yellow)")
        let magenta = darkest(image.pixels, x: 52 ..< 132, y: 115 ..< 133)
        XCTAssert(magenta[1] < 100 && magenta[0] > 150 && magenta[2] > 150, "magenta: \(magenta)")
        let black = darkest(image.pixels, x: 68 ..< 117, y: 200 ..< 217)
        XCTAssert(black.allSatisfy { $0 < 80 }, "black: \(black)")
        let corner = image.pixels.pixel(x: 2, y: 250)
        XCTAssert(corner.allSatisfy { $0 > 240 }, "paper: \(corner)")
    }

    func testEverySubsamplingDecodesToTheSamePicture() throws {
        let full = try ImageDecoder.decode(Corpus.bytes("jpeg/zune/non_interleaved_444_64x64.jpg"))
        for name in ["420", "422", "440"] {
            let other = try ImageDecoder.decode(Corpus.bytes("jpeg/zune/non_interleaved_\(name)_64x64.jpg"))
            XCTAssertLessThan(meanAbsoluteDifference(full.pixels, other.pixels), 6, name)
        }
    }

    func testShrinkOnLoadGivesCeilingOfSizeOverN() throws {
        for path in ["jpeg/libjpeg-turbo/testorig.jpg", "jpeg/jpeg-decoder/mjpeg.jpg", "jpeg/jpeg-decoder/progressive3.jpg",
                     "jpeg/mozilla/jpg-cmyk-2.jpg", "jpeg/mozilla/jpg-size-17x17.jpg"] {
            let bytes = try Corpus.bytes(path)
            let full = try ImageDecoder.decode(bytes)
            for shrink in JPEGShrink.allCases where shrink != .none {
                let n = shrink.rawValue
                let small = try ImageDecoder.decode(bytes, options: DecodeOptions(jpegShrink: shrink))
                XCTAssertEqual(small.width, (full.width + n - 1) / n, "\(path) 1/\(n)")
                XCTAssertEqual(small.height, (full.height + n - 1) / n, "\(path) 1/\(n)")
                // Tiny images weigh their edges too much for the means to agree.
                if full.width >= 64 { assertMeansClose(small.pixels, full.pixels, tolerance: 4) }
            }
        }
    }

    func testColorProfileIsKeptOnlyWhenAskedAndWithinTheMetadataLimit() throws {
        let bytes = try Corpus.bytes("jpeg/mozilla/jpg-srgb-icc.jpg")
        let profile = try XCTUnwrap(try ImageDecoder.decode(bytes).colorProfile)
        // An ICC profile declares its own size and carries "acsp" at offset 36.
        XCTAssertEqual(Array(profile[36 ..< 40]), Array("acsp".utf8))
        let declared = profile[0 ..< 4].reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual(declared, profile.count)
        XCTAssertNil(try ImageDecoder.decode(bytes, options: DecodeOptions(keepColorProfile: false)).colorProfile)
        let tight = DecodeOptions(limits: DecodeLimits(maxMetadataBytes: 100))
        let withoutProfile = try ImageDecoder.decode(bytes, options: tight)
        XCTAssertNil(withoutProfile.colorProfile)
        XCTAssertEqual(withoutProfile.pixels, try ImageDecoder.decode(bytes).pixels)
    }

    // MARK: - EXIF orientation

    func testEveryOrientationExampleComesOutUpright() throws {
        // The 18 files were encoded separately (5...8 from transposed pixels, so
        // their 4:2:0 chroma differs most): a right turn differs from _1 by
        // 1.5-3.7 on average, a wrong one by over 70. The mirror checks show the
        // picture is asymmetric enough for this to tell them apart.
        for kind in ["Landscape", "Portrait"] {
            let reference = try ImageDecoder.decode(Corpus.bytes("jpeg/exif-orientation/\(kind)_1.jpg"))
            let (width, height) = kind == "Landscape" ? (1800, 1200) : (1200, 1800)
            XCTAssertEqual(reference.width, width)
            XCTAssertEqual(reference.height, height)
            XCTAssertGreaterThan(meanAbsoluteDifference(reference.pixels.applyingOrientation(2), reference.pixels), 30)
            XCTAssertGreaterThan(meanAbsoluteDifference(reference.pixels.applyingOrientation(4), reference.pixels), 30)
            for n in 0 ... 8 {
                let path = "jpeg/exif-orientation/\(kind)_\(n).jpg"
                let bytes = try Corpus.bytes(path)
                let info = try ImageDecoder.probe(bytes)
                XCTAssertEqual(info.orientation, n == 0 ? 1 : n, path)
                XCTAssertEqual(info.displayWidth, width, path)
                XCTAssertEqual(info.displayHeight, height, path)
                let image = try ImageDecoder.decode(bytes)
                XCTAssertEqual(image.width, width, path)
                XCTAssertEqual(image.height, height, path)
                guard image.width == width, image.height == height else { continue }
                XCTAssertLessThan(meanAbsoluteDifference(image.pixels, reference.pixels), 5, path)
            }
        }
    }

    func testOrientationCanBeLeftAsStored() throws {
        let bytes = try Corpus.bytes("jpeg/exif-orientation/Landscape_6.jpg")
        let stored = try ImageDecoder.decode(bytes, options: DecodeOptions(applyOrientation: false))
        XCTAssertEqual(stored.width, 1200)
        XCTAssertEqual(stored.height, 1800)
        let upright = try ImageDecoder.decode(bytes)
        XCTAssertEqual(stored.pixels.applyingOrientation(6), upright.pixels)
        // Turning the upright image back a quarter turn gives the stored pixels.
        XCTAssertEqual(upright.pixels.applyingOrientation(8), stored.pixels)
    }

    func testOrientationAndShrinkCombine() throws {
        let image = try ImageDecoder.decode(Corpus.bytes("jpeg/exif-orientation/Portrait_5.jpg"), options: DecodeOptions(jpegShrink: .eighth))
        XCTAssertEqual(image.width, 150)
        XCTAssertEqual(image.height, 225)
    }

    func testExifParserReadsBothByteOrdersAndSurvivesGarbage() {
        func tiff(bigEndian: Bool, entries: [(tag: UInt16, type: UInt16, value: UInt32)], ifdOffset: UInt32 = 8) -> [UInt8] {
            func u16(_ v: UInt16) -> [UInt8] { bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)] }
            func u32(_ v: UInt32) -> [UInt8] { bigEndian ? u16(UInt16(v >> 16)) + u16(UInt16(v & 0xFFFF)) : u16(UInt16(v & 0xFFFF)) + u16(UInt16(v >> 16)) }
            var bytes: [UInt8] = (bigEndian ? Array("MM".utf8) : Array("II".utf8)) + u16(42) + u32(ifdOffset)
            bytes += u16(UInt16(entries.count))
            for entry in entries {
                // A SHORT sits in the first two bytes of the value field.
                let value = entry.type == 3 ? u16(UInt16(entry.value)) + [0, 0] : u32(entry.value)
                bytes += u16(entry.tag) + u16(entry.type) + u32(1) + value
            }
            return bytes + u32(0)
        }
        func orientation(_ bytes: [UInt8]) -> Int { bytes.withUnsafeBytes { EXIF.orientation(tiff: $0) } }

        for bigEndian in [false, true] {
            let make: (UInt16, UInt16, UInt32) = (0x010F, 2, 0)
            XCTAssertEqual(orientation(tiff(bigEndian: bigEndian, entries: [make, (0x0112, 3, 6)])), 6)
            XCTAssertEqual(orientation(tiff(bigEndian: bigEndian, entries: [(0x0112, 4, 8)])), 8)
            XCTAssertEqual(orientation(tiff(bigEndian: bigEndian, entries: [(0x0112, 3, 0)])), 1)
            XCTAssertEqual(orientation(tiff(bigEndian: bigEndian, entries: [(0x0112, 3, 9)])), 1)
            XCTAssertEqual(orientation(tiff(bigEndian: bigEndian, entries: [make])), 1)
            XCTAssertEqual(orientation(tiff(bigEndian: bigEndian, entries: [(0x0112, 3, 3)], ifdOffset: 0xFFFF_FFF0)), 1)
            // Cut in the middle of the orientation entry.
            XCTAssertEqual(orientation(Array(tiff(bigEndian: bigEndian, entries: [(0x0112, 3, 3)]).prefix(16))), 1)
        }
        XCTAssertEqual(orientation([]), 1)
        XCTAssertEqual(orientation(Array("XX*\0\0\0\0\u{8}".utf8)), 1)
        // An entry count far beyond the data.
        XCTAssertEqual(orientation([0x49, 0x49, 42, 0, 8, 0, 0, 0, 0xFF, 0xFF, 0x12, 0x01]), 1)
    }

    // MARK: - Encoding

    func testRoundTripAtQuality90IsAbove35dB() throws {
        let photo = try ImageDecoder.decode(Corpus.bytes("png/photo/kodim23.png"))
        XCTAssertEqual(photo.layout, .rgb)
        let encoded = try ImageEncoder.encode(photo, as: .jpeg, options: EncodeOptions(jpeg: JPEGEncodeOptions(quality: 90)))
        let decoded = try ImageDecoder.decode(encoded)
        XCTAssertEqual(decoded.width, photo.width)
        XCTAssertEqual(decoded.height, photo.height)
        XCTAssertGreaterThan(psnr(photo.pixels, decoded.pixels), 35)

        let gray = photo.pixels.converted(to: .gray)
        let grayDecoded = try ImageDecoder.decode(ImageEncoder.encode(Image(pixels: gray), as: .jpeg,
                                                                      options: EncodeOptions(jpeg: JPEGEncodeOptions(quality: 90))))
        XCTAssertEqual(grayDecoded.layout, .gray)
        XCTAssertGreaterThan(psnr(gray, grayDecoded.pixels), 35)
    }

    func testProgressiveOutputHasSOF2AndTheSamePixelsAsBaseline() throws {
        let image = try ImageDecoder.decode(Corpus.bytes("jpeg/libjpeg-turbo/testorig.jpg"))
        let baseline = try ImageEncoder.encode(image, as: .jpeg)
        let progressive = try ImageEncoder.encode(image, as: .jpeg, options: EncodeOptions(jpeg: JPEGEncodeOptions(progressive: true)))
        let baselineMarkers = segments(baseline).map(\.marker), progressiveMarkers = segments(progressive).map(\.marker)
        XCTAssert(baselineMarkers.contains(0xC0) && !baselineMarkers.contains(0xC2))
        XCTAssert(progressiveMarkers.contains(0xC2) && !progressiveMarkers.contains(0xC0))
        // Successive approximation restores every coefficient bit: same image.
        XCTAssertEqual(try ImageDecoder.decode(progressive).pixels, try ImageDecoder.decode(baseline).pixels)
    }

    func testChromaSubsamplingIsWrittenAsAsked() throws {
        let image = try ImageDecoder.decode(Corpus.bytes("jpeg/libjpeg-turbo/testorig.jpg"))
        let expected: [(JPEGEncodeOptions.ChromaSubsampling, UInt8)] = [(.yuv420, 0x22), (.yuv422, 0x21), (.yuv444, 0x11)]
        XCTAssertEqual(JPEGEncodeOptions().chromaSubsampling, .yuv420)
        for (subsampling, lumaFactors) in expected {
            let bytes = try ImageEncoder.encode(image, as: .jpeg, options: EncodeOptions(jpeg: JPEGEncodeOptions(chromaSubsampling: subsampling)))
            let sof = try XCTUnwrap(segments(bytes).first { $0.marker == 0xC0 })
            // SOF payload: precision, height, width, component count, then 3 bytes per component.
            XCTAssertEqual(bytes[sof.payloadStart + 5], 3)
            XCTAssertEqual(bytes[sof.payloadStart + 7], lumaFactors, subsampling.rawValue)
            XCTAssertEqual(bytes[sof.payloadStart + 10], 0x11)
            XCTAssertEqual(bytes[sof.payloadStart + 13], 0x11)
            XCTAssertLessThan(meanAbsoluteDifference(try ImageDecoder.decode(bytes).pixels, image.pixels), 4)
        }
    }

    func testHuffmanOptimisationOnlyChangesTheSize() throws {
        let image = try ImageDecoder.decode(Corpus.bytes("png/photo/kodim23.png"))
        let optimized = try ImageEncoder.encode(image, as: .jpeg)
        let standard = try ImageEncoder.encode(image, as: .jpeg, options: EncodeOptions(jpeg: JPEGEncodeOptions(optimizeHuffman: false)))
        XCTAssertLessThan(optimized.count, standard.count)
        XCTAssertEqual(try ImageDecoder.decode(optimized).pixels, try ImageDecoder.decode(standard).pixels)
    }

    func testEncodingIsDeterministic() throws {
        let image = try ImageDecoder.decode(Corpus.bytes("jpeg/libjpeg-turbo/testorig.jpg"))
        for options in [JPEGEncodeOptions(), JPEGEncodeOptions(quality: 60, progressive: true, chromaSubsampling: .yuv444)] {
            let first = try ImageEncoder.encode(image, as: .jpeg, options: EncodeOptions(jpeg: options))
            let second = try ImageEncoder.encode(image, as: .jpeg, options: EncodeOptions(jpeg: options))
            XCTAssertEqual(first, second)
        }
    }

    func testAlphaIsFlattenedOntoTheBackground() throws {
        // Opaque red at half coverage.
        let rgba = PixelBuffer(width: 16, height: 16, layout: .rgba, bytes: [255, 0, 0, 128].repeated(256))
        let onWhite = try ImageDecoder.decode(ImageEncoder.encode(Image(pixels: rgba), as: .jpeg))
        XCTAssertEqual(onWhite.layout, .rgb)
        assertPixel(onWhite.pixels.pixel(x: 8, y: 8), near: [255, 127, 127])
        let black = JPEGEncodeOptions(background: .black)
        let onBlack = try ImageDecoder.decode(ImageEncoder.encode(Image(pixels: rgba), as: .jpeg, options: EncodeOptions(jpeg: black)))
        assertPixel(onBlack.pixels.pixel(x: 8, y: 8), near: [128, 0, 0])

        let grayAlpha = PixelBuffer(width: 8, height: 8, layout: .grayAlpha, bytes: [0, 0].repeated(64))
        let flattenedGray = try ImageDecoder.decode(ImageEncoder.encode(Image(pixels: grayAlpha), as: .jpeg))
        XCTAssertEqual(flattenedGray.layout, .gray)
        assertPixel(flattenedGray.pixels.pixel(x: 3, y: 3), near: [255])
    }

    func testOutputCarriesNoEXIFButKeepsTheColorProfile() throws {
        let photo = try ImageDecoder.decode(Corpus.bytes("jpeg/zune/medium_no_samp_2500x1786.jpg"), options: DecodeOptions(jpegShrink: .eighth))
        let profile = try XCTUnwrap(photo.colorProfile)
        let withProfile = try ImageEncoder.encode(photo, as: .jpeg)
        let markers = segments(withProfile).map(\.marker)
        XCTAssertFalse(markers.contains(0xE1), "no APP1 (EXIF/XMP) may be written")
        XCTAssertEqual(markers.first, 0xE0, "the default JFIF header")
        XCTAssertEqual(try ImageDecoder.decode(withProfile).colorProfile, profile)
        XCTAssertEqual(try ImageDecoder.probe(withProfile).orientation, 1)

        let stripped = try ImageEncoder.encode(photo, as: .jpeg, options: EncodeOptions(keepColorProfile: false))
        XCTAssertFalse(segments(stripped).map(\.marker).contains(0xE2))
        XCTAssertNil(try ImageDecoder.decode(stripped).colorProfile)
    }

    func testLargeProfileIsSplitAcrossMarkersAndReassembled() throws {
        // Over twice what one APP2 marker holds (65519 bytes of profile).
        var profile = (0 ..< 150_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        profile[36 ..< 40] = ArraySlice("acsp".utf8)
        let image = Image(pixels: gradient(width: 8, height: 8, layout: .rgb), colorProfile: profile)
        let bytes = try ImageEncoder.encode(image, as: .jpeg)
        XCTAssertEqual(segments(bytes).filter { $0.marker == 0xE2 }.count, 3)
        XCTAssertEqual(try ImageDecoder.decode(bytes).colorProfile, profile)
    }

    func testEncoderRefusesBadArguments() throws {
        let pixels = gradient(width: 4, height: 4, layout: .rgb)
        for quality in [0, 101, -5] {
            XCTAssertThrowsError(try ImageEncoder.encode(Image(pixels: pixels), as: .jpeg,
                                                         options: EncodeOptions(jpeg: JPEGEncodeOptions(quality: quality)))) { error in
                XCTAssertEqual((error as? ImagingError)?.code, .invalidArgument)
            }
        }
        XCTAssertThrowsError(try ImageEncoder.encode(Image(pixels: PixelBuffer(width: 0, height: 3, layout: .rgb)), as: .jpeg)) { error in
            XCTAssertEqual((error as? ImagingError)?.code, .invalidArgument)
        }
        let hugeProfile = [UInt8](repeating: 1, count: JPEGEncoder.maxProfileBytes + 1)
        XCTAssertThrowsError(try ImageEncoder.encode(Image(pixels: pixels, colorProfile: hugeProfile), as: .jpeg)) { error in
            XCTAssertEqual((error as? ImagingError)?.code, .invalidArgument)
        }
    }

    func testExtremeQualitiesEncode() throws {
        let pixels = try ImageDecoder.decode(Corpus.bytes("jpeg/libjpeg-turbo/testorig.jpg")).pixels
        for quality in [1, 100] {
            let options = JPEGEncodeOptions(quality: quality, chromaSubsampling: .yuv444)
            let bytes = try ImageEncoder.encode(Image(pixels: pixels), as: .jpeg, options: EncodeOptions(jpeg: options))
            let decoded = try ImageDecoder.decode(bytes)
            XCTAssertEqual(decoded.width, pixels.width)
            XCTAssertEqual(decoded.height, pixels.height)
            if quality == 100 { XCTAssertGreaterThan(psnr(pixels, decoded.pixels), 40) }
        }
    }

    // MARK: - Helpers

    private func decodeError(_ bytes: [UInt8], options: DecodeOptions = .default) -> ImagingError? {
        do {
            _ = try ImageDecoder.decode(bytes, options: options)
            return nil
        } catch {
            return error
        }
    }

    /// The marker segments before the first scan, and the SOS itself.
    private func segments(_ bytes: [UInt8]) -> [(marker: UInt8, payloadStart: Int)] {
        var result: [(UInt8, Int)] = []
        var i = 2
        while i + 3 < bytes.count, bytes[i] == 0xFF {
            let marker = bytes[i + 1]
            if marker == 0xFF { i += 1; continue }
            result.append((marker, i + 4))
            if marker == 0xDA { break }
            i += 2 + (Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]))
        }
        return result
    }

    private func lastIndex(of pattern: [UInt8], in bytes: [UInt8]) -> Int? {
        stride(from: bytes.count - pattern.count, through: 0, by: -1).first { bytes[$0 ..< $0 + pattern.count].elementsEqual(pattern) }
    }

    private func gradient(width: Int, height: Int, layout: PixelLayout) -> PixelBuffer {
        var bytes: [UInt8] = []
        for y in 0 ..< height {
            for x in 0 ..< width {
                for c in 0 ..< layout.channels { bytes.append(UInt8((x * 7 + y * 5 + c * 40) % 256)) }
            }
        }
        return PixelBuffer(width: width, height: height, layout: layout, bytes: bytes)
    }

    private func darkest(_ pixels: PixelBuffer, x: Range<Int>, y: Range<Int>) -> [UInt8] {
        var best: [UInt8] = [255, 255, 255]
        for py in y {
            for px in x {
                let p = pixels.pixel(x: px, y: py)
                if p.reduce(0, { $0 + Int($1) }) < best.reduce(0, { $0 + Int($1) }) { best = p }
            }
        }
        return best
    }

    private func assertPixel(_ pixel: [UInt8], near expected: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(pixel.count, expected.count, file: file, line: line)
        for (a, b) in zip(pixel, expected) {
            XCTAssertLessThanOrEqual(abs(Int(a) - Int(b)), 3, "\(pixel) vs \(expected)", file: file, line: line)
        }
    }

    private func assertMeansClose(_ a: PixelBuffer, _ b: PixelBuffer, tolerance: Double, file: StaticString = #filePath, line: UInt = #line) {
        let meanA = channelMeans(a), meanB = channelMeans(b)
        XCTAssertEqual(meanA.count, meanB.count, file: file, line: line)
        for (x, y) in zip(meanA, meanB) {
            XCTAssertEqual(x, y, accuracy: tolerance, "\(meanA) vs \(meanB)", file: file, line: line)
        }
    }
}

private func channelMeans(_ pixels: PixelBuffer) -> [Double] {
    let c = pixels.channels
    var sums = [Int](repeating: 0, count: c)
    pixels.bytes.withUnsafeBufferPointer { p in
        for i in 0 ..< p.count { sums[i % c] &+= Int(p[i]) }
    }
    return sums.map { Double($0) / Double(max(1, pixels.pixelCount)) }
}

private func meanAbsoluteDifference(_ a: PixelBuffer, _ b: PixelBuffer) -> Double {
    guard a.width == b.width, a.height == b.height, a.layout == b.layout else { return .infinity }
    let total = a.bytes.withUnsafeBufferPointer { x in
        b.bytes.withUnsafeBufferPointer { y in
            var sum = 0
            for i in 0 ..< x.count { sum &+= abs(Int(x[i]) &- Int(y[i])) }
            return sum
        }
    }
    return Double(total) / Double(max(1, a.bytes.count))
}

private func psnr(_ a: PixelBuffer, _ b: PixelBuffer) -> Double {
    guard a.width == b.width, a.height == b.height, a.layout == b.layout else { return 0 }
    let squared = a.bytes.withUnsafeBufferPointer { x in
        b.bytes.withUnsafeBufferPointer { y in
            var sum = 0
            for i in 0 ..< x.count {
                let d = Int(x[i]) &- Int(y[i])
                sum &+= d &* d
            }
            return sum
        }
    }
    let mse = Double(squared) / Double(max(1, a.bytes.count))
    return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
}

private extension Array where Element == UInt8 {
    func repeated(_ count: Int) -> [UInt8] { Array([[UInt8]](repeating: self, count: count).joined()) }
}

private extension Result where Failure == ImagingError {
    var failureCode: ImagingError.Code? {
        if case .failure(let error) = self { return error.code }
        return nil
    }
}
