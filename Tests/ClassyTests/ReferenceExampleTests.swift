import ClassySandbox
import Foundation
import XCTest
@testable import ClassyAPI

/// The example responses of the API reference (../shared/seeds/002_*.txt),
/// extracted by scripts/extract-reference-examples.py into
/// Fixtures/reference/ (index.json names each file's section of the reference).
enum ReferenceExamples {
    static func url(_ name: String) throws -> URL {
        try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/reference"), "missing fixture \(name)")
    }

    static func data(_ name: String) throws -> Data { try Data(contentsOf: url(name)) }

    static func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(T.self, from: data(name))
    }

    /// Every extracted example, index.json aside.
    static func all() throws -> [String] {
        let dir = try url("index.json").deletingLastPathComponent()
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") && $0 != "index.json" }.sorted()
    }

    static func object(_ name: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: data(name)) as? [String: Any], "\(name) is not an object")
    }
}

final class ReferenceExampleDecodingTests: XCTestCase {
    /// One check per example the client reads, decoded with the model the
    /// client decodes that endpoint's answer with.
    private let checks: [String: () throws -> Void] = [
        "post-assets-url.json": {
            let a = try ReferenceExamples.decode(PresignedAsset.self, "post-assets-url.json")
            XCTAssertEqual(a.id, 1)
        },
        "put-assets-id.json": {
            let a = try ReferenceExamples.decode(Asset.self, "put-assets-id.json")
            XCTAssertEqual(a.state, "uploaded")
            XCTAssertNil(a.parentID)
            XCTAssertEqual(a.size, 278_923)
            XCTAssertNotNil(a.createdAt)
        },
        "get-assets-id.json": {
            let a = try ReferenceExamples.decode(Asset.self, "get-assets-id.json")
            XCTAssertEqual(a.id, 29487)
            XCTAssertEqual(a.parentID, 29486)
            XCTAssertEqual(a.createdBy, 387_943)
        },
        "get-assets-id-children.json": {
            let children = try ReferenceExamples.decode([Asset].self, "get-assets-id-children.json")
            XCTAssertEqual(children.map(\.type), ["rotated_180", "scaled_100_100", "cropped"])
        },
        "post-assets-id-process-thumbnails.json": {
            let thumbs = try ReferenceExamples.decode([Asset].self, "post-assets-id-process-thumbnails.json")
            XCTAssertEqual(thumbs.map(\.type), ["thumbnail_100_100", "thumbnail_150_150"])
        },
        "post-assets-id-process-crop.json": {
            XCTAssertEqual(try ReferenceExamples.decode(Asset.self, "post-assets-id-process-crop.json").type, "cropped")
        },
        "post-assets-id-process-scale.json": {
            XCTAssertEqual(try ReferenceExamples.decode(Asset.self, "post-assets-id-process-scale.json").type, "scaled_100_100")
        },
        "post-assets-id-process-rotate.json": {
            XCTAssertEqual(try ReferenceExamples.decode(Asset.self, "post-assets-id-process-rotate.json").type, "rotated_180")
        },
        "get-campaigns-id.json": {
            // The example campaign has no `id` field at all.
            let c = try ReferenceExamples.decode(Campaign.self, "get-campaigns-id.json")
            XCTAssertNil(c.id)
            XCTAssertEqual(c.name, "My Campaign")
            XCTAssertEqual(c.logoID, 1002)
        },
        "post-campaigns-id-ecards.json": {
            let e = try ReferenceExamples.decode(ECard.self, "post-campaigns-id-ecards.json")
            XCTAssertEqual(e, ECard(id: nil, assetID: 101, campaignID: 1001, imageURL: "https://classy-assets.classy.org/1-54asdfa34.png", order: 1))
        },
        "get-campaigns-id-ecards.json": {
            // Only `data`: none of the paging fields of the generic collection object.
            let page = try ReferenceExamples.decode(CollectionPage<ECard>.self, "get-campaigns-id-ecards.json")
            XCTAssertEqual(page.data.map(\.assetID), [101])
            XCTAssertNil(page.total)
            XCTAssertNil(page.data[0].id)
        },
        "get-ecards-id.json": {
            XCTAssertEqual(try ReferenceExamples.decode(ECard.self, "get-ecards-id.json").order, 1)
        },
        "put-ecards-id.json": {
            XCTAssertEqual(try ReferenceExamples.decode(ECard.self, "put-ecards-id.json").campaignID, 1001)
        },
        "get-appeal-set-id.json": { try ReferenceExampleDecodingTests.checkAppealSet("get-appeal-set-id.json") },
        "get-campaigns-id-appeal-set.json": { try ReferenceExampleDecodingTests.checkAppealSet("get-campaigns-id-appeal-set.json") },
        "post-campaigns-id-appeal-set.json": { try ReferenceExampleDecodingTests.checkAppealSet("post-campaigns-id-appeal-set.json") },
        "put-appeal-set-id.json": { try ReferenceExampleDecodingTests.checkAppealSet("put-appeal-set-id.json") },
        "get-donation-matching-plans-id.json": { try ReferenceExampleDecodingTests.checkPlan("get-donation-matching-plans-id.json") },
        "put-donation-matching-plans-id.json": { try ReferenceExampleDecodingTests.checkPlan("put-donation-matching-plans-id.json") },
        "post-campaigns-id-donation-matching-plans.json": {
            try ReferenceExampleDecodingTests.checkPlan("post-campaigns-id-donation-matching-plans.json")
        },
        "get-campaigns-id-donation-matching-plans.json": {
            let page = try ReferenceExamples.decode(CollectionPage<MatchingPlan>.self, "get-campaigns-id-donation-matching-plans.json")
            XCTAssertEqual(page.total, 31)
            XCTAssertEqual(page.currentPage, 2)
            XCTAssertEqual(page.lastPage, 3)
            XCTAssertEqual(page.data.map(\.campaignID), [456])
        },
        "collection.json": {
            // The introduction's generic collection object (repaired: see index.json).
            struct Anything: Decodable, Sendable {}
            let page = try ReferenceExamples.decode(CollectionPage<Anything>.self, "collection.json")
            XCTAssertEqual(page.total, 3)
            XCTAssertEqual(page.perPage, 2)
            XCTAssertEqual(page.lastPage, 2)
            XCTAssertEqual(page.nextPageURL, "https://api.classy.org/2.0/parent_resource/{id}/resource?page=2")
            XCTAssertEqual(page.data.count, 2)
        },
    ]

