import Foundation
import Imaging
import XCTest

/// Colour management through lcms2, held to libvips' `icc_transform` on the
/// committed set in TestImages/colour (scripts/make-colour-testset.sh).
final class ColourTests: XCTestCase {
    private let srgb = DecodeOptions(colorHandling: .convertToSRGB)

    private func colourImage(_ name: String) throws -> [UInt8] { try Corpus.testImage("colour/" + name) }

    func testDeltaE2000MatchesSharmasTestData() {
        // Pairs 1, 7 and 17 of Sharma, Wu and Dalal (2005), table 1.
        let pairs: [(DeltaE2000.Lab, DeltaE2000.Lab, Double)] = [
            (.init(l: 50, a: 2.6772, b: -79.7751), .init(l: 50, a: 0, b: -82.7485), 2.0425),
            (.init(l: 50, a: 0, b: 0), .init(l: 50, a: -1, b: 2), 2.3669),
            (.init(l: 50, a: 2.5, b: 0), .init(l: 73, a: 25, b: -18), 27.1492),
        ]
        for (p, q, expected) in pairs {
            XCTAssertEqual(DeltaE2000.difference(p, q), expected, accuracy: 0.0001)
        }
    }

    func testEveryColourFileMatchesLibvipsWithinDeltaE() throws {
        let files = ["adobe-rgb.jpg", "display-p3.jpg", "display-p3.png", "cmyk-profile.jpg", "cmyk-untagged.jpg", "ycck.jpg",
                     "gray-gamma22.jpg", "corrupt-profile.jpg", "mismatched-profile.jpg"]
        for file in files {
            let stem = file.replacingOccurrences(of: ".png", with: "-png").replacingOccurrences(of: ".jpg", with: "")
            let ours = try ImageDecoder.decode(try colourImage(file), options: srgb)
            let reference = try ImageDecoder.decode(try colourImage("reference/\(stem).png"))
            XCTAssertNil(ours.colorProfile, file)
            XCTAssertEqual(ours.width, reference.width, file)
            XCTAssertEqual(ours.height, reference.height, file)
            let (mean, p99) = DeltaE2000.stats(PixelBufferSamples(pixels: ours.pixels), PixelBufferSamples(pixels: reference.pixels))
            print("colour-vs-libvips \(file): mean ΔE2000 \(String(format: "%.3f", mean)), p99 \(String(format: "%.3f", p99))")
            XCTAssertLessThanOrEqual(mean, 1.0, "\(file): mean ΔE2000 \(mean)")
            XCTAssertLessThanOrEqual(p99, 3.0, "\(file): p99 ΔE2000 \(p99)")
        }
    }

    func testConversionChangesWideGamutPixels() throws {
        // The references would be met by no conversion at all only if the profile did nothing.
        let bytes = try colourImage("adobe-rgb.jpg")
        let raw = try ImageDecoder.decode(bytes)
        let converted = try ImageDecoder.decode(bytes, options: srgb)
        let (mean, _) = DeltaE2000.stats(PixelBufferSamples(pixels: raw.pixels), PixelBufferSamples(pixels: converted.pixels))
        XCTAssertGreaterThan(mean, 0.5)
    }

    func testUntaggedSourcesAreUnchanged() throws {
        let bytes = try colourImage("reference/adobe-rgb.png") // untagged PNG
        XCTAssertEqual(try ImageDecoder.decode(bytes, options: srgb).pixels, try ImageDecoder.decode(bytes).pixels)
        XCTAssertEqual(try ImageDecoder.decode(bytes, options: srgb).colorWarnings, [])
    }

    func testBrokenAndMismatchedProfilesAreIgnoredWithAWarning() throws {
        for (file, kind) in [("corrupt-profile.jpg", ColorWarning.Kind.unreadableProfile), ("mismatched-profile.jpg", .mismatchedProfile)] {
            let bytes = try colourImage(file)
            let raw = try ImageDecoder.decode(bytes)
            XCTAssertNotNil(raw.colorProfile, "\(file) carries a profile")
            let image = try ImageDecoder.decode(bytes, options: srgb)
            XCTAssertEqual(image.colorWarnings.map(\.kind), [kind], file)
            XCTAssertNil(image.colorProfile, file)
            XCTAssertEqual(image.pixels, raw.pixels, "\(file): an ignored profile leaves the pixels as sRGB")
        }
    }

