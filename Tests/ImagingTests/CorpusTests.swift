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
        try compare(format: "png", decoders: ["vips"], exact: true)
    }

    func testGIFPixelsMatchAnIndependentDecoder() throws {
        // Every frame, composited. Pillow and libvips (libnsgif) disagree with each
        // other on a frame that sticks out of the screen (test_extents.gif), so a
        // file passes when it matches either of them exactly.
        try compare(format: "gif", decoders: ["pillow", "vips"], exact: true)
    }

    func testJPEGPixelsMatchAnIndependentDecoder() throws {
        // Pillow bundles a different libjpeg-turbo build; the IDCT and upsampling
        // are the same algorithms, so block means must agree closely.
        try compare(format: "jpeg", decoders: ["pillow"], exact: false)
    }

    private func compare(format: String, decoders: [String], exact: Bool) throws {
        let reference = try ReferencePixels.load()
        let entries = try Corpus.manifest().filter { $0.format == format && $0.valid }
        XCTAssertFalse(entries.isEmpty)
        var mismatches: [String] = []
        for entry in entries {
            let refs = decoders.compactMap { reference.row(entry.path, decoder: $0) }
            guard !refs.isEmpty else {
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
            let first = canonicalRGBA(image.pixels)
            let ours = gridMeans(first, width: image.width, height: image.height)
            let sizeOK = refs.contains { $0.width == image.width && $0.height == image.height && $0.frames == image.frames.count }
            guard sizeOK else {
                let ref = refs[0]
                mismatches.append("\(entry.path): \(image.width)x\(image.height)x\(image.frames.count) frames, reference \(ref.width)x\(ref.height)x\(ref.frames)")
                continue
            }
            if exact {
                let firstHash = sha256Hex([first])
                let allHash = image.frames.count == 1 ? firstHash : sha256Hex(image.frames.map { canonicalRGBA($0.pixels) })
                if refs.contains(where: { $0.sha256First == firstHash && $0.sha256All == allHash }) { continue }
                let worst = refs.map { ref in zip(ours, ref.grid).map { abs($0 - $1) }.max() ?? 0 }.min() ?? 0
                let firstOK = refs.contains { $0.sha256First == firstHash }
                mismatches.append("\(entry.path): " + (firstOK ? "a later frame differs" : "first frame differs (block means within \(worst))"))
            } else {
                let worst = refs.map { ref in zip(ours, ref.grid).map { abs($0 - $1) }.max() ?? .infinity }.min() ?? .infinity
                if worst > 1.5 { mismatches.append("\(entry.path): block means differ by up to \(worst)") }
            }
        }
        XCTAssertTrue(mismatches.isEmpty, "\(mismatches.count) file(s) differ from \(decoders.joined(separator: "/")):\n" + mismatches.joined(separator: "\n"))
    }
}
