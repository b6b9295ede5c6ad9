import Foundation
import XCTest
@testable import Imaging

/// The shared corpus as a test table: every file gets the verdict and size
/// MANIFEST.tsv expects, and every valid file the pixels an independent decoder
/// produced (Reference/pixels.tsv).
final class CorpusTests: XCTestCase {
    /// Files where this project deliberately differs from MANIFEST.tsv, with the
    /// reason (also in the README's format notes). Empty means full agreement.
    static let verdictExceptions: [String: String] = [:]

    func testEveryManifestFileGetsItsExpectedVerdictAndSize() throws {
        let entries = try Corpus.manifest()
        XCTAssertEqual(entries.count, 290, "MANIFEST.tsv should list 290 files")
        var disagreements: [String] = []
        for entry in entries where Self.verdictExceptions[entry.path] == nil {
            let bytes = try Corpus.bytes(entry.path)
            let started = ContinuousClock.now
            let result: Result<(ImageInfo, Image), ImagingError> = {
                do throws(ImagingError) {
                    let info = try ImageDecoder.probe(bytes)
                    let image = try ImageDecoder.decode(bytes)
                    return .success((info, image))
                } catch {
                    return .failure(error)
                }
            }()
            let elapsed = ContinuousClock.now - started
            if elapsed > .seconds(10) { disagreements.append("\(entry.path): took \(elapsed) (hang guard)") }
            switch (entry.valid, result) {
            case (true, .success(let (info, image))):
                if info.format.rawValue != entry.format {
                    disagreements.append("\(entry.path): detected \(info.format.rawValue), MANIFEST says \(entry.format)")
                }
                if let w = entry.width, let h = entry.height, info.width != w || info.height != h {
                    disagreements.append("\(entry.path): stored size \(info.width)x\(info.height), MANIFEST says \(w)x\(h)")
                }
                if image.width != info.displayWidth || image.height != info.displayHeight {
                    disagreements.append("\(entry.path): decoded \(image.width)x\(image.height), expected upright \(info.displayWidth)x\(info.displayHeight)")
                }
            case (true, .failure(let error)):
                disagreements.append("\(entry.path): expected valid, refused with \(error)")
            case (false, .success(let (info, _))):
                disagreements.append("\(entry.path): expected invalid, decoded as \(info.format) \(info.width)x\(info.height)")
            case (false, .failure(let error)):
                if entry.what.contains("[decompression bomb"), error.code != .tooLarge, error.code != .truncated {
                    disagreements.append("\(entry.path): a bomb should be too_large (or truncated before its pixels), got \(error.code.rawValue)")
                }
            }
        }
        XCTAssertTrue(disagreements.isEmpty, "\(disagreements.count) disagreement(s):\n" + disagreements.joined(separator: "\n"))
    }

    func testPNGPixelsMatchAnIndependentDecoder() throws {
        try compare(format: "png", decoder: "vips", exact: true)
    }

    func testGIFPixelsMatchAnIndependentDecoder() throws {
        try compare(format: "gif", decoder: "pillow", exact: true)
    }

    func testJPEGPixelsMatchAnIndependentDecoder() throws {
        // Pillow bundles a different libjpeg-turbo build; the IDCT and upsampling
        // are the same algorithms, so block means must agree closely.
        try compare(format: "jpeg", decoder: "pillow", exact: false)
    }

    private func compare(format: String, decoder: String, exact: Bool) throws {
        let reference = try ReferencePixels.load()
        let entries = try Corpus.manifest().filter { $0.format == format && $0.valid }
        XCTAssertFalse(entries.isEmpty)
        var mismatches: [String] = []
        for entry in entries {
            guard let ref = reference.row(entry.path, decoder: decoder) else {
                mismatches.append("\(entry.path): no reference row")
                continue
            }
            let image: Image
            do {
                image = try ImageDecoder.decode(Corpus.bytes(entry.path))
            } catch {
                mismatches.append("\(entry.path): refused: \(error)")
                continue
            }
            guard image.width == ref.width, image.height == ref.height, image.frames.count == ref.frames else {
                mismatches.append("\(entry.path): \(image.width)x\(image.height)x\(image.frames.count) frames, reference \(ref.width)x\(ref.height)x\(ref.frames)")
                continue
            }
            let first = canonicalRGBA(image.pixels)
            if exact {
                let all = image.frames.count == 1 ? [first] : image.frames.map { canonicalRGBA($0.pixels) }
                if SHA256Digest.hex([first]) != ref.sha256First {
                    let ours = gridMeans(first, width: image.width, height: image.height)
                    let worst = zip(ours, ref.grid).map { abs($0 - $1) }.max() ?? 0
                    mismatches.append("\(entry.path): first frame differs (largest block-mean difference \(worst))")
                } else if SHA256Digest.hex(all) != ref.sha256All {
                    let bad = (0 ..< all.count).first { i in i > 0 } ?? 0
                    mismatches.append("\(entry.path): a later frame differs (\(all.count) frames, first checked \(bad))")
                }
            } else {
                let ours = gridMeans(first, width: image.width, height: image.height)
                let worst = zip(ours, ref.grid).map { abs($0 - $1) }.max() ?? .infinity
                if worst > 1.5 { mismatches.append("\(entry.path): block means differ by up to \(worst)") }
            }
        }
        XCTAssertTrue(mismatches.isEmpty, "\(mismatches.count) file(s) differ from \(decoder):\n" + mismatches.joined(separator: "\n"))
    }
}
