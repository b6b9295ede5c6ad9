import ClassySandbox
import Foundation
import NIOHTTP1
import XCTest
@testable import ClassyAPI

/// The sandbox is as strict as the reference: its paths, its Required fields
/// and its answers' shapes (fields the sandbox adds are listed in
/// docs/classy-network.md and in `SandboxAnswerShapeTests.additions`).
final class SandboxStrictnessTests: XCTestCase {
    func testPathsAreCaseSensitiveAsDocumented() async throws {
        try await withSandbox { sandbox, client in
            let card = try await client.createECard(campaignID: 1001, ECardInput(imageURL: "https://example.org/a.png", order: 1))
            let id = try XCTUnwrap(card.id)
            _ = try await client.send(.GET, "/2.0/eCards/\(id)")
            for wrong in ["/2.0/ecards/\(id)", "/2.0/Ecards/\(id)", "/2.0/campaigns/1001/eCards", "/2.0/Campaigns/1001",
                          "/2.0/ASSETS/url", "/2.0/appeal-Set/1", "/2.0/Donation-Matching-Plans/1"] {
                let method: HTTPMethod = wrong.hasSuffix("/url") ? .POST : .GET
                _ = await XCTAssertThrowsClassy(.notFound, status: 404) { try await client.send(method, wrong) }
            }
        }
    }

