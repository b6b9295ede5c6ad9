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
/// reported too. This is the count check the Klaviyo document recommends, per asset.
public struct AssetVerifier: Sendable {
    public let journal: any JournalStore
    public let client: ClassyClient

    public init(journal: any JournalStore, client: ClassyClient) {
        self.journal = journal
        self.client = client
    }

    /// Returns the number of assets checked and the problems found.
    public func verify() async throws(JournalError) -> (checked: Int, problems: [VerificationProblem]) {
        var problems: [VerificationProblem] = []
        var checked = 0
        for item in try await journal.allAssets() where item.step >= .markedUploaded {
            guard let id = item.classyAssetID else { continue }
            checked += 1
            let source = item.record.path ?? item.record.type ?? "image \(item.position) of job \(item.jobKey.prefix(12))"
            func report(_ text: String, unreachable: Bool = false) {
                problems.append(VerificationProblem(assetID: id, source: source, problem: text, unreachable: unreachable))
            }
            do {
                let asset = try await client.asset(id)
                if asset.state != "uploaded", asset.state != "processed" { report("state is \(asset.state), expected uploaded") }
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
        return (checked, problems)
    }
}