    static func checkAppealSet(_ name: String) throws {
        let s = try ReferenceExamples.decode(AppealSet.self, name)
        XCTAssertEqual(s.id, 12)
        XCTAssertEqual(s.campaignID, 51098)
        XCTAssertEqual(s.facebookAssetID, 252)
        XCTAssertEqual(s.facebookImageURL, "https://cdn.classy.org/asset.jpg")
    }

    static func checkPlan(_ name: String) throws {
        let p = try ReferenceExamples.decode(MatchingPlan.self, name)
        XCTAssertEqual(p.id, 123)
        XCTAssertEqual(p.campaignID, 456, "campaign_id is the string \"456\" in the reference")
        XCTAssertEqual(p.assetID, 203_987)
        XCTAssertEqual(p.businessName, "A generous Sponsor")
        XCTAssertEqual(p.matchingLimitAmount, "5000")
        XCTAssertEqual(p.startedAt, "2017-01-01T12:00:00+0000")
        XCTAssertEqual(p.timezoneIdentifier, "Europe/Paris")
    }

    func testEveryExtractedExampleHasACheck() throws {
        XCTAssertEqual(try ReferenceExamples.all(), checks.keys.sorted(), "a fixture without a decoding check, or a check without its fixture")
        let index = try XCTUnwrap(try JSONSerialization.jsonObject(with: ReferenceExamples.data("index.json")) as? [String: Any])
        XCTAssertEqual(index.keys.sorted(), checks.keys.sorted(), "index.json names the reference section of every fixture")
    }

