import ClassyAPI

/// One disagreement between the journal and the API.
public struct VerificationProblem: Sendable, Hashable, Encodable {
    public var assetID: Int
    public var source: String
    public var problem: String
    /// The API could not be asked (as opposed to answering something different).
    public var unreachable: Bool
}

/// `verify`: every asset the journal says is uploaded is fetched from the API
/// and compared (state, size, content type); assets the API does not know are
/// reported too. This is the count check the Klaviyo document recommends, per
/// asset. Then every eCard, appeal set and donation-matching plan a job
/// attached an image to is fetched and must still exist and show that job's image.
public struct AssetVerifier: Sendable {
    public let journal: any JournalStore
    public let client: ClassyClient

    public init(journal: any JournalStore, client: ClassyClient) {
        self.journal = journal
        self.client = client
    }

    /// Returns the number of assets checked and the problems found. A failed
    /// job is a problem too: what the manifest asked for is not all there.
    /// With `batch`, only that batch's jobs are checked (a queue's `--batch`).
    public func verify(batch: String? = nil) async throws(JournalError) -> (checked: Int, problems: [VerificationProblem]) {
        var problems: [VerificationProblem] = try await journal.status(batch: batch).failures.map { failure in
            VerificationProblem(assetID: 0, source: failure.sourcePath,
                                problem: "job failed (\(failure.role) \(failure.target)): \(failure.error)", unreachable: false)
        }
        var checked = 0
        let items = try await journal.allAssets(batch: batch)
        for item in items where item.step >= .markedUploaded {
            guard let id = item.classyAssetID else { continue }
            checked += 1
            let source = item.record.path ?? item.record.type ?? "image \(item.position) of job \(item.jobKey.prefix(12))"
            func report(_ text: String, unreachable: Bool = false) {
                problems.append(VerificationProblem(assetID: id, source: source, problem: text, unreachable: unreachable))
            }
            do {
                let asset = try await client.asset(id)
                if AssetLifecycleState(rawValue: asset.state)?.isOnPlatform != true { report("state is \(asset.state), expected uploaded") }
                if asset.size != item.record.size {
                    report("size is \(asset.size.map(String.init) ?? "null"), the worker sent \(item.record.size)")
                }
                if asset.contentType?.lowercased() != item.record.contentType {
                    report("content_type is \(asset.contentType ?? "null"), the worker sent \(item.record.contentType)")
                }
            } catch where error.code == .notFound {
                report("the API does not know this asset (404)")
            } catch {
                report("cannot fetch: \(error)", unreachable: true)
            }
        }
        problems += try await verifyAttachments(batch: batch)
        problems += await verifyServerChildren(items)
        return (checked, problems)
    }

