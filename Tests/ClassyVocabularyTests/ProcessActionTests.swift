import ClassyVocabulary
import Foundation
import XCTest

/// The one action vocabulary: what the client sends decodes back (the
/// sandbox's side) to the same action, angles normalised; `ChildType`'s rule.
/// (The reference's own example requests: ClassyTests' `ReferenceExampleRequestTests`.)
final class ProcessActionTests: XCTestCase {
    func testEncodingRoundTripsAndNormalisesAngles() throws {
        for action: ProcessAction in [.scale(width: 30, height: nil), .scale(width: nil, height: 7), .rotate(angle: 17.5),
                                      .crop(x: 0, y: 3, width: 1, height: 2), .thumbnails([ProcessSize(width: 5, height: 6)])] {
            XCTAssertEqual(try ProcessAction.decode(json: action.jsonBody()), action.normalised, "\(action)")
        }
        XCTAssertEqual(String(decoding: try ProcessAction.rotate(angle: -90).jsonBody(), as: UTF8.self), #"{"action":"rotate","arguments":{"angle":270}}"#)
        XCTAssertEqual(String(decoding: try ProcessAction.scale(width: 30, height: nil).jsonBody(), as: UTF8.self), #"{"action":"scale","arguments":{"width":30}}"#)
        XCTAssertEqual(ChildType.rotated(-0.0), "rotated_0")
        XCTAssertEqual(ChildType.rotated(360), "rotated_0")
        XCTAssertEqual(ChildType.rotated(-360.5), "rotated_359.5")
    }

    func testChildTypesAreKnownBeforeTheCallExceptForAOneSidedScale() {
        XCTAssertEqual(ProcessAction.thumbnails([ProcessSize(width: 1, height: 2), ProcessSize(width: 3, height: 4)]).childTypes,
                       ["thumbnail_1_2", "thumbnail_3_4"])
        XCTAssertEqual(ProcessAction.crop(x: 0, y: 0, width: 1, height: 1).childTypes, ["cropped"])
        XCTAssertEqual(ProcessAction.scale(width: 5, height: 6).childTypes, ["scaled_5_6"])
        XCTAssertNil(ProcessAction.scale(width: 5, height: nil).childTypes)
        XCTAssertEqual(ProcessAction.rotate(angle: -17.5).childTypes, ["rotated_342.5"])
    }
}

extension ProcessAction {
    /// What survives the wire: the angle in [0, 360).
    var normalised: ProcessAction {
        if case let .rotate(angle) = self { return .rotate(angle: ChildType.normalizedAngle(angle)) }
        return self
    }
}
