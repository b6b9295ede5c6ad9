import XCTest
@testable import Imaging

/// Cover crops on the corpus portraits: the EXIF orientation examples are one
/// photo (a person standing low in a 1200x1800 upright frame, head near
/// y 1100, feet near y 1570) stored in five orientations. An eCard's 600x400
/// is a 1200x800 box; the centred one (y 500...1300) cuts the person's legs off.
final class SmartCropCorpusTests: XCTestCase {
    static let portraits = (0 ... 4).map { "jpeg/exif-orientation/Portrait_\($0).jpg" }
    /// The person's extent, measured by eye on the upright photo, with a margin.
    static let person = (top: 1090, bottom: 1580)

    func box(_ path: String, _ strategy: CropStrategy) throws -> CropBox {
        let image = try ImageDecoder.decode(Corpus.bytes(path))
        XCTAssertEqual(PixelSize(width: image.width, height: image.height), PixelSize(width: 1200, height: 1800), path)
        return try XCTUnwrap(image.thumbnailWithCrop(PixelSize(width: 600, height: 400), crop: strategy).coverCrop).box
    }

    func testAttentionAndEntropyKeepThePersonThatCentreCuts() throws {
        for path in Self.portraits {
            let centre = try box(path, .centre)
            XCTAssertLessThan(centre.y + centre.height, Self.person.bottom, "\(path): the centred box already holds the person")
            for strategy in [CropStrategy.attention, .entropy] {
                let chosen = try box(path, strategy)
                XCTAssertEqual(chosen.height, 800)
                XCTAssertLessThanOrEqual(chosen.y, Self.person.top, "\(path) \(strategy): \(chosen)")
                XCTAssertGreaterThanOrEqual(chosen.y + chosen.height, Self.person.bottom, "\(path) \(strategy): \(chosen)")
            }
        }
    }

    /// The five files show the same upright picture, so the choice does not depend on how it was stored.
    func testTheChoiceDoesNotDependOnTheStoredOrientation() throws {
        let boxes = try Self.portraits.map { try box($0, .attention) }
        for other in boxes.dropFirst() { XCTAssertLessThanOrEqual(abs(other.y - boxes[0].y), 16, "\(boxes)") }
    }
}