    func testAMatchingPlanUpdateWithoutItsRequiredFieldsIsRefused() async throws {
        try await withSandbox { sandbox, client in
            try await sandbox.addMatchingPlan(id: 555, campaign: 1001)
            let bare = await XCTAssertThrowsClassy(.badRequest, status: 400) {
                try await client.send(.PUT, "/2.0/donation-matching-plans/555", json: Array(#"{"business_name":"Sponsor"}"#.utf8))
            }
            for field in ["matching_limit_amount", "started_at", "timezone_identifier"] {
                XCTAssertTrue(bare?.message.contains(field) ?? false, "names \(field): \(bare?.message ?? "")")
            }
            XCTAssertFalse(bare?.message.contains("business_name") ?? true, "business_name was sent")
            let oneMissing = await XCTAssertThrowsClassy(.badRequest, status: 400) {
                try await client.send(.PUT, "/2.0/donation-matching-plans/555", json: Array("""
                    {"business_name":"Sponsor","matching_limit_amount":"0","started_at":"2026-01-01T00:00:00+0000"}
                    """.utf8))
            }
            XCTAssertEqual(oneMissing?.message, "Missing required field: timezone_identifier")
            let create = await XCTAssertThrowsClassy(.badRequest, status: 400) {
                try await client.send(.POST, "/2.0/campaigns/1001/donation-matching-plans", json: Array("""
                    {"business_name":"New","matching_limit_amount":"10","timezone_identifier":"UTC"}
                    """.utf8))
            }
            XCTAssertEqual(create?.message, "Missing required field: started_at")
        }
    }

    /// `setMatchingPlanAsset` keeps its signature but sends what the PUT requires,
    /// read from the plan, and leaves those values as they were.
    func testSetMatchingPlanAssetSendsTheRequiredFields() async throws {
        try await withSandbox { sandbox, client in
            try await sandbox.addMatchingPlan(id: 556, campaign: 1001, businessName: "Kind Sponsor")
            let before = try await client.matchingPlan(556)
            let image = try await client.uploadAsset(try TestImages.png(width: 20, height: 20), contentType: .png).asset
            let after = try await client.setMatchingPlanAsset(planID: 556, assetID: image.id)
            XCTAssertEqual(after.assetID, image.id)
            XCTAssertEqual(after.campaignID, 1001, "decoded from the string the sandbox answers, as the reference does")
            XCTAssertEqual(after.businessName, "Kind Sponsor")
            XCTAssertEqual(after.startedAt, before.startedAt)
            XCTAssertEqual(after.timezoneIdentifier, before.timezoneIdentifier)
            XCTAssertEqual(after.matchingLimitAmount, before.matchingLimitAmount)
            let listed = try await client.page(MatchingPlan.self, path: "/2.0/campaigns/1001/donation-matching-plans", page: 1, perPage: 10)
            XCTAssertEqual(listed.data.map(\.assetID), [image.id])
        }
    }

    /// Answers shaped exactly like the reference's (no `id`): createECard still
    /// decodes, and findECard finds the card by its asset and order.
    func testECardsWithoutIDAreFoundByListing() async throws {
        var faults = SandboxFaults()
        faults.eCardsWithoutID = true
        try await withSandbox({ $0.faults = faults }) { sandbox, client in
            let image = try await client.uploadAsset(try TestImages.png(width: 600, height: 400), contentType: .png).asset
            let other = try await client.uploadAsset(try TestImages.png(width: 600, height: 400), contentType: .png).asset
            let created = try await client.createECard(campaignID: 1001, ECardInput(assetID: image.id, order: 2))
            XCTAssertNil(created.id)
            XCTAssertEqual(created.assetID, image.id)
            _ = try await client.createECard(campaignID: 1001, ECardInput(assetID: other.id, order: 1))
            let found = try await client.findECard(campaignID: 1001, assetID: image.id, order: 2)
            XCTAssertEqual(found?.assetID, image.id)
            XCTAssertEqual(found?.order, 2)
            let anyOrder = try await client.findECard(campaignID: 1001, assetID: other.id)
            XCTAssertEqual(anyOrder?.order, 1)
            let wrongOrder = try await client.findECard(campaignID: 1001, assetID: image.id, order: 1)
            XCTAssertNil(wrongOrder)
            let absent = try await client.findECard(campaignID: 1001, assetID: 999_999)
            XCTAssertNil(absent)
        }
    }

    /// findECard reads past the first page.
    func testFindECardReadsEveryPage() async throws {
        try await withSandbox { sandbox, client in
            let image = try await client.uploadAsset(try TestImages.png(width: 600, height: 400), contentType: .png).asset
            for order in 1 ... 3 { _ = try await client.createECard(campaignID: 1001, ECardInput(imageURL: "https://example.org/\(order).png", order: order)) }
            _ = try await client.createECard(campaignID: 1001, ECardInput(assetID: image.id, order: 4))
            // 101 per page would be clamped to 100; the sandbox also honours small pages: check with a real second page.
            let first = try await client.page(ECard.self, path: "/2.0/campaigns/1001/ecards", page: 1, perPage: 3)
            XCTAssertFalse(first.data.contains { $0.assetID == image.id }, "the card is on page 2 at 3 per page")
            let found = try await client.findECard(campaignID: 1001, assetID: image.id, order: 4)
            XCTAssertEqual(found?.order, 4)
        }
    }
}

/// Each sandbox answer against the reference example of its endpoint: the
/// same fields (plus the documented additions), each of the same JSON type.
final class SandboxAnswerShapeTests: XCTestCase {
    /// Fields the sandbox adds beyond the reference's examples (docs/classy-network.md).
    static let additions: [String: Set<String>] = [
        "eCard": ["id"],
        "collection": ["total", "per_page", "current_page", "last_page", "next_page_url", "prev_page_url", "from", "to"],
        // `logo_url` is in the reference's field table; its example mangles the key.
        "campaign": ["id", "logo_url", "logo"],
    ]

    /// A JSON value, only as far as its shape goes (JSONDecoder keeps booleans
    /// and numbers apart on every platform, which JSONSerialization does not).
    indirect enum Value: Decodable {
        case null, bool, number, string
        case array([Value])
        case object([String: Value])

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null }
            else if (try? c.decode(Bool.self)) != nil { self = .bool }
            else if (try? c.decode(Double.self)) != nil { self = .number }
            else if (try? c.decode(String.self)) != nil { self = .string }
            else if let a = try? c.decode([Value].self) { self = .array(a) }
            else { self = .object(try c.decode([String: Value].self)) }
        }

        /// The kind alone, for comparing types.
        var kind: String {
            switch self {
            case .null: "null"
            case .bool: "bool"
            case .number: "number"
            case .string: "string"
            case .array: "array"
            case .object: "object"
            }
        }

        var fields: [String: Value]? { if case .object(let o) = self { o } else { nil } }
        subscript(_ key: String) -> Value? { fields?[key] }
    }

