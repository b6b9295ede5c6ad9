import AssetProcessing
import Imaging
import XCTest

/// Local actions and the API's convert where the API has the local choice.
final class ProcessActionBridgeTests: XCTestCase {
    /// The local-only choices have no API form; everything else converts both ways.
    func testLocalActionsConvertToTheAPIsWhereTheAPIHasThem() {
        let size = PixelSize(width: 4, height: 4)
        XCTAssertNil(ImageAction.thumbnails([size], fit: .contain).processAction)
        XCTAssertNil(ImageAction.thumbnails([size], fit: .cover, crop: .attention).processAction)
        for action: ProcessAction in [.thumbnails([ProcessSize(width: 4, height: 4)]), .crop(x: 1, y: 2, width: 3, height: 4),
                                      .scale(width: nil, height: 9), .rotate(angle: -45)] {
            XCTAssertEqual(ImageAction(action).processAction, action)
        }
    }

    func testAOneSidedScaleIsNamedAfterTheSizeItGives() throws {
        XCTAssertEqual(try ProcessAction.scale(width: nil, height: 60).childTypes(upright: PixelSize(width: 40, height: 30)), ["scaled_80_60"])
        XCTAssertEqual(try ProcessAction.rotate(angle: -90).childTypes(upright: PixelSize(width: 40, height: 30)), ["rotated_270"])
        XCTAssertThrowsError(try ProcessAction.scale(width: 0, height: nil).childTypes(upright: PixelSize(width: 40, height: 30)))
    }
}
