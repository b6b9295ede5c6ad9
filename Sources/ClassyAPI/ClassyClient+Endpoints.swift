import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

extension ClassyClient {
    // MARK: assets

    /// `POST /2.0/assets/url`: creates a pending asset and returns its pre-signed PUT URL.
    public func createAssetURL(memberID: Int? = nil, contentType: ImageContentType? = nil) async throws(ClassyAPIError) -> PresignedAsset {
        guard let member = memberID ?? configuration.memberID else {
            throw ClassyAPIError(.configuration, message: "a member ID is required to create assets (CLASSY_MEMBER_ID)", request: "POST /2.0/assets/url")
        }
        var body = "{\"member_id\":\(member)"
        if options.sendContentTypeHint, let contentType { body += ",\"content_type\":\"\(contentType.rawValue)\"" }
        body += "}"
        let r = try await send(.POST, "/2.0/assets/url", json: Array(body.utf8))
        return try decode(PresignedAsset.self, r, "POST /2.0/assets/url")
    }

    /// `PUT /2.0/assets/{id}` with `{"state":"uploaded"}`.
    public func markAssetUploaded(_ id: Int) async throws(ClassyAPIError) -> Asset {
        let r = try await send(.PUT, "/2.0/assets/\(id)", json: Array("{\"state\":\"uploaded\"}".utf8))
        return try decode(Asset.self, r, "PUT /2.0/assets/\(id)")
    }

    public func asset(_ id: Int) async throws(ClassyAPIError) -> Asset {
        try decode(Asset.self, try await send(.GET, "/2.0/assets/\(id)"), "GET /2.0/assets/\(id)")
    }

    /// `GET /2.0/assets/{id}/children`: every child `/process` made of the
    /// asset, each with `parent_id`, `type` and state `processed`. Safe to repeat.
    public func assetChildren(_ id: Int) async throws(ClassyAPIError) -> [Asset] {
        try decode([Asset].self, try await send(.GET, "/2.0/assets/\(id)/children"), "GET /2.0/assets/\(id)/children")
    }

    /// The child of `parentID` whose `type` is `type` (`ChildType`, or one of
    /// `ProcessAction.childTypes`), or nil: how to tell, after a `processAsset`
    /// whose answer was lost (`.ambiguous`), whether the API made it. When a
    /// repeated call made two, the first made (lowest id) is returned.
    public func findChild(of parentID: Int, type: String) async throws(ClassyAPIError) -> Asset? {
        try await findChildren(of: parentID, types: [type])[type]
    }

    /// `findChild(of:type:)` for several types with one `GET /children`
    /// (a thumbnails request makes one child per size); types not found are absent.
    public func findChildren(of parentID: Int, types: [String]) async throws(ClassyAPIError) -> [String: Asset] {
        let wanted = Set(types)
        var found: [String: Asset] = [:]
        for child in try await assetChildren(parentID) {
            guard let type = child.type, wanted.contains(type) else { continue }
            if let kept = found[type], kept.id <= child.id { continue }
            found[type] = child
        }
        return found
    }

    /// `POST /2.0/assets/{id}/process`: makes new children of an uploaded
    /// asset (thumbnails: one per size, in order; the other actions: one),
    /// returned as the API answers them, with `parent_id`, `type` and state
    /// `processed`. The body is `action.jsonBody()`, the reference's shape (a
    /// non-finite angle is `.invalidRequest`, nothing sent).
    ///
    /// **Not idempotent**: each call makes new children. Transient failures
    /// before the request was sent, and 503s, are retried; once it may have reached the
    /// API, a missing answer or a 500/502/504 fails as `.ambiguous`, never repeated blindly. Then
    /// look the children up (`findChild(of:type:)` / `findChildren(of:types:)`
    /// with `action.childTypes`) and call again only if they are not there.
    /// An answer that is neither a child nor a list of children is `.invalidResponse`;
    /// a refused request keeps the API's status (`.badRequest` for arguments
    /// outside the image, `.notFound` for an unknown asset).
    public func processAsset(_ id: Int, _ action: ProcessAction) async throws(ClassyAPIError) -> [Asset] {
        let label = "POST /2.0/assets/\(id)/process"
        let body: [UInt8]
        do throws(ProcessActionError) { body = try action.jsonBody() } catch {
            throw ClassyAPIError(.invalidRequest, message: error.message, request: label)
        }
        let r = try await send(.POST, "/2.0/assets/\(id)/process", json: body, serverErrorsAreAmbiguous: true)
        // Documented: a list for thumbnails, one object otherwise; either is accepted for any action.
        if let list = try? decode([Asset].self, r, label) { return list }
        return [try decode(Asset.self, r, label)]
    }

