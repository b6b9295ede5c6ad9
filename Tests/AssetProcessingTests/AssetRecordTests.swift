import AssetProcessing
import Foundation
import XCTest

final class AssetRecordTests: XCTestCase {
    func testRecordRoundTripsThroughJSONWithTheAPIsKeys() throws {
        let record = AssetRecord(id: .classy(42), parentID: .local("abc"), state: .processed, contentType: "image/png",
                                 type: "thumbnail_100_100", size: 1234, createdAt: Date(timeIntervalSince1970: 1_459_464_558),
                                 width: 100, height: 100, sha256: "00")
        let data = try JSONEncoder().encode(record)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(json["id"] as? Int, 42)
        XCTAssertEqual(json["parent_id"] as? String, "local:abc")
        XCTAssertEqual(json["created_at"] as? String, "2016-03-31T22:49:18+0000")
        XCTAssertTrue(json["cdn_url"] is NSNull, "absent values are sent as null, like the API")
        XCTAssertEqual(try JSONDecoder().decode(AssetRecord.self, from: data), record)
    }
}