    /// Same keys (plus `added`), same types where both are set. With `subset`,
    /// the sandbox may serve fewer of the reference's fields (the campaign).
    func assertShape(_ answer: Value, like reference: Value, added: Set<String> = [], subset: Bool = false, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        if case .array(let list) = answer, case .array(let refList) = reference {
            guard let first = refList.first else { return }
            XCTAssertFalse(list.isEmpty, "\(what): empty list", file: file, line: line)
            for item in list { assertShape(item, like: first, added: added, subset: subset, what + "[]", file: file, line: line) }
            return
        }
        guard let got = answer.fields, let want = reference.fields else {
            XCTFail("\(what): a \(answer.kind) where the reference has a \(reference.kind)", file: file, line: line)
            return
        }
        let allowed = Set(want.keys).union(added)
        XCTAssertEqual(Set(got.keys).subtracting(allowed), [], "\(what): fields the reference does not show", file: file, line: line)
        if !subset {
            XCTAssertEqual(Set(want.keys).subtracting(got.keys), [], "\(what): reference fields missing", file: file, line: line)
        }
        for (key, value) in got {
            guard let example = want[key], value.kind != "null", example.kind != "null" else { continue }
            XCTAssertEqual(value.kind, example.kind, "\(what).\(key)", file: file, line: line)
        }
    }

    func json(_ r: ClassyClient.RawResponse) throws -> Value { try JSONDecoder().decode(Value.self, from: Data(r.body)) }

    func reference(_ name: String) throws -> Value { try JSONDecoder().decode(Value.self, from: ReferenceExamples.data(name)) }

    /// The integer `id` of an answer (the sandbox's own, for the next request).
    func idOf(_ r: ClassyClient.RawResponse) throws -> Int {
        struct WithID: Decodable { var id: Int }
        return try JSONDecoder().decode(WithID.self, from: Data(r.body)).id
    }

