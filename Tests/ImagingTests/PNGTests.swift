import XCTest
@testable import Imaging

final class PNGTests: XCTestCase {
    func testDecodesPaletteImageToRGB() throws {
        let image = try ImageDecoder.decode(Corpus.bytes("png/pngsuite/basn3p08.png"))
        XCTAssertEqual(image.width, 32)
        XCTAssertEqual(image.height, 32)
        XCTAssertEqual(image.layout, .rgb)
        XCTAssertEqual(image.sourceFormat, .png)
    }
}
