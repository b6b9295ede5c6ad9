import Foundation
import XCTest
@testable import Imaging

/// Hostile inputs must end in a typed `ImagingError` or a valid image: never a
/// crash, a hang or an unbounded allocation.
///
/// - every file in `TestImages/fuzz-regressions/` (reproducers saved by the
///   fuzzing campaigns, see docs/fuzzing.md) is decoded with several option sets;
/// - synthetic hostile inputs are made from small valid files of each format
///   (encoded here, so no corpus is needed): truncations at every 97th byte,
///   random byte flips with a fixed seed, and headers declaring huge sizes.
final class FuzzRegressionTests: XCTestCase {
    /// The limits the fuzz target uses (Fuzz/Sources/ImagingFuzzer/FuzzTarget.swift).
    static let limits = DecodeLimits(
        maxPixels: 4_000_000, maxDimension: 16_384, maxFrames: 64,
        maxTotalFramePixels: 16_000_000, maxInputBytes: 1 << 20, maxMetadataBytes: 256 << 10
    )

    /// Generous even for a debug build under load; a decoder stuck in a loop takes far longer.
    static let secondsPerInput = 10.0

    static let optionSets: [DecodeOptions] = [
        DecodeOptions(limits: limits),
        DecodeOptions(limits: limits, applyOrientation: false, jpegShrink: .quarter, firstFrameOnly: true, keepColorProfile: false),
        DecodeOptions(limits: limits, jpegShrink: .eighth, firstFrameOnly: false),
    ]

    // MARK: - Saved reproducers

