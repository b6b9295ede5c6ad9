import Foundation
import XCTest
@testable import Imaging

/// The whole-buffer PNG reader against libpng: the same pixels where it reads a
/// file, libpng's own verdict where it declines, and proof that it does read the
/// files it is there for (a reader that always declined would pass the first
/// two). The one difference on purpose: a deflate stream that libdeflate accepts
/// and zlib refuses (see the test of that name).
final class PNGWholeBufferReaderTests: XCTestCase {
    /// libpng, then the whole-buffer reader on every kernel path this CPU runs.
    static let readers: [(name: String, options: DecodeOptions)] =
        [("libpng", DecodeOptions(pngReader: .libpng))]
        + KernelPath.supported.map { ("whole-buffer/\($0.rawValue)", DecodeOptions(pngReader: .automatic, kernelPath: $0)) }

    enum Outcome: Equatable {
        case pixels(width: Int, height: Int, layout: PixelLayout, bytes: [UInt8], profile: [UInt8]?)
        case refused(ImagingError.Code, String)
    }

    static func decode(_ bytes: [UInt8], _ options: DecodeOptions) -> (Outcome, readWhole: Bool) {
        do {
            let (image, readWhole) = try bytes.withUnsafeBytes { try PNGDecoder.decodeTellingReader($0, options: options) }
            let pixels = image.frames[0].pixels
            return (.pixels(width: pixels.width, height: pixels.height, layout: pixels.layout, bytes: pixels.bytes,
                            profile: image.colorProfile), readWhole)
        } catch let error as ImagingError {
            return (.refused(error.code, error.message), false)
        } catch {
            return (.refused(.corrupt, "not an ImagingError: \(error)"), false)
        }
    }

    /// Decodes with every reader and fails unless they all agree; returns whether the whole-buffer reader read it.
    @discardableResult
    static func assertReadersAgree(_ bytes: [UInt8], _ what: String, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        let (reference, _) = decode(bytes, readers[0].options)
        var readWhole = true
        for reader in readers.dropFirst() {
            let (outcome, whole) = decode(bytes, reader.options)
            readWhole = readWhole && whole
            if outcome != reference {
                XCTFail("\(what): \(reader.name) gives \(summary(outcome)), libpng \(summary(reference))", file: file, line: line)
            }
        }
        return readWhole
    }

    static func summary(_ outcome: Outcome) -> String {
        switch outcome {
        case .pixels(let w, let h, let layout, let bytes, _): "\(w)x\(h) \(layout) pixels (\(bytes.count) bytes)"
        case .refused(let code, let message): "refused \(code.rawValue): \(message)"
        }
    }

    // MARK: - The corpus

