/// The API a journal's uploads went to: its ids (assets, eCards) mean
/// something only there. Recorded in the journal on the first run; a run
/// against another target on the same journal is refused.
public struct APITarget: Sendable, Hashable, CustomStringConvertible {
    /// The API's base URL, or for the built-in sandbox `sandbox:` and its data folder
    /// (its port may change between runs; its data folder is its identity).
    public var endpoint: String
    public var clientID: String
    public var memberID: Int?
    public var organizationID: Int?

    public init(endpoint: String, clientID: String, memberID: Int?, organizationID: Int? = nil) {
        self.endpoint = endpoint
        self.clientID = clientID
        self.memberID = memberID
        self.organizationID = organizationID
    }

    /// `https://api.classy.org client=abc member=7 organization=42`.
    public var description: String {
        var text = "\(endpoint) client=\(clientID)"
        if let memberID { text += " member=\(memberID)" }
        if let organizationID { text += " organization=\(organizationID)" }
        return text
    }

    /// As stored: one row per field.
    public var fields: [(String, String)] {
        [("endpoint", endpoint), ("clientID", clientID), ("memberID", memberID.map(String.init) ?? ""),
         ("organizationID", organizationID.map(String.init) ?? "")]
    }

    public init?(fields: [String: String]) {
        guard let endpoint = fields["endpoint"], let clientID = fields["clientID"] else { return nil }
        self.init(endpoint: endpoint, clientID: clientID, memberID: fields["memberID"].flatMap { Int($0) },
                  organizationID: fields["organizationID"].flatMap { Int($0) })
    }
}