    func testEveryFuzzRegressionFileDecodesOrThrowsTypedError() throws {
        let dir = Corpus.projectRoot.appendingPathComponent("TestImages/fuzz-regressions")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
            .filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }
            .sorted()
        for name in names {
            let bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent(name)))
            for options in Self.optionSets {
                checkHostile(bytes, options: options, label: "\(name) \(options.jpegShrink) firstFrameOnly=\(options.firstFrameOnly)")
            }
        }
    }

    // MARK: - Synthetic hostile inputs

    func testTruncationsAtEvery97thByte() throws {
        for (format, valid) in validSamples() {
            var length = 0
            while length < valid.count {
                checkHostile(Array(valid[..<length]), options: Self.optionSets[length / 97 % 3], label: "\(format) truncated to \(length)")
                length += 97
            }
            // Short prefixes (signature and header boundaries) too.
            for length in 1..<min(valid.count, 64) {
                checkHostile(Array(valid[..<length]), options: Self.optionSets[0], label: "\(format) truncated to \(length)")
            }
        }
    }

    func testRandomByteFlipsWithFixedSeed() throws {
        var rng = SplitMix64(seed: 0x5EED_F022)
        for (format, valid) in validSamples() {
            for round in 0..<300 {
                var bytes = valid
                let flips = 1 + Int(rng.next() % 8)
                for _ in 0..<flips {
                    // Keep the signature mostly intact so the format's decoder is reached.
                    let index = 4 + Int(rng.next() % UInt64(bytes.count - 4))
                    switch rng.next() % 3 {
                    case 0: bytes[index] ^= UInt8(1 << (rng.next() % 8))
                    case 1: bytes[index] = UInt8(truncatingIfNeeded: rng.next())
                    default: bytes[index] = [0x00, 0xFF, 0x7F, 0x80][Int(rng.next() % 4)]
                    }
                }
                checkHostile(bytes, options: Self.optionSets[round % 3], label: "\(format) flip round \(round)")
            }
        }
    }

    func testHeadersDeclaringHugeSizesAreRefusedBeforeAllocating() throws {
        // PNG: a valid IHDR (correct CRC) declaring 1,000,000 x 1,000,000 RGBA.
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", be32(1_000_000) + be32(1_000_000) + [8, 6, 0, 0, 0])
        png += chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
        png += chunk("IEND", [])
        expectRefused(png, label: "PNG 1M x 1M", mustBeTooLarge: true)
        // Over maxDimension (16384) but under libpng's own 1,000,000 default: refused by
        // png_set_user_limits, which libpng reports as a warning plus "Invalid IHDR data";
        // this was classified `corrupt` before png_codec.c tracked that warning.
        var wide: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        wide += chunk("IHDR", be32(20_000) + be32(1) + [8, 0, 0, 0, 0])
        wide += chunk("IEND", [])
        expectRefused(wide, label: "PNG 20000 x 1", mustBeTooLarge: true)

        // JPEG: SOI, a baseline SOF0 declaring 65500 x 65500, EOI.
        let jpeg: [UInt8] = [0xFF, 0xD8,
                             0xFF, 0xC0, 0x00, 0x11, 0x08, 0xFF, 0xDC, 0xFF, 0xDC, 0x03,
                             0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
                             0xFF, 0xD9]
        expectRefused(jpeg, label: "JPEG 65500 x 65500")

        // GIF: a 65535 x 65535 logical screen with one 65535 x 65535 frame and no data.
        let gif: [UInt8] = Array("GIF89a".utf8) + [0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00,
                                                   0x2C, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x02, 0x00, 0x3B]
        expectRefused(gif, label: "GIF 65535 x 65535")
    }

    // MARK: - Helpers

    /// Small valid files of each format whose encoder works here: an opaque RGB
    /// gradient, a gray+alpha image and, for GIF, a two-frame animation.
    private func validSamples() -> [(String, [UInt8])] {
        var rgb = PixelBuffer(width: 23, height: 17, layout: .rgb)
        for i in 0..<rgb.bytes.count { rgb.bytes[i] = UInt8(truncatingIfNeeded: i &* 7 &+ i / 69) }
        var ga = PixelBuffer(width: 9, height: 31, layout: .grayAlpha)
        for i in 0..<ga.bytes.count { ga.bytes[i] = UInt8(truncatingIfNeeded: i &* 13) }
        var frame2 = rgb
        for i in 0..<frame2.bytes.count { frame2.bytes[i] = 255 &- frame2.bytes[i] }
        let animation = Image(frames: [ImageFrame(pixels: rgb, delayCentiseconds: 5), ImageFrame(pixels: frame2, delayCentiseconds: 7)],
                              loopCount: 0)

        var samples: [(String, [UInt8])] = []
        for format in ImageFormat.allCases {
            for image in [Image(pixels: rgb), Image(pixels: ga), animation] {
                if format != .gif, image.isAnimated { continue }
                if let bytes = try? ImageEncoder.encode(image, as: format),
                   (try? ImageDecoder.decode(bytes)) != nil {
                    samples.append(("\(format)", bytes))
                }
            }
        }
        XCTAssertFalse(samples.isEmpty, "no encoder produced a sample")
        return samples
    }

    /// Decodes (and probes) hostile bytes: a typed error or a consistent image, in bounded time.
    private func checkHostile(_ bytes: [UInt8], options: DecodeOptions, label: String, file: StaticString = #filePath, line: UInt = #line) {
        let start = Date()
        _ = try? ImageDecoder.probe(bytes, limits: options.limits)
        do {
            let image = try ImageDecoder.decode(bytes, options: options)
            XCTAssertGreaterThan(image.width, 0, label, file: file, line: line)
            XCTAssertGreaterThan(image.height, 0, label, file: file, line: line)
            XCTAssertLessThanOrEqual(image.width * image.height, options.limits.maxPixels, label, file: file, line: line)
            XCTAssertLessThanOrEqual(image.frames.count, options.limits.maxFrames, label, file: file, line: line)
            if options.firstFrameOnly { XCTAssertEqual(image.frames.count, 1, label, file: file, line: line) }
            for frame in image.frames {
                let p = frame.pixels
                XCTAssertEqual(p.width, image.width, label, file: file, line: line)
                XCTAssertEqual(p.height, image.height, label, file: file, line: line)
                XCTAssertEqual(p.bytes.count, p.width * p.height * p.layout.channels, label, file: file, line: line)
            }
        } catch {
            // Typed throws: `error` is an ImagingError; it must carry a message.
            XCTAssertFalse(error.message.isEmpty, "\(label): empty error message", file: file, line: line)
        }
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertLessThan(elapsed, Self.secondsPerInput, "\(label) took \(elapsed) s", file: file, line: line)
    }

    /// The decode must fail. For PNG the header is complete and valid, so the
    /// failure must be the size check; the JPEG and GIF headers stop early, and
    /// libjpeg / giflib may report that first, which is fine too.
    private func expectRefused(_ bytes: [UInt8], label: String, mustBeTooLarge: Bool = false) {
        let start = Date()
        do {
            let image = try ImageDecoder.decode(bytes, options: DecodeOptions(limits: Self.limits))
            XCTFail("\(label): decoded to \(image.width)x\(image.height) instead of being refused")
        } catch {
            if mustBeTooLarge { XCTAssertEqual(error.code, .tooLarge, "\(label): \(error)") }
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.0, "\(label) was not refused quickly")
    }

    private func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    private func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        return be32(UInt32(data.count)) + typeBytes + data + be32(crc32(typeBytes + data))
    }

    private func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

