import AssetProcessing
import ClassyVocabulary
import Foundation
import Hummingbird
import Imaging
import SigV4

/// The `/2.0/...` endpoints, after authentication and rate limiting.
struct APIHandlers {
    let state: SandboxState
    let config: SandboxConfiguration
    let store: ObjectStoreBackend
    let processor: any SandboxImageProcessor
    let baseURL: String
    /// The faults in force for this request (some change the shape of answers).
    let faults: SandboxFaults

    /// `method` is one of `route.methods` (the responder answered 405 otherwise).
    func handle(_ route: APIRoute, method: String, request: Request) async throws -> Response {
        switch (route, method) {
        case (.assetURL, _): return try await createAsset(request)
        case (.asset(let id), "GET"): return Reply.json(render(try await existingAsset(id)))
        case (.asset(let id), _): return try await updateAsset(id, request)
        case (.assetChildren(let id), _):
            _ = try await existingAsset(id)
            return Reply.json(.array(await state.children(of: id).map(render)))
        case (.assetProcess(let id), _): return try await process(id, request)
        case (.campaign(let id), _): return try await campaign(id, request)
        case (.campaignECards(let id), "GET"): return try await listECards(id, request)
        case (.campaignECards(let id), _): return try await createECard(id, request)
        case (.eCard(let id), "GET"): return Reply.json(render(try await existingECard(id)))

        case (.eCard(let id), "PUT"): return try await updateECard(id, request)
        case (.eCard(let id), _):
            _ = try await existingECard(id)
            try await state.deleteECard(id)
            return Reply.json(.object([]))
        case (.campaignAppealSet(let id), "GET"):
            _ = try await existingCampaign(id)
            // Documented: 200 with empty values when none was created.
            if let set = await state.appealSet(campaign: id) { return Reply.json(await render(set)) }
            return Reply.json(await render(SandboxAppealSet(id: 0, campaignID: id), emptyID: true))
        case (.campaignAppealSet(let id), _): return try await saveAppealSet(campaign: id, existing: nil, request)
        case (.appealSet(let id), "GET"):
            guard let set = await state.appealSet(id) else { throw notFound("Appeal set") }
            return Reply.json(await render(set))
        case (.appealSet(let id), _):
            guard let set = await state.appealSet(id) else { throw notFound("Appeal set") }
            return try await saveAppealSet(campaign: set.campaignID, existing: set, request)
        case (.campaignMatchingPlans(let id), "GET"):
            _ = try await existingCampaign(id)
            let plans = await state.matchingPlans(campaign: id).map(render)
            return Reply.json(page(plans, request: request, path: "/2.0/campaigns/\(id)/donation-matching-plans"))
        case (.campaignMatchingPlans(let id), _): return try await saveMatchingPlan(campaign: id, existing: nil, request)
        case (.matchingPlan(let id), "GET"):
            guard let plan = await state.matchingPlan(id) else { throw notFound("Donation matching plan") }
            return Reply.json(render(plan))
        case (.matchingPlan(let id), _):
            guard let plan = await state.matchingPlan(id) else { throw notFound("Donation matching plan") }
            return try await saveMatchingPlan(campaign: plan.campaignID, existing: plan, request)
        }
    }

    // MARK: assets

    struct CreateAssetBody: Decodable {
        var memberId: Int
        /// Sandbox extension: when given, the URL signs this content type.
        var contentType: String?
    }

    private func createAsset(_ request: Request) async throws -> Response {
        let body = try await decodeBody(CreateAssetBody.self, from: request)
        if let ct = body.contentType, ImageFormat(mimeType: ct) == nil {
            throw SandboxHTTPError(status: 400, message: "Unsupported content_type: only image/png, image/jpeg and image/gif")
        }
        let id = await state.nextID()
        let ext = body.contentType.flatMap { ImageFormat(mimeType: $0)?.fileExtension }.map { "." + $0 } ?? ""
        let key = "assets/\(id)-\(randomToken(6))\(ext)"
        let asset = SandboxAsset(id: id, parentID: nil, createdBy: body.memberId, state: AssetLifecycleState.pending.rawValue, contentType: nil,
                                 signedContentType: body.contentType, size: nil, createdAt: await state.now, type: nil, objectKey: key)
        try await state.put(asset)
        let url = await store.presignPut(key: key, contentType: body.contentType, expired: await state.takeExpiredPresign())
        return Reply.json(.object([("id", .int(id)), ("presigned_put_url", .string(url))]))
    }