    func testAssetAnswersAreShapedLikeTheReference() async throws {
        try await withSandbox { sandbox, client in
            let created = try await client.send(.POST, "/2.0/assets/url", json: Array(#"{"member_id":387943}"#.utf8))
            assertShape(try json(created), like: try reference("post-assets-url.json"), "POST /assets/url")
            let parent = try await client.uploadAsset(try TestImages.png(width: 40, height: 30), contentType: .png).asset
            let again = try await client.send(.PUT, "/2.0/assets/\(parent.id)", json: Array(#"{"state":"uploaded"}"#.utf8))
            assertShape(try json(again), like: try reference("put-assets-id.json"), "PUT /assets/{id}")
            let fetched = try await client.send(.GET, "/2.0/assets/\(parent.id)")
            assertShape(try json(fetched), like: try reference("get-assets-id.json"), "GET /assets/{id}")
            let processes: [(String, String)] = [
                ("thumbnails", #"{"action":"thumbnails","arguments":[{"width":10,"height":10}]}"#),
                ("crop", #"{"action":"crop","arguments":{"x":1,"y":1,"width":10,"height":10}}"#),
                ("scale", #"{"action":"scale","arguments":{"width":20,"height":15}}"#),
                ("rotate", #"{"action":"rotate","arguments":{"angle":180}}"#),
            ]
            for (action, body) in processes {
                let r = try await client.send(.POST, "/2.0/assets/\(parent.id)/process", json: Array(body.utf8))
                assertShape(try json(r), like: try reference("post-assets-id-process-\(action).json"), "process \(action)")
            }
            let children = try await client.send(.GET, "/2.0/assets/\(parent.id)/children")
            assertShape(try json(children), like: try reference("get-assets-id-children.json"), "GET /assets/{id}/children")
        }
    }

    func testCampaignAndECardAnswersAreShapedLikeTheReference() async throws {
        try await withSandbox { sandbox, client in
            let logo = try await client.uploadAsset(try TestImages.png(width: 20, height: 20), contentType: .png).asset
            try await sandbox.addCampaign(SandboxCampaign(id: 2002, name: "Shaped", logoID: logo.id))
            let campaign = try await client.send(.GET, "/2.0/campaigns/2002", query: [("with", "logo")])
            assertShape(try json(campaign), like: try reference("get-campaigns-id.json"), added: Self.additions["campaign"]!, subset: true,
                        "GET /campaigns/{id}")

            let image = try await client.uploadAsset(try TestImages.png(width: 600, height: 400), contentType: .png).asset
            let eCard = Self.additions["eCard"]!
            let created = try await client.send(.POST, "/2.0/campaigns/1001/ecards", json: Array(#"{"asset_id":\#(image.id),"order":1}"#.utf8))
            assertShape(try json(created), like: try reference("post-campaigns-id-ecards.json"), added: eCard, "POST ecards")
            let id = try idOf(created)
            let one = try await client.send(.GET, "/2.0/eCards/\(id)")
            assertShape(try json(one), like: try reference("get-ecards-id.json"), added: eCard, "GET /eCards/{id}")
            let updated = try await client.send(.PUT, "/2.0/eCards/\(id)", json: Array(#"{"image_url":"https://example.org/e.png","order":2}"#.utf8))
            assertShape(try json(updated), like: try reference("put-ecards-id.json"), added: eCard, "PUT /eCards/{id}")
            let list = try json(try await client.send(.GET, "/2.0/campaigns/1001/ecards"))
            let refList = try reference("get-campaigns-id-ecards.json")
            XCTAssertEqual(Set(try XCTUnwrap(list.fields).keys).subtracting(try XCTUnwrap(refList.fields).keys), Self.additions["collection"]!)
            assertShape(try XCTUnwrap(list["data"]), like: try XCTUnwrap(refList["data"]), added: eCard, "GET ecards data")

            var faults = SandboxFaults()
            faults.eCardsWithoutID = true
            await sandbox.setFaults(faults)
            let bare = try await client.send(.GET, "/2.0/eCards/\(id)")
            assertShape(try json(bare), like: try reference("get-ecards-id.json"), "GET /eCards/{id}, ecards-without-id")
            XCTAssertNil(try json(bare)["id"])
        }
    }

    func testAppealSetAndMatchingPlanAnswersAreShapedLikeTheReference() async throws {
        try await withSandbox { sandbox, client in
            let image = try await client.uploadAsset(try TestImages.png(width: 20, height: 20), contentType: .png).asset
            let set = #"{"email_body":"b","email_subject":"s","facebook_asset_id":\#(image.id),"twitter_text":"t","sms_text":"m","facebook_video_url":"https://www.youtube.com/watch?v=x"}"#
            let created = try await client.send(.POST, "/2.0/campaigns/1001/appeal-set", json: Array(set.utf8))
            assertShape(try json(created), like: try reference("post-campaigns-id-appeal-set.json"), "POST appeal-set")
            let setID = try idOf(created)
            let fetched = try await client.send(.GET, "/2.0/appeal-set/\(setID)")
            assertShape(try json(fetched), like: try reference("get-appeal-set-id.json"), "GET /appeal-set/{id}")
            XCTAssertEqual(try json(fetched)["facebook_image_url"]?.kind, "string", "the asset's static URL, as documented")
            let ofCampaign = try await client.send(.GET, "/2.0/campaigns/1001/appeal-set")
            assertShape(try json(ofCampaign), like: try reference("get-campaigns-id-appeal-set.json"), "GET campaign appeal-set")
            let put = try await client.send(.PUT, "/2.0/appeal-set/\(setID)", json: Array(#"{"sms_text":"n"}"#.utf8))
            assertShape(try json(put), like: try reference("put-appeal-set-id.json"), "PUT /appeal-set/{id}")

            let plan = #"{"asset_id":\#(image.id),"business_name":"A generous Sponsor","currency_code":"USD","ended_at":"2027-12-01T12:00:00+0000","matching_limit_amount":"5000","started_at":"2027-01-01T12:00:00+0000","timezone_identifier":"Europe/Paris"}"#
            let made = try await client.send(.POST, "/2.0/campaigns/1001/donation-matching-plans", json: Array(plan.utf8))
            assertShape(try json(made), like: try reference("post-campaigns-id-donation-matching-plans.json"), "POST plan")
            let planID = try idOf(made)
            let one = try await client.send(.GET, "/2.0/donation-matching-plans/\(planID)")
            assertShape(try json(one), like: try reference("get-donation-matching-plans-id.json"), "GET plan")
            let update = #"{"business_name":"Renamed","matching_limit_amount":"0","started_at":"2027-01-01T12:00:00+0000","timezone_identifier":"UTC"}"#
            let changed = try await client.send(.PUT, "/2.0/donation-matching-plans/\(planID)", json: Array(update.utf8))
            assertShape(try json(changed), like: try reference("put-donation-matching-plans-id.json"), "PUT plan")
            let list = try await client.send(.GET, "/2.0/campaigns/1001/donation-matching-plans")
            assertShape(try json(list), like: try reference("get-campaigns-id-donation-matching-plans.json"), "GET plans (collection)")
            assertShape(try XCTUnwrap(try json(list)["data"]), like: try XCTUnwrap(try reference("get-campaigns-id-donation-matching-plans.json")["data"]),
                        "GET plans data")
        }
    }
}
