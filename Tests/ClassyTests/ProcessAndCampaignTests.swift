import ClassySandbox
import Foundation
import Imaging
import XCTest
@testable import ClassyAPI

final class ProcessTests: XCTestCase {
    func testProcessActionsCreateChildrenWithTheDocumentedTypes() async throws {
        try await withSandbox { sandbox, client in
            let source = TestImages.pixels(width: 40, height: 30)
            let parent = try await client.uploadAsset(try ImageEncoder.encode(Image(pixels: source), as: .png), contentType: .png).asset

            let thumbs = try await client.processAsset(parent.id, .thumbnails([(10, 10), (20, 15)]))
            XCTAssertEqual(thumbs.map(\.type), ["thumbnail_10_10", "thumbnail_20_15"])
            let crop = try await client.processAsset(parent.id, .crop(x: 5, y: 4, width: 10, height: 8))
            XCTAssertEqual(crop.map(\.type), ["cropped"])
            let scaled = try await client.processAsset(parent.id, .scale(width: 20, height: 15))
            XCTAssertEqual(scaled.map(\.type), ["scaled_20_15"])
            let rotated = try await client.processAsset(parent.id, .rotate(angle: 90))
            XCTAssertEqual(rotated.map(\.type), ["rotated_90"])

            for child in thumbs + crop + scaled + rotated {
                XCTAssertEqual(child.parentID, parent.id)
                XCTAssertEqual(child.state, "processed")
                XCTAssertEqual(child.contentType, "image/png")
            }
            let children = try await client.assetChildren(parent.id)
            XCTAssertEqual(Set(children.compactMap(\.type)), ["thumbnail_10_10", "thumbnail_20_15", "cropped", "scaled_20_15", "rotated_90"])

            // The crop is exact: the child's pixels are the source's rows 4..<12, columns 5..<15.
            let cropStored = await sandbox.objectBytes(assetID: crop[0].id)
            let cropBytes = try XCTUnwrap(cropStored)
            let decoded = try ImageDecoder.decode(cropBytes).pixels
            XCTAssertEqual(decoded.width, 10)
            XCTAssertEqual(decoded.height, 8)
            XCTAssertEqual(decoded.pixel(x: 0, y: 0), source.pixel(x: 5, y: 4))
            XCTAssertEqual(decoded.pixel(x: 9, y: 7), source.pixel(x: 14, y: 11))
            let rotStored = await sandbox.objectBytes(assetID: rotated[0].id)
            let rot = try ImageDecoder.decode(try XCTUnwrap(rotStored)).pixels
            XCTAssertEqual([rot.width, rot.height], [30, 40])
            // Clockwise: the source's bottom-left corner becomes the top-left.
            XCTAssertEqual(rot.pixel(x: 0, y: 0), source.pixel(x: 0, y: 29))
        }
    }

    func testProcessValidation() async throws {
        try await withSandbox { sandbox, client in
            let parent = try await client.uploadAsset(try TestImages.png(width: 40, height: 30), contentType: .png).asset
            let outside = await XCTAssertThrowsClassy(.badRequest, status: 400) {
                try await client.processAsset(parent.id, .crop(x: 35, y: 0, width: 10, height: 10))
            }
            XCTAssertTrue(outside?.message.contains("outside") ?? false)
            let token = try await client.accessToken().value
            let r = try await raw(.POST, sandbox.baseURL + "/2.0/assets/\(parent.id)/process",
                                  headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                                  body: Array(#"{"action":"blur","arguments":{}}"#.utf8))
            XCTAssertEqual(r.status, 400)
            XCTAssertTrue(r.body.contains("Unknown action"))
            let pending = try await client.createAssetURL(contentType: .png)
            _ = await XCTAssertThrowsClassy(.badRequest, status: 400) { try await client.processAsset(pending.id, .rotate(angle: 90)) }
            _ = await XCTAssertThrowsClassy(.notFound, status: 404) { try await client.processAsset(123_456_789, .rotate(angle: 90)) }
        }
    }
}

final class CampaignTests: XCTestCase {
    func testECardLimitOfFourSizeCheckAndPaging() async throws {
        try await withSandbox { sandbox, client in
            let card = try await client.uploadAsset(try TestImages.png(width: 600, height: 400), contentType: .png).asset
            var ids: [Int] = []
            for i in 0..<4 {
                let e = try await client.createECard(campaignID: 1001, ECardInput(assetID: card.id, order: i))
                XCTAssertEqual(e.campaignID, 1001)
                ids.append(try XCTUnwrap(e.id))
            }
            let fifth = await XCTAssertThrowsClassy(.badRequest, status: 400) {
                try await client.createECard(campaignID: 1001, ECardInput(imageURL: "https://example.org/x.png"))
            }
            XCTAssertTrue(fifth?.message.contains("4") ?? false)

            var listed: [Int] = []
            for try await e in client.eCards(campaignID: 1001, perPage: 3) { listed.append(try XCTUnwrap(e.id)) }
            XCTAssertEqual(listed, ids, "two pages (3 + 1) read as one sequence")

            try await client.deleteECard(ids[0])
            _ = await XCTAssertThrowsClassy(.notFound, status: 404) { try await client.eCard(ids[0]) }
            let small = try await client.uploadAsset(try TestImages.png(width: 60, height: 40), contentType: .png).asset
            _ = await XCTAssertThrowsClassy(.badRequest, status: 400) { try await client.createECard(campaignID: 1001, ECardInput(assetID: small.id)) }
            let updated = try await client.updateECard(ids[1], ECardInput(imageURL: "https://example.org/y.png", order: 9))
            XCTAssertEqual(updated.order, 9)
        }
    }

    func testAppealSetFacebookAssetAndCampaignLogo() async throws {
        try await withSandbox { sandbox, client in
            let asset = try await client.uploadAsset(try TestImages.png(width: 12, height: 12), contentType: .png).asset
            let empty = try await client.appealSet(campaignID: 1001)
            XCTAssertNil(empty.id)
            let created = try await client.send(.POST, "/2.0/campaigns/1001/appeal-set", json: Array(#"{"email_subject":"Hi"}"#.utf8))
            let set = try client.decode(AppealSet.self, created, "test")
            let updated = try await client.setAppealSetFacebookAsset(appealSetID: try XCTUnwrap(set.id), assetID: asset.id)
            XCTAssertEqual(updated.facebookAssetID, asset.id)
            XCTAssertEqual(updated.emailSubject, "Hi")

            try await sandbox.addCampaign(SandboxCampaign(id: 2002, name: "With logo", logoID: asset.id))
            let campaign = try await client.campaign(2002)
            XCTAssertEqual(campaign.logoID, asset.id)
            XCTAssertEqual(campaign.logo?.id, asset.id)
            XCTAssertEqual(campaign.logo?.state, "uploaded")
            _ = await XCTAssertThrowsClassy(.notFound, status: 404) { try await client.campaign(4040) }
        }
    }
}