    struct UpdateAssetBody: Decodable { var state: String }

    private func updateAsset(_ id: Int, _ request: Request) async throws -> Response {
        var asset = try await existingAsset(id)
        let body = try await decodeBody(UpdateAssetBody.self, from: request)
        guard body.state == AssetLifecycleState.uploaded.rawValue else {
            throw SandboxHTTPError(status: 400, message: "Invalid state: only 'uploaded' can be set")
        }
        guard let object = try await store.head(asset.objectKey) else {
            throw SandboxHTTPError(status: 400, message: "The asset has not been uploaded yet")
        }
        if asset.state == AssetLifecycleState.pending.rawValue {
            asset.state = AssetLifecycleState.uploaded.rawValue
            asset.uploadedTransitions += 1
        }
        asset.contentType = object.contentType
        asset.size = object.size
        try await state.put(asset)
        return Reply.json(render(asset))
    }

    /// `POST /2.0/assets/{id}/process`. The body is decoded with the
    /// vocabulary's `ProcessAction` (the one definition the client encodes
    /// with); the arguments are then checked against the *upright* image (what
    /// local processing and the client see), so a box outside it is a 400,
    /// never a failure of the pixel work. Each child gets `parent_id`, its
    /// `ChildType` and state `processed`.
    private func process(_ id: Int, _ request: Request) async throws -> Response {
        let parent = try await existingAsset(id)
        var req = request
        let raw = try await req.collectBody(upTo: 1 << 20)
        let action: ProcessAction
        do throws(ProcessActionError) {
            action = try ProcessAction.decode(json: Array(raw.readableBytesView))
        } catch {
            throw SandboxHTTPError(status: 400, message: error.message)
        }
        guard parent.state == AssetLifecycleState.uploaded.rawValue else {
            throw SandboxHTTPError(status: 400, message: "Asset must be in an 'uploaded' state to be processed")
        }
        guard let bytes = try await store.bytes(parent.objectKey) else {
            throw SandboxHTTPError(status: 400, message: "The asset's object is missing from the store")
        }
        let info: ImageInfo
        do { info = try ImageDecoder.probe(bytes) } catch {
            throw SandboxHTTPError(status: 400, message: "The asset is not a readable image: \(error)")
        }
        try Self.check(action, upright: PixelSize(width: info.displayWidth, height: info.displayHeight), frames: info.frames)
        let outputs: [SandboxProcessedChild]
        do { outputs = try await processor.process(bytes, format: info.format, action: action) } catch let e as SandboxHTTPError {
            throw e
        } catch let e as ImagingError where e.code == .invalidArgument || e.code == .tooLarge {
            throw SandboxHTTPError(status: 400, message: "Invalid arguments for action '\(action.name.rawValue)': \(e.message)")
        } catch {
            throw SandboxHTTPError(status: 500, message: "Processing failed: \(error)")
        }
        var children: [JSON] = []
        for output in outputs {
            let childID = await state.nextID()
            let key = "assets/\(childID)-\(randomToken(6)).\(info.format.fileExtension)"
            try await store.put(key, bytes: output.bytes, contentType: info.format.mimeType)
            let child = SandboxAsset(id: childID, parentID: parent.id, createdBy: parent.createdBy, state: AssetLifecycleState.processed.rawValue,
                                     contentType: info.format.mimeType, signedContentType: nil, size: output.bytes.count,
                                     createdAt: await state.now, type: output.type, objectKey: key)
            try await state.put(child)
            children.append(render(child))
        }
        guard let first = children.first else { throw SandboxHTTPError(status: 500, message: "Processing made no image") }
        return Reply.json(action.name == .thumbnails ? .array(children) : first)
    }

    /// Largest side of a child the sandbox makes; with the frame count, bounds
    /// what one request can make it allocate.
    static let maxChildSide = 10_000