    func testEveryCorpusPNGGetsTheSamePixelsOrTheSameVerdictFromEveryReader() throws {
        var readWhole = 0, files = 0
        for entry in try Corpus.manifest() {
            let bytes = try Corpus.bytes(entry.path)
            guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) else { continue }
            files += 1
            if Self.assertReadersAgree(bytes, entry.path) { readWhole += 1 }
        }
        print("whole-buffer reader: read \(readWhole) of \(files) corpus PNGs, declined the rest to libpng")
        XCTAssertGreaterThan(files, 100, "the corpus should hold well over 100 PNG files")
        // What is left to libpng: Adam7, gray and RGB colour keys, and the broken files.
        XCTAssertGreaterThanOrEqual(readWhole, 100, "the whole-buffer reader read only \(readWhole) of \(files) corpus PNGs")
    }

    func testTheBenchmarkImagesAreReadWholeWithLibpngsPixels() throws {
        for name in ["rgba2560.png", "rgb2560.png", "logo.png"] {
            let bytes = try Corpus.benchImage(name)
            XCTAssertTrue(Self.assertReadersAgree(bytes, name), "\(name) should be read by the whole-buffer reader")
        }
    }

    // MARK: - Hand-made files: every filter, every layout, one fault at a time

    static func noise(count: Int, seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    /// Rows cycling through the five filters, on noise and on a smooth ramp
    /// (Paeth's three branches all happen on the ramp, ties included).
    static func sample(width: Int, height: Int, channels: Int, seed: UInt64, smooth: Bool = false) -> HandMadePNG {
        let count = width * height * channels
        let pixels: [UInt8] = smooth
            ? (0..<count).map { UInt8(truncatingIfNeeded: ($0 % (width * channels)) / channels * 3 + ($0 / (width * channels)) * 2) }
            : noise(count: count, seed: seed)
        let filters = (0..<height).map { UInt8($0 % 5) }
        return HandMadePNG(width: width, height: height, channels: channels, pixels: pixels, filters: filters)
    }

    func testEveryFilterOnEveryLayoutAndOddWidthsIsReadWholeWithLibpngsPixels() {
        for channels in 1...4 {
            for width in [1, 2, 3, 5, 16, 17, 33, 257] {
                for smooth in [false, true] {
                    let png = Self.sample(width: width, height: 11, channels: channels, seed: UInt64(width * 10 + channels), smooth: smooth)
                    let what = "\(channels) channel(s), width \(width)\(smooth ? ", smooth" : "")"
                    XCTAssertTrue(Self.assertReadersAgree(png.bytes(), what), "\(what): should be read whole")
                    // And the pixels are the ones written, not only the same as libpng's.
                    let (outcome, _) = Self.decode(png.bytes(), DecodeOptions())
                    if case .pixels(_, _, _, let bytes, _) = outcome {
                        XCTAssertEqual(bytes, png.pixels, what)
                    } else {
                        XCTFail("\(what): \(Self.summary(outcome))")
                    }
                }
            }
        }
    }

    /// Stored rows of noise for any colour type and depth, cycling through the five filters.
    static func stored(width: Int, height: Int, colorType: UInt8, bitDepth: Int, seed: UInt64) -> HandMadePNG {
        var png = HandMadePNG(width: width, height: height, colorType: colorType, bitDepth: bitDepth, pixels: [],
                              filters: (0..<height).map { UInt8($0 % 5) })
        png.pixels = noise(count: png.rowBytes * height, seed: seed)
        return png
    }

    func testPalettesSubByteGrayAnd16BitSamplesAreReadWholeWithLibpngsPixels() {
        for width in [1, 3, 7, 9, 33] {
            for depth in [1, 2, 4, 8] {
                // A full palette, so every index is in it; with and without alpha for some entries.
                for alphaEntries in [0, 5] {
                    var png = Self.stored(width: width, height: 9, colorType: 3, bitDepth: depth, seed: UInt64(width * 100 + depth))
                    png.chunksBeforeImageData = [("PLTE", Self.noise(count: 3 << depth, seed: 99))]
                    if alphaEntries > 0 { png.chunksBeforeImageData.append(("tRNS", Self.noise(count: alphaEntries, seed: 98))) }
                    let what = "palette, \(depth)-bit, width \(width), \(alphaEntries) alpha entries"
                    XCTAssertTrue(Self.assertReadersAgree(png.bytes(), what), "\(what): should be read whole")
                }
                let gray = Self.stored(width: width, height: 9, colorType: 0, bitDepth: depth, seed: UInt64(width * 10 + depth))
                XCTAssertTrue(Self.assertReadersAgree(gray.bytes(), "gray \(depth)-bit, width \(width)"), "gray \(depth)-bit: should be read whole")
            }
            for colorType: UInt8 in [0, 2, 4, 6] {
                let png = Self.stored(width: width, height: 9, colorType: colorType, bitDepth: 16, seed: UInt64(width + Int(colorType)))
                XCTAssertTrue(Self.assertReadersAgree(png.bytes(), "16-bit colour type \(colorType), width \(width)"),
                              "16-bit colour type \(colorType): should be read whole")
            }
        }
    }

    func testTheExpandedSamplesAreTheOnesThePNGSpecificationDefines() {
        // 2-bit palette indices 0...3 across one row, two entries with alpha: each pixel is its palette entry.
        var png = HandMadePNG(width: 4, height: 1, colorType: 3, bitDepth: 2, pixels: [0b00_01_10_11], filters: [0])
        png.chunksBeforeImageData = [("PLTE", [10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42]), ("tRNS", [100, 200])]
        let (outcome, readWhole) = Self.decode(png.bytes(), DecodeOptions())
        XCTAssertTrue(readWhole)
        XCTAssertEqual(outcome, .pixels(width: 4, height: 1, layout: .rgba,
                                        bytes: [10, 11, 12, 100, 20, 21, 22, 200, 30, 31, 32, 255, 40, 41, 42, 255], profile: nil))
        // 4-bit gray 0, 5, 15 scales by 17; 16-bit keeps the high byte.
        let gray4 = HandMadePNG(width: 3, height: 1, colorType: 0, bitDepth: 4, pixels: [0x05, 0xF0], filters: [1])
        XCTAssertEqual(Self.decode(gray4.bytes(), DecodeOptions()).0,
                       .pixels(width: 3, height: 1, layout: .gray, bytes: [0, 85, 255], profile: nil))
        let gray16 = HandMadePNG(width: 2, height: 1, colorType: 0, bitDepth: 16, pixels: [0x12, 0x34, 0xAB, 0xCD], filters: [4])
        XCTAssertEqual(Self.decode(gray16.bytes(), DecodeOptions()).0,
                       .pixels(width: 2, height: 1, layout: .gray, bytes: [0x12, 0xAB], profile: nil))
    }

    func testAPaletteIndexPastThePaletteIsLeftToLibpng() {
        // Index 3 of a 2-entry palette: libpng draws it black and warns; the whole-buffer reader declines.
        var png = HandMadePNG(width: 4, height: 1, colorType: 3, bitDepth: 2, pixels: [0b00_01_00_11], filters: [0])
        png.chunksBeforeImageData = [("PLTE", [10, 11, 12, 20, 21, 22])]
        XCTAssertFalse(Self.assertReadersAgree(png.bytes(), "index past the palette"))
    }

    func testAGrayOrRGBColourKeyIsLeftToLibpng() {
        var png = Self.stored(width: 8, height: 4, colorType: 2, bitDepth: 8, seed: 12)
        png.chunksBeforeImageData = [("tRNS", [0, 1, 0, 2, 0, 3])]
        XCTAssertFalse(Self.assertReadersAgree(png.bytes(), "RGB colour key"))
    }

    func testADeflateStreamZlibRefusesButLibdeflateAcceptsDecodesWithItsAdler32Checked() {
        // Found by the differential fuzzer (docs/performance.md): one bit flipped in a dynamic
        // block's header. zlib refuses it ("invalid literal/length code"); libdeflate is lenient
        // here on purpose and safely (ebiggers/libdeflate#288), and the Adler-32 of what it
        // inflates matches. The whole-buffer reader keeps that leniency, so this 32x32 gray+alpha
        // file decodes where libpng alone refuses it; the two kernel paths still agree.
        let base64 = "iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAQAAADZc7J/AAAABGdBTUEAAYagMeiWXwAAADVJREFUeJxj/M/AwAGFnGg0MSKcLN8ZKAMsP4a+AeNhMBoGVDFgNBBHw4AqBowG4mgYUMMAAN8qIH2plMKIAAAAAElFTkSuQmCC"
        let bytes = [UInt8](Data(base64Encoded: base64)!)
        if case .refused(let code, let message) = Self.decode(bytes, DecodeOptions(pngReader: .libpng)).0 {
            XCTAssertEqual(code, .corrupt)
            XCTAssertTrue(message.contains("invalid literal/length code"), message)
        } else {
            XCTFail("libpng (zlib) should refuse this stream")
        }
        var outcomes: [Outcome] = []
        for path in KernelPath.supported {
            let (outcome, readWhole) = Self.decode(bytes, DecodeOptions(kernelPath: path))
            XCTAssertTrue(readWhole, "\(path)")
            outcomes.append(outcome)
        }
        if case .pixels(32, 32, .grayAlpha, _, _) = outcomes[0] {} else { XCTFail("\(Self.summary(outcomes[0]))") }
        XCTAssertEqual(Set(outcomes.map(Self.summary)).count, 1)
        XCTAssertTrue(outcomes.allSatisfy { $0 == outcomes[0] })
    }

    func testRunsOfPaethRowsTakenTwoAtATimeGiveLibpngsPixels() {
        // The SIMD path unfilters two consecutive Paeth rows together (3- and 4-byte pixels); odd
        // heights leave a last row alone, and a Paeth row after another filter starts a new pair.
        for channels in [3, 4] {
            for width in [1, 2, 3, 17, 257] {
                for height in [1, 2, 3, 8] {
                    for smooth in [false, true] {
                        var png = Self.sample(width: width, height: height, channels: channels, seed: UInt64(width * height), smooth: smooth)
                        png.filters = (0..<height).map { $0 == 2 ? 1 : 4 } // Paeth everywhere but the third row
                        let what = "\(channels) channels, \(width)x\(height) Paeth rows\(smooth ? ", smooth" : "")"
                        XCTAssertTrue(Self.assertReadersAgree(png.bytes(), what), "\(what): should be read whole")
                        if case .pixels(_, _, _, let bytes, _) = Self.decode(png.bytes(), DecodeOptions()).0 {
                            XCTAssertEqual(bytes, png.pixels, what)
                        } else {
                            XCTFail(what)
                        }
                    }
                }
            }
        }
    }

    func testManyIDATChunksAndAncillaryChunksAfterThemAreStillReadWhole() {
        var png = Self.sample(width: 40, height: 30, channels: 4, seed: 7)
        png.idatChunks = 9
        png.chunksAfterImageData = [("tEXt", Array("Comment\u{0}after the image".utf8)), ("zzZz", [1, 2, 3])]
        XCTAssertTrue(Self.assertReadersAgree(png.bytes(), "9 IDATs, then tEXt and an unknown ancillary chunk"))
        // An ancillary chunk's CRC is libpng's warning, not an error: still the same pixels.
        var badText = png.bytes()
        let textCRC = badText.count - 12 - 15 - 1 // the last CRC byte of tEXt: before zzZz (15 bytes) and IEND (12)
        badText[textCRC] ^= 0xff
        XCTAssertTrue(Self.assertReadersAgree(badText, "an ancillary chunk after the image with a bad CRC"))
    }

    // Each of these is a file the whole-buffer reader must decline: libpng then
    // gives its own verdict, which is what every reader must report.

    func testABadIDATCRCIsLibpngsError() {
        var png = Self.sample(width: 20, height: 10, channels: 3, seed: 1)
        png.idatChunks = 3
        png.breakIDATCRC = true
        XCTAssertFalse(Self.assertReadersAgree(png.bytes(), "bad IDAT CRC"))
        if case .pixels = Self.decode(png.bytes(), DecodeOptions()).0 { XCTFail("a bad IDAT CRC must be refused") }
    }

    func testABadAdler32IsDeclinedAndLibpngStillDecodes() {
        // libpng is told to ignore the Adler-32 (the CRCs cover the data); libdeflate checks it.
        var png = Self.sample(width: 20, height: 10, channels: 4, seed: 2)
        png.breakAdler32 = true
        XCTAssertFalse(Self.assertReadersAgree(png.bytes(), "bad Adler-32"))
    }

    func testAnInvalidFilterTypeIsLibpngsError() {
        var png = Self.sample(width: 20, height: 10, channels: 4, seed: 3)
        png.filters[6] = 5
        XCTAssertFalse(Self.assertReadersAgree(png.bytes(), "filter type 5"))
        if case .pixels = Self.decode(png.bytes(), DecodeOptions()).0 { XCTFail("filter type 5 must be refused") }
    }

    func testDataAfterTheZlibStreamIsDeclined() {
        var png = Self.sample(width: 20, height: 10, channels: 3, seed: 4)
        png.bytesAfterZlibStream = [0, 0, 0, 0]
        XCTAssertFalse(Self.assertReadersAgree(png.bytes(), "bytes after the zlib stream"))
    }

    func testTooLittleImageDataIsLibpngsTruncation() {
        // Ten rows of data under a header that claims eleven.
        var bytes = Self.sample(width: 20, height: 10, channels: 4, seed: 5).bytes()
        let elevenRows = HandMadePNG.chunk("IHDR", HandMadePNG.bigEndian(20) + HandMadePNG.bigEndian(11) + [8, 6, 0, 0, 0])
        bytes.replaceSubrange(8..<(8 + elevenRows.count), with: elevenRows)
        XCTAssertFalse(Self.assertReadersAgree(bytes, "one row short"))
        if case .pixels = Self.decode(bytes, DecodeOptions()).0 { XCTFail("a missing row must be refused") }
    }

    func testAMissingIENDIsLibpngsTruncation() {
        var png = Self.sample(width: 20, height: 10, channels: 4, seed: 6)
        png.leaveOutIEND = true
        XCTAssertFalse(Self.assertReadersAgree(png.bytes(), "no IEND"))
        if case .refused(let code, _) = Self.decode(png.bytes(), DecodeOptions()).0 {
            XCTAssertEqual(code, .truncated)
        } else {
            XCTFail("a file without IEND must be refused as truncated")
        }
    }

    func testAChunkBetweenIDATsIsLeftToLibpng() {
        var png = Self.sample(width: 20, height: 10, channels: 4, seed: 8)
        png.idatChunks = 3
        png.chunkBetweenIDATs = ("tEXt", Array("a\u{0}b".utf8))
        XCTAssertFalse(Self.assertReadersAgree(png.bytes(), "tEXt between IDATs"))
    }

    func testASmallerZlibWindowIsLeftToLibpng() {
        // zlib refuses a distance beyond a declared 16 KB window; libdeflate would not look, so it is not asked.
        var png = Self.sample(width: 20, height: 10, channels: 4, seed: 9)
        png.zlibCMF = 0x68
        XCTAssertFalse(Self.assertReadersAgree(png.bytes(), "16 KB window"))
    }

    func testAnAncillaryChunkOverTheMetadataLimitAfterTheImageIsLibpngsError() {
        var png = Self.sample(width: 20, height: 10, channels: 4, seed: 10)
        png.chunksAfterImageData = [("zzZz", [UInt8](repeating: 7, count: 5000))]
        let limits = DecodeLimits(maxMetadataBytes: 4096)
        let (reference, _) = Self.decode(png.bytes(), DecodeOptions(limits: limits, pngReader: .libpng))
        let (whole, readWhole) = Self.decode(png.bytes(), DecodeOptions(limits: limits))
        XCTAssertEqual(whole, reference)
        XCTAssertFalse(readWhole)
    }

    func testAnImageWhoseBuffersWouldPassTheMemoryLimitIsReadRowByRowByLibpng() {
        // 40x30 RGBA in 9 IDATs: 30 x 161 inflated bytes plus the joined data (about 4.9 KB).
        var png = Self.sample(width: 40, height: 30, channels: 4, seed: 13)
        png.idatChunks = 9
        let bytes = png.bytes()
        let (reference, _) = Self.decode(bytes, DecodeOptions(pngReader: .libpng))
        let roomy = DecodeOptions(limits: DecodeLimits(maxPNGWholeBufferBytes: 64 << 10))
        let tight = DecodeOptions(limits: DecodeLimits(maxPNGWholeBufferBytes: 4096))
        let (wide, readWideWhole) = Self.decode(bytes, roomy)
        let (narrow, readNarrowWhole) = Self.decode(bytes, tight)
        XCTAssertTrue(readWideWhole, "within the limit the whole-buffer reader reads it")
        XCTAssertFalse(readNarrowWhole, "over the limit libpng reads it, with no image-sized buffer")
        XCTAssertEqual(wide, reference)
        XCTAssertEqual(narrow, reference)
    }

    func testAForcedKernelPathTheCPULacksIsAnError() {
        guard let missing = KernelPath.allCases.first(where: { !$0.isSupported }) else { return }
        let png = Self.sample(width: 4, height: 4, channels: 4, seed: 11).bytes()
        if case .refused(let code, _) = Self.decode(png, DecodeOptions(kernelPath: missing)).0 {
            XCTAssertEqual(code, .unsupported)
        } else {
            XCTFail("kernel path \(missing) is not on this CPU: decoding with it must fail")
        }
    }
}
