import XCTest
@testable import AssetPipeline

/// The journal keeps attachments as text; `verify` must read back exactly what the runner wrote.
final class AttachmentTests: XCTestCase {
    func testEveryAttachmentReadsBackFromItsText() {
        let all: [Attachment] = [.ecard(id: 1013, updated: false), .ecard(id: 7, updated: true),
                                 .appealSet(id: 12, facebookAssetID: 1008), .matchingPlan(id: 555, assetID: 1010)]
        for attachment in all {
            XCTAssertEqual(Attachment(attachment.description), attachment, attachment.description)
        }
        XCTAssertEqual(Attachment.ecard(id: 7, updated: true).description, "ecard 7 (updated)")
    }

    func testTextThatIsNotAnAttachmentIsRefused() {
        for text in ["", "ecard", "ecard x", "ecard 1 (new)", "matching_plan 5 asset=3", "appeal_set 1 facebook_asset_id=", "logo 1"] {
            XCTAssertNil(Attachment(text), text)
        }
    }
}