    /// The checks that need the image: a crop box inside the upright image, and
    /// children of a bounded size (sides up to `maxChildSide`, all frames
    /// together within the decoder's pixel budget).
    static func check(_ action: ProcessAction, upright: PixelSize, frames: Int) throws {
        func bounded(_ w: Int, _ h: Int) throws {
            guard w <= maxChildSide, h <= maxChildSide else {
                throw SandboxHTTPError(status: 400, message: "A \(w)x\(h) child is over the \(maxChildSide)-pixel side limit")
            }
            let total = w * h * max(1, frames)
            guard total <= DecodeLimits.default.maxTotalFramePixels else {
                throw SandboxHTTPError(status: 400, message: "A \(w)x\(h) child of \(frames) frame(s) is too large")
            }
        }
        switch action {
        case let .thumbnails(sizes):
            // Every thumbnail of one request is held at once: the sizes count together.
            for size in sizes { try bounded(size.width, size.height) }
            let total = sizes.reduce(0) { $0 + $1.width * $1.height } * max(1, frames)
            guard total <= DecodeLimits.default.maxTotalFramePixels else {
                throw SandboxHTTPError(status: 400, message: "\(sizes.count) thumbnails of \(frames) frame(s) are too large together")
            }
        case let .crop(x, y, w, h):
            guard x <= upright.width - w, y <= upright.height - h else {
                throw SandboxHTTPError(status: 400, message: "Crop box (\(x), \(y), \(w)x\(h)) lies outside the \(upright.width)x\(upright.height) (upright) image")
            }
        case let .scale(w, h):
            let size: PixelSize
            do { size = try Image.scaledSize(source: upright, width: w, height: h) } catch {
                throw SandboxHTTPError(status: 400, message: "Invalid arguments for action 'scale': \(error.message)")
            }
            try bounded(size.width, size.height)
        case let .rotate(angle):
            let size = PixelBuffer.rotatedSize(width: upright.width, height: upright.height, degrees: angle)
            try bounded(size.width, size.height)
        }
    }

    private func existingAsset(_ id: Int) async throws -> SandboxAsset {
        guard let a = await state.asset(id) else { throw notFound("Asset") }
        return a
    }

    private func render(_ a: SandboxAsset) -> JSON {
        var fields: [(String, JSON)] = [
            ("id", .int(a.id)), ("parent_id", .optional(a.parentID)), ("created_by", .int(a.createdBy)),
            ("state", .string(a.state)), ("cdn_url", .string(store.cdnURL(a.objectKey))),
            ("content_type", .optional(a.contentType)),
        ]
        if let t = a.type { fields.append(("type", .string(t))) }
        fields += [("size", .optional(a.size)), ("created_at", .string(classyDate(a.createdAt)))]
        return .object(fields)
    }

    // MARK: campaigns, eCards, appeal sets

    private func existingCampaign(_ id: Int) async throws -> SandboxCampaign {
        guard let c = await state.campaign(id) else { throw notFound("Campaign") }
        return c
    }

    private func campaign(_ id: Int, _ request: Request) async throws -> Response {
        let c = try await existingCampaign(id)
        let query = SigV4.parseQuery(request.rawTarget.query)
        let with = Set((query["with"] ?? "").split(separator: ",").map { String($0) })
        var fields: [(String, JSON)] = [("id", .int(c.id)), ("name", .string(c.name)), ("logo_id", .optional(c.logoID))]
        let logo = await c.logoID.asyncMap { await state.asset($0) } ?? nil
        fields.append(("logo_url", .optional(logo.map { store.cdnURL($0.objectKey) })))
        if with.contains("logo") { fields.append(("logo", logo.map(render) ?? .null)) }
        return Reply.json(.object(fields))
    }

    struct ECardBody: Decodable { var assetId: Int?; var imageUrl: String?; var order: Int? }

    private func createECard(_ campaignID: Int, _ request: Request) async throws -> Response {
        _ = try await existingCampaign(campaignID)
        let body = try await decodeBody(ECardBody.self, from: request)
        guard body.assetId != nil || body.imageUrl != nil else {
            throw SandboxHTTPError(status: 400, message: "Either asset_id or image_url must be set")
        }
        guard await state.ecards(campaign: campaignID).count < ClassyLimits.maxECardsPerCampaign else {
            throw SandboxHTTPError(status: 400, message: "A campaign supports at most \(ClassyLimits.maxECardsPerCampaign) eCards")
        }
        try await checkECardAsset(body.assetId)
        let card = SandboxECard(id: await state.nextID(), campaignID: campaignID, assetID: body.assetId, imageURL: body.imageUrl, order: body.order)
        try await state.put(card)
        return Reply.json(render(card))
    }

    private func updateECard(_ id: Int, _ request: Request) async throws -> Response {
        var card = try await existingECard(id)
        let body = try await decodeBody(ECardBody.self, from: request)
        guard body.assetId != nil || body.imageUrl != nil else {
            throw SandboxHTTPError(status: 400, message: "Either asset_id or image_url must be set")
        }
        try await checkECardAsset(body.assetId)
        card.assetID = body.assetId
        card.imageURL = body.imageUrl
        if let o = body.order { card.order = o }
        try await state.put(card)
        return Reply.json(render(card))
    }