    /// The bytes behind an asset's `cdn_url` (a plain GET, no token: CDN URLs
    /// are public). Connection failures and 5xx are retried within the retry
    /// budget; an answer over `maxBytes` is refused. An asset without a URL is
    /// `.invalidResponse`; a refused fetch keeps its status (`.notFound`, ...).
    public func downloadAsset(_ asset: Asset, maxBytes: Int = 64 << 20) async throws(ClassyAPIError) -> [UInt8] {
        guard let url = asset.cdnURL, !url.isEmpty else {
            throw ClassyAPIError(.invalidResponse, message: "asset \(asset.id) has no cdn_url", request: "GET cdn_url of asset \(asset.id)")
        }
        let label = "GET \(redactedURL(url))"
        var rng = SystemRandomNumberGenerator()
        let started = ContinuousClock.now
        var attempt = 0
        while true {
            var failure: ClassyAPIError
            do {
                let res = try await http.execute(HTTPClientRequest(url: url), timeout: options.requestTimeout)
                let status = Int(res.status.code)
                let body = try await res.body.collect(upTo: maxBytes)
                if (200..<300).contains(status) { return Array(body.readableBytesView) }
                failure = ClassyAPIError.forStatus(status, message: apiMessage(Array(body.readableBytesView)), request: label)
                guard RetryPolicy.isRetryable(status: status) else { throw failure }
            } catch let error as ClassyAPIError {
                throw error
            } catch let error as NIOTooManyBytesError {
                throw ClassyAPIError(.invalidResponse, message: "more than \(maxBytes) bytes (\(error))", request: label)
            } catch {
                failure = ClassyAPIError(.transport, message: describeTransport(error), request: label)
            }
            let delay = options.retry.backoff(attempt: attempt, using: &rng)
            guard options.retry.allowsRetry(afterAttempt: attempt, elapsed: ContinuousClock.now - started, delay: delay) else { throw failure }
            try await sleep(delay, label)
            attempt += 1
        }
    }

    // MARK: campaigns, eCards, appeal sets

    public func campaign(_ id: Int, withLogo: Bool = true) async throws(ClassyAPIError) -> Campaign {
        let r = try await send(.GET, "/2.0/campaigns/\(id)", query: withLogo ? [("with", "logo")] : [])
        return try decode(Campaign.self, r, "GET /2.0/campaigns/\(id)")
    }

    /// `POST /2.0/campaigns/{id}/ecards`. The reference's answer carries no
    /// `id`: the returned card's `id` is then nil (use `findECard` to look it up).
    public func createECard(campaignID: Int, _ input: ECardInput) async throws(ClassyAPIError) -> ECard {
        let r = try await send(.POST, "/2.0/campaigns/\(campaignID)/ecards", json: try encode(input))
        return try decode(ECard.self, r, "POST /2.0/campaigns/\(campaignID)/ecards")
    }

    /// Every eCard of a campaign, fetched page by page as the sequence is read.
    public func eCards(campaignID: Int, perPage: Int = 100) -> ClassyPages<ECard> {
        ClassyPages(client: self, path: "/2.0/campaigns/\(campaignID)/ecards", perPage: perPage)
    }

    /// The campaign's eCard showing `assetID` (and at `order`, when given), or
    /// nil: how to recognise an eCard whose `POST` answer was lost or had no
    /// `id`. Reads the campaign's eCards page by page and stops at the first match.
    public func findECard(campaignID: Int, assetID: Int, order: Int? = nil) async throws(ClassyAPIError) -> ECard? {
        let path = "/2.0/campaigns/\(campaignID)/ecards"
        var number = 1
        while true {
            let p = try await page(ECard.self, path: path, page: number, perPage: 100)
            if let card = p.data.first(where: { $0.assetID == assetID && (order == nil || $0.order == order) }) { return card }
            let current = p.currentPage ?? number
            if p.data.isEmpty || (p.lastPage.map { current >= $0 } ?? (p.nextPageURL == nil)) { return nil }
            number = current + 1
        }
    }

    /// `GET /2.0/eCards/{id}` (the reference's capitalisation; the path is case-sensitive).
    public func eCard(_ id: Int) async throws(ClassyAPIError) -> ECard {
        try decode(ECard.self, try await send(.GET, "/2.0/eCards/\(id)"), "GET /2.0/eCards/\(id)")
    }

    public func updateECard(_ id: Int, _ input: ECardInput) async throws(ClassyAPIError) -> ECard {
        try decode(ECard.self, try await send(.PUT, "/2.0/eCards/\(id)", json: try encode(input)), "PUT /2.0/eCards/\(id)")
    }

    public func deleteECard(_ id: Int) async throws(ClassyAPIError) {
        _ = try await send(.DELETE, "/2.0/eCards/\(id)")
    }

    public func appealSet(campaignID: Int) async throws(ClassyAPIError) -> AppealSet {
        try decode(AppealSet.self, try await send(.GET, "/2.0/campaigns/\(campaignID)/appeal-set"), "GET /2.0/campaigns/\(campaignID)/appeal-set")
    }

