import XCTest
@testable import Imaging

/// The whole-buffer PNG reader against libpng: the same pixels where it reads a
/// file, libpng's own verdict where it declines, and proof that it does read the
/// plain files it is there for (a reader that always declined would pass the
/// first two).
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
        // PngSuite is mostly the layouts libpng expands (palettes, 1-16 bits, Adam7),
        // but its 8-bit true-colour and gray files are the reader's to take.
        XCTAssertGreaterThanOrEqual(readWhole, 30, "the whole-buffer reader read only \(readWhole) of \(files) corpus PNGs")
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