    /// eCards are documented as 600x400: an asset of another size is refused.
    private func checkECardAsset(_ id: Int?) async throws {
        guard let id else { return }
        let asset = try await uploadedAsset(id, field: "asset_id")
        if let bytes = try await store.bytes(asset.objectKey), let info = try? ImageDecoder.probe(bytes),
           info.width != ClassyLimits.eCardWidth || info.height != ClassyLimits.eCardHeight {
            throw SandboxHTTPError(status: 400, message: "eCard images must be 600x400 pixels (got \(info.width)x\(info.height))")
        }
    }

    private func listECards(_ campaignID: Int, _ request: Request) async throws -> Response {
        _ = try await existingCampaign(campaignID)
        let all = await state.ecards(campaign: campaignID).map(render)
        return Reply.json(page(all, request: request, path: "/2.0/campaigns/\(campaignID)/ecards"))
    }

    private func existingECard(_ id: Int) async throws -> SandboxECard {
        guard let c = await state.ecard(id) else { throw notFound("eCard") }
        return c
    }

    /// The reference's eCard fields; `id` is the sandbox's addition (without it
    /// `/eCards/{id}` could not be used), left out under `eCardsWithoutID`.
    private func render(_ c: SandboxECard) -> JSON {
        let fields: [(String, JSON)] = [("asset_id", .optional(c.assetID)), ("campaign_id", .int(c.campaignID)),
                                        ("image_url", .optional(c.imageURL)), ("order", .optional(c.order))]
        return .object(faults.eCardsWithoutID ? fields : [("id", .int(c.id))] + fields)
    }

    struct AppealSetBody: Decodable {
        var emailBody: String?; var emailSubject: String?; var facebookAssetId: Int?
        var facebookVideoUrl: String?; var twitterText: String?; var smsText: String?
    }

    private func saveAppealSet(campaign: Int, existing: SandboxAppealSet?, _ request: Request) async throws -> Response {
        _ = try await existingCampaign(campaign)
        let body = try await decodeBody(AppealSetBody.self, from: request)
        var set: SandboxAppealSet
        if let existing { set = existing } else if await state.appealSet(campaign: campaign) != nil {
            throw SandboxHTTPError(status: 400, message: "The campaign already has an appeal set")
        } else {
            set = SandboxAppealSet(id: await state.nextID(), campaignID: campaign)
        }
        if let a = body.facebookAssetId {
            _ = try await uploadedAsset(a, field: "facebook_asset_id")
            set.facebookAssetID = a
        }
        if let v = body.emailBody { set.emailBody = v }
        if let v = body.emailSubject { set.emailSubject = v }
        if let v = body.facebookVideoUrl { set.facebookVideoURL = v }
        if let v = body.twitterText { set.twitterText = v }
        if let v = body.smsText { set.smsText = v }
        try await state.put(set)
        return Reply.json(await render(set))
    }

    /// The request fields of both plan endpoints; `currency_code` only on create.
    struct MatchingPlanBody: Decodable {
        var assetId: Int?; var businessName: String?; var currencyCode: String?; var endedAt: String?
        var matchingLimitAmount: String?; var startedAt: String?; var timezoneIdentifier: String?

        /// The fields the reference marks Required on both POST and PUT, when absent (or empty).
        var missingRequired: [String] {
            [("business_name", businessName), ("matching_limit_amount", matchingLimitAmount),
             ("started_at", startedAt), ("timezone_identifier", timezoneIdentifier)]
                .filter { $0.1?.isEmpty ?? true }.map(\.0)
        }
    }