    func testEveryExampleResponseDecodesWithThePublicModels() throws {
        for (name, check) in checks.sorted(by: { $0.key < $1.key }) {
            XCTAssertNoThrow(try check(), name)
        }
    }

    /// The helper itself: digits in a string or a number, nothing else.
    func testFlexibleIntAcceptsNumbersAndDigitStringsOnly() throws {
        struct Box: Decodable { var v: FlexibleInt }
        func value(_ json: String) throws -> Int { try JSONDecoder().decode(Box.self, from: Data(json.utf8)).v.value }
        XCTAssertEqual(try value(#"{"v": 456}"#), 456)
        XCTAssertEqual(try value(#"{"v": "456"}"#), 456)
        XCTAssertThrowsError(try value(#"{"v": "45x"}"#))
        XCTAssertThrowsError(try value(#"{"v": 4.5}"#))
        XCTAssertThrowsError(try value(#"{"v": true}"#))
    }
}

/// The example request bodies of `POST /2.0/assets/{id}/process`
/// (Fixtures/reference/requests/, by scripts/extract-reference-examples.py):
/// each decodes to the action it describes with the vocabulary's one
/// definition (the sandbox's side), and the client sends the same JSON for it.
final class ReferenceExampleRequestTests: XCTestCase {
    private func request(_ name: String) throws -> [UInt8] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/reference/requests"),
                                "missing fixture requests/\(name)")
        return Array(try Data(contentsOf: url))
    }

    func testTheReferenceExampleRequestsDecode() throws {
        let expected: [String: ProcessAction] = [
            "post-assets-id-process-thumbnails.json": .thumbnails([ProcessSize(width: 100, height: 100), ProcessSize(width: 150, height: 150)]),
            "post-assets-id-process-crop.json": .crop(x: 10, y: 10, width: 100, height: 100),
            "post-assets-id-process-scale.json": .scale(width: 100, height: 100),
            "post-assets-id-process-rotate.json": .rotate(angle: 180),
        ]
        for (name, action) in expected {
            let bytes = try request(name)
            XCTAssertEqual(try ProcessAction.decode(json: bytes), action, name)
            // What the client sends for it is the same JSON value as the example.
            let sent = try JSONSerialization.jsonObject(with: Data(action.jsonBody())) as? NSDictionary
            let example = try JSONSerialization.jsonObject(with: Data(bytes)) as? NSDictionary
            XCTAssertEqual(sent, example, name)
        }
        // The children the reference shows for these requests carry the names `childTypes` gives.
        XCTAssertEqual(expected["post-assets-id-process-thumbnails.json"]?.childTypes, ["thumbnail_100_100", "thumbnail_150_150"])
        XCTAssertEqual(expected["post-assets-id-process-crop.json"]?.childTypes, ["cropped"])
        XCTAssertEqual(expected["post-assets-id-process-scale.json"]?.childTypes, ["scaled_100_100"])
        XCTAssertEqual(expected["post-assets-id-process-rotate.json"]?.childTypes, ["rotated_180"])
    }

    func testEveryExtractedRequestHasACheckAndAnIndexEntry() throws {
        let dir = try XCTUnwrap(Bundle.module.url(forResource: "requests", withExtension: nil, subdirectory: "Fixtures/reference"))
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") && $0 != "index.json" }.sorted()
        XCTAssertEqual(files, ["post-assets-id-process-crop.json", "post-assets-id-process-rotate.json",
                               "post-assets-id-process-scale.json", "post-assets-id-process-thumbnails.json"])
        let index = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("index.json"))) as? [String: Any])
        XCTAssertEqual(index.keys.sorted(), files)
    }
}