    /// For `actions_on: server` jobs: `GET /2.0/assets/{id}/children` of each
    /// original must list every child the journal recorded, with that `type`
    /// and the original as `parent_id`, and nothing more (a child no job
    /// recorded is what a `/process` sent twice would leave).
    func verifyServerChildren(_ items: [JournalItem]) async -> [VerificationProblem] {
        var problems: [VerificationProblem] = []
        let byJob = Dictionary(grouping: items, by: \.jobKey)
        for key in byJob.keys.sorted() {
            let jobItems = byJob[key]!.sorted { $0.position < $1.position }
            let made = jobItems.filter(\.madeByTheAPI)
            guard !made.isEmpty, let original = jobItems.first(where: { $0.position == 0 }), let parentID = original.classyAssetID else { continue }
            let source = original.record.path ?? "job \(key.prefix(12))"
            func report(_ assetID: Int, _ text: String, unreachable: Bool = false) {
                problems.append(VerificationProblem(assetID: assetID, source: source, problem: text, unreachable: unreachable))
            }
            let children: [Asset]
            do {
                children = try await client.assetChildren(parentID)
            } catch {
                report(parentID, "cannot list the children of asset \(parentID): \(error)", unreachable: true)
                continue
            }
            let listed = Dictionary(children.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for item in made {
                guard let id = item.classyAssetID else { continue }
                guard let child = listed[id] else {
                    report(id, "asset \(id) (\(item.record.type ?? "child")) is not among the children of asset \(parentID)")
                    continue
                }
                if child.type != item.record.type {
                    report(id, "child \(id) of asset \(parentID) has type \(child.type ?? "null"), the journal recorded \(item.record.type ?? "null")")
                }
                if child.parentID != parentID {
                    report(id, "child \(id) has parent_id \(child.parentID.map(String.init) ?? "null"), expected \(parentID)")
                }
            }
            let recorded = Set(made.compactMap(\.classyAssetID))
            for child in children where !recorded.contains(child.id) {
                report(child.id, "asset \(parentID) has a child \(child.id) (\(child.type ?? "no type")) that no job recorded: a /process made twice?")
            }
        }
        return problems
    }

    /// The eCards, appeal sets and matching plans the journal says it attached images to.
    /// Every job of the store counts as a later replacement, the batch's or not.
    func verifyAttachments(batch: String?) async throws(JournalError) -> [VerificationProblem] {
        var problems: [VerificationProblem] = []
        var jobs: [JournalJob] = []
        for key in Set(try await journal.allAssets().map(\.jobKey)).sorted() {
            if let job = try await journal.job(key: key) { jobs.append(job) }
        }
        // An eCard a later job of this journal pointed at its own image (same
        // campaign and order) was replaced on purpose: showing that image is right.
        func laterJobsAssets(after job: JournalJob) -> Set<Int> {
            Set(jobs.filter { $0.plan.target == job.plan.target && $0.updatedAt > job.updatedAt && $0.attachedTo != nil }
                .flatMap { $0.items.compactMap(\.classyAssetID) })
        }
        for job in jobs where batch == nil || job.plan.batch == batch {
            guard let text = job.attachedTo, let attachment = Attachment(text) else { continue }
            let assetIDs = Set(job.items.compactMap(\.classyAssetID))
            let acceptable = assetIDs.union(laterJobsAssets(after: job))
            let source = job.plan.sourcePath
            func report(_ assetID: Int?, _ text: String, unreachable: Bool = false) {
                problems.append(VerificationProblem(assetID: assetID ?? assetIDs.min() ?? 0, source: source, problem: text, unreachable: unreachable))
            }
            do {
                switch attachment {
                case let .ecard(id, _):
                    let card = try await client.eCard(id)
                    if card.assetID.map(acceptable.contains) != true {
                        report(card.assetID, "eCard \(id) shows asset \(card.assetID.map(String.init) ?? "null"), not one this job uploaded")
                    }
                case let .ecardAt(campaign, order, assetID):
                    var shown: Int?
                    for try await card in client.eCards(campaignID: campaign) where card.order == order { shown = card.assetID }
                    if shown.map(acceptable.contains) != true {
                        report(assetID, "the eCard of campaign \(campaign) at order \(order) shows asset \(shown.map(String.init) ?? "none"), the worker set \(assetID)")
                    }
                case let .matchingPlan(id, assetID):
                    let plan = try await client.matchingPlan(id)
                    if plan.assetID != assetID {
                        report(assetID, "matching plan \(id) shows asset \(plan.assetID.map(String.init) ?? "null"), the worker set \(assetID)")
                    }
                case let .appealSet(id, assetID):
                    let set = try await client.appealSet(id)
                    if set.facebookAssetID != assetID {
                        report(assetID, "appeal set \(id) shows facebook_asset_id \(set.facebookAssetID.map(String.init) ?? "null"), the worker set \(assetID)")
                    }
                }
            } catch let error as ClassyAPIError where error.code == .notFound {
                report(nil, "the API does not know \(attachment) any more (404)")
            } catch {
                report(nil, "cannot fetch \(attachment): \(error)", unreachable: true)
            }
        }
        return problems
    }
}