    /// `POST /campaigns/{id}/donation-matching-plans` and `PUT /donation-matching-plans/{id}`:
    /// both require business_name, matching_limit_amount, started_at and timezone_identifier.
    private func saveMatchingPlan(campaign: Int, existing: SandboxMatchingPlan?, _ request: Request) async throws -> Response {
        _ = try await existingCampaign(campaign)
        let body = try await decodeBody(MatchingPlanBody.self, from: request)
        let missing = body.missingRequired
        guard missing.isEmpty, let name = body.businessName, let limit = body.matchingLimitAmount else {
            throw SandboxHTTPError(status: 400, message: "Missing required field\(missing.count > 1 ? "s" : ""): \(missing.joined(separator: ", "))")
        }
        guard Decimal(string: limit).map({ $0 >= 0 }) == true else {
            throw SandboxHTTPError(status: 400, message: "matching_limit_amount must be a non-negative amount (\"0\" means unlimited)")
        }
        let now = await state.now
        var plan: SandboxMatchingPlan
        if let existing { plan = existing } else {
            plan = SandboxMatchingPlan(id: await state.nextID(), campaignID: campaign, businessName: name,
                                       matchingLimitAmount: limit, currencyCode: body.currencyCode ?? "USD", createdAt: now)
        }
        if let a = body.assetId {
            _ = try await uploadedAsset(a, field: "asset_id")
            plan.assetID = a
        }
        plan.businessName = name
        plan.matchingLimitAmount = limit
        plan.startedAt = body.startedAt
        plan.timezoneIdentifier = body.timezoneIdentifier
        if let v = body.endedAt { plan.endedAt = v }
        plan.updatedAt = now
        try await state.put(plan)
        return Reply.json(render(plan))
    }

    /// The reference's field order and types: `campaign_id` and the amounts are strings.
    private func render(_ p: SandboxMatchingPlan) -> JSON {
        .object([("id", .int(p.id)), ("asset_id", .optional(p.assetID)), ("business_name", .string(p.businessName)),
                 ("campaign_id", .string(String(p.campaignID))), ("created_at", .optional(p.createdAt.map(classyDate))),
                 ("currency_code", .optional(p.currencyCode)), ("ended_at", .optional(p.endedAt)),
                 ("matched_amount", .string(p.matchedAmount ?? "0")), ("matching_limit_amount", .string(p.matchingLimitAmount)),
                 ("started_at", .optional(p.startedAt)), ("timezone_identifier", .optional(p.timezoneIdentifier)),
                 ("updated_at", .optional(p.updatedAt.map(classyDate)))])
    }

    /// `facebook_image_url` is the asset's static URL when a Facebook asset is set, as documented.
    private func render(_ s: SandboxAppealSet, emptyID: Bool = false) async -> JSON {
        let image = await s.facebookAssetID.asyncMap { await state.asset($0) } ?? nil
        return .object([("id", emptyID ? .null : .int(s.id)), ("campaign_id", .int(s.campaignID)),
                        ("email_body", .optional(s.emailBody)), ("email_subject", .optional(s.emailSubject)),
                        ("facebook_asset_id", .optional(s.facebookAssetID)), ("facebook_video_url", .optional(s.facebookVideoURL)),
                        ("facebook_image_url", .optional(image.map { store.cdnURL($0.objectKey) })),
                        ("twitter_text", .optional(s.twitterText)), ("sms_text", .optional(s.smsText))])
    }

    /// The documented collection object around `items`.
    private func page(_ items: [JSON], request: Request, path: String) -> JSON {
        let q = SigV4.parseQuery(request.rawTarget.query)
        let perPage = min(max(Int(q["per_page"] ?? "") ?? 20, 1), 100)
        let current = max(Int(q["page"] ?? "") ?? 1, 1)
        let last = max((items.count + perPage - 1) / perPage, 1)
        let start = min((current - 1) * perPage, items.count)
        let slice = Array(items[start..<min(start + perPage, items.count)])
        let link = { (p: Int) -> JSON in .string("\(baseURL)\(path)?page=\(p)&per_page=\(perPage)") }
        return .object([
            ("total", .int(items.count)), ("per_page", .int(perPage)), ("current_page", .int(current)), ("last_page", .int(last)),
            ("next_page_url", current < last ? link(current + 1) : .null), ("prev_page_url", current > 1 ? link(current - 1) : .null),
            ("from", slice.isEmpty ? .null : .int(start + 1)), ("to", slice.isEmpty ? .null : .int(start + slice.count)),
            ("data", .array(slice)),
        ])
    }

    /// An asset another object may point at: it must exist and be past `pending` (400 otherwise).
    private func uploadedAsset(_ id: Int, field: String) async throws -> SandboxAsset {
        guard let asset = await state.asset(id), asset.state != AssetLifecycleState.pending.rawValue else {
            throw SandboxHTTPError(status: 400, message: "\(field) \(id) is not an uploaded asset")
        }
        return asset
    }

    private func notFound(_ what: String) -> SandboxHTTPError { SandboxHTTPError(status: 404, message: "\(what) not found") }
}

extension Optional {
    func asyncMap<T>(_ f: (Wrapped) async throws -> T) async rethrows -> T? {
        switch self { case .some(let w): try await f(w); case .none: nil }
    }
}