    func testUntaggedCMYKGoesThroughTheDefaultProfile() throws {
        let image = try ImageDecoder.decode(try colourImage("cmyk-untagged.jpg"), options: srgb)
        XCTAssertEqual(image.sourceColorModel, .cmyk)
        XCTAssertEqual(image.colorWarnings.map(\.kind), [.defaultCMYKProfile])
        XCTAssertEqual(image.layout, .rgb)
    }

    func testCMYKUsesItsOwnProfileNotTheDefault() throws {
        // cmyk-profile.jpg embeds Ghostscript's ps_cmyk.icc, far from the default press profile.
        let image = try ImageDecoder.decode(try colourImage("cmyk-profile.jpg"), options: srgb)
        XCTAssertEqual(image.colorWarnings, [])
        let viaDefault = try ImageDecoder.decode(try colourImage("cmyk-profile.jpg"),
                                                 options: DecodeOptions(keepColorProfile: false, colorHandling: .convertToSRGB))
        XCTAssertEqual(image.pixels, viaDefault.pixels, "keepColorProfile only decides what the output carries")
    }

    func testKeepProfileKeepsAnRGBProfileButNeverACMYKOne() throws {
        let p3 = try colourImage("display-p3.jpg")
        let kept = try ImageDecoder.decode(p3, options: DecodeOptions(colorHandling: .keepProfile))
        XCTAssertEqual(kept.colorProfile, try ImageDecoder.decode(p3).colorProfile)
        XCTAssertEqual(kept.pixels, try ImageDecoder.decode(p3).pixels)
        let cmyk = try ImageDecoder.decode(try colourImage("ycck.jpg"), options: DecodeOptions(colorHandling: .keepProfile))
        XCTAssertNil(cmyk.colorProfile)
    }

    func testEncoderNeverWritesACMYKProfileOnRGBPixels() throws {
        let raw = try ImageDecoder.decode(try colourImage("ycck.jpg")) // as stored: the CMYK profile rides along
        XCTAssertEqual(raw.colorProfile.flatMap(ICCProfile.headerColorSpace), "CMYK")
        let encoded = try ImageEncoder.encode(raw, as: .jpeg)
        XCTAssertNil(try ImageDecoder.decode(encoded).colorProfile)
    }

    func testAKeptProfileTooBigForAThumbnailIsConvertedAway() throws {
        // Adobe RGB from colord is 18.6 KB; a 64x43 thumbnail has 8.3 KB of samples.
        let image = try ImageDecoder.decode(try colourImage("adobe-rgb.jpg"), options: DecodeOptions(colorHandling: .keepProfile))
        let small = try XCTUnwrap(image.applying(.scale(width: 64, height: nil)).first).image
        XCTAssertNotNil(small.colorProfile)
        let fitted = try small.fittingKeptProfile()
        XCTAssertNil(fitted.colorProfile)
        XCTAssertNotEqual(fitted.pixels, small.pixels)
        // The 584-byte Display P3 profile fits the same thumbnail and stays.
        let p3 = try ImageDecoder.decode(try colourImage("display-p3.jpg"), options: DecodeOptions(colorHandling: .keepProfile))
        let p3Small = try XCTUnwrap(p3.applying(.scale(width: 64, height: nil)).first).image
        XCTAssertNotNil(try p3Small.fittingKeptProfile().colorProfile)
    }

    /// The issue's 585 KB thumbnail: the corpus YCCK photo embeds a 557 KB SWOP profile.
    func testYCCKThumbnailIsTheSizeOfAnSRGBOne() throws {
        let bytes = try Corpus.bytes("jpeg/jpeg-decoder/ycck.jpg")
        let image = try ImageDecoder.decode(bytes, options: srgb)
        XCTAssertEqual(image.sourceColorModel, .cmyk)
        XCTAssertEqual(image.colorWarnings, [])
        let thumbnail = try XCTUnwrap(image.applying(.scale(width: 300, height: nil)).first).image
        let fromYCCK = try ImageEncoder.encode(thumbnail, as: .jpeg)
        XCTAssertNil(try ImageDecoder.decode(fromYCCK).colorProfile)
        // The same photo as an sRGB JPEG of the same size, through the same thumbnail.
        let srgbSource = try ImageDecoder.decode(try ImageEncoder.encode(image, as: .jpeg, options: EncodeOptions(jpeg: .init(quality: 95))))
        let fromSRGB = try ImageEncoder.encode(try XCTUnwrap(srgbSource.applying(.scale(width: 300, height: nil)).first).image, as: .jpeg)
        XCTAssertEqual(Double(fromYCCK.count), Double(fromSRGB.count), accuracy: Double(fromSRGB.count) / 10)
    }
}