    /// `GET /2.0/appeal-set/{id}`.
    public func appealSet(_ id: Int) async throws(ClassyAPIError) -> AppealSet {
        try decode(AppealSet.self, try await send(.GET, "/2.0/appeal-set/\(id)"), "GET /2.0/appeal-set/\(id)")
    }

    /// `POST /2.0/campaigns/{id}/appeal-set` with the Facebook thumbnail asset
    /// (a campaign has at most one appeal set; the API refuses a second).
    public func createAppealSet(campaignID: Int, facebookAssetID: Int) async throws(ClassyAPIError) -> AppealSet {
        let r = try await send(.POST, "/2.0/campaigns/\(campaignID)/appeal-set", json: Array("{\"facebook_asset_id\":\(facebookAssetID)}".utf8))
        return try decode(AppealSet.self, r, "POST /2.0/campaigns/\(campaignID)/appeal-set")
    }

    /// `PUT /2.0/appeal-set/{id}` setting the Facebook thumbnail asset.
    public func setAppealSetFacebookAsset(appealSetID: Int, assetID: Int) async throws(ClassyAPIError) -> AppealSet {
        let r = try await send(.PUT, "/2.0/appeal-set/\(appealSetID)", json: Array("{\"facebook_asset_id\":\(assetID)}".utf8))
        return try decode(AppealSet.self, r, "PUT /2.0/appeal-set/\(appealSetID)")
    }

    /// `GET /2.0/donation-matching-plans/{id}`.
    public func matchingPlan(_ id: Int) async throws(ClassyAPIError) -> MatchingPlan {
        try decode(MatchingPlan.self, try await send(.GET, "/2.0/donation-matching-plans/\(id)"), "GET /2.0/donation-matching-plans/\(id)")
    }

    /// `PUT /2.0/donation-matching-plans/{id}` setting the sponsor's image (`asset_id`).
    /// The reference marks business_name, matching_limit_amount, started_at and
    /// timezone_identifier Required on this PUT, so the plan is read first and
    /// those (and ended_at, when set) are sent back as they are.
    public func setMatchingPlanAsset(planID: Int, assetID: Int) async throws(ClassyAPIError) -> MatchingPlan {
        let label = "PUT /2.0/donation-matching-plans/\(planID)"
        let current = try await matchingPlan(planID)
        func required(_ value: String?, _ field: String) throws(ClassyAPIError) -> String {
            guard let value else {
                throw ClassyAPIError(.invalidResponse, message: "plan \(planID) has no \(field), which the update must send", request: label)
            }
            return value
        }
        let update = MatchingPlanUpdate(
            assetID: assetID, businessName: try required(current.businessName, "business_name"),
            matchingLimitAmount: try required(current.matchingLimitAmount, "matching_limit_amount"),
            startedAt: try required(current.startedAt, "started_at"), endedAt: current.endedAt,
            timezoneIdentifier: try required(current.timezoneIdentifier, "timezone_identifier"))
        let r = try await send(.PUT, "/2.0/donation-matching-plans/\(planID)", json: try encode(update))
        return try decode(MatchingPlan.self, r, label)
    }

    /// Any paged collection of the API, read lazily as an async sequence.
    public func pages<T: Decodable & Sendable>(_ type: T.Type, path: String, perPage: Int = 100) -> ClassyPages<T> {
        ClassyPages(client: self, path: path, perPage: perPage)
    }

    /// Fetches one page of a collection (`page` from 1, `per_page` ≤ 100).
    public func page<T: Decodable & Sendable>(_ type: T.Type, path: String, page: Int, perPage: Int) async throws(ClassyAPIError) -> CollectionPage<T> {
        let r = try await send(.GET, path, query: [("page", String(page)), ("per_page", String(min(max(perPage, 1), 100)))])
        return try decode(CollectionPage<T>.self, r, "GET \(path)")
    }

    func encode<T: Encodable>(_ value: T) throws(ClassyAPIError) -> [UInt8] {
        do { return Array(try JSONEncoder().encode(value)) } catch {
            throw ClassyAPIError(.invalidResponse, message: "cannot encode \(T.self)", request: "encode")
        }
    }
}

/// A paged collection read lazily: one `GET` per page, as the elements are consumed.
public struct ClassyPages<Element: Decodable & Sendable>: AsyncSequence, Sendable {
    let client: ClassyClient
    let path: String
    let perPage: Int

    public struct AsyncIterator: AsyncIteratorProtocol {
        let pages: ClassyPages
        var nextPage = 1
        var buffer: [Element] = []
        var done = false

        public mutating func next() async throws -> Element? {
            while buffer.isEmpty {
                if done { return nil }
                let p = try await pages.client.page(Element.self, path: pages.path, page: nextPage, perPage: pages.perPage)
                buffer = p.data.reversed()
                let current = p.currentPage ?? nextPage
                done = p.data.isEmpty || (p.lastPage.map { current >= $0 } ?? (p.nextPageURL == nil))
                nextPage = current + 1
            }
            return buffer.popLast()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(pages: self) }
}
