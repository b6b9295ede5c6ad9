import Foundation

/// Where and as whom the client talks to Classy. `description` hides the secret.
public struct ClassyConfiguration: Sendable, Hashable, CustomStringConvertible {
    public static let defaultBaseURL = "https://api.classy.org"

    public var baseURL: String
    public var clientID: String
    public var clientSecret: String
    public var organizationID: Int?
    public var memberID: Int?

    public init(baseURL: String = ClassyConfiguration.defaultBaseURL, clientID: String, clientSecret: String,
                organizationID: Int? = nil, memberID: Int? = nil) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.organizationID = organizationID
        self.memberID = memberID
    }

    public var description: String {
        "ClassyConfiguration(baseURL: \(baseURL), clientID: \(clientID), clientSecret: <redacted>, organizationID: \(organizationID.map(String.init) ?? "nil"), memberID: \(memberID.map(String.init) ?? "nil"))"
    }

    /// Values given on the command line; nil means "not given".
    public struct Overrides: Sendable, Hashable {
        public var baseURL: String?
        public var clientID: String?
        public var clientSecret: String?
        public var organizationID: Int?
        public var memberID: Int?
        public init(baseURL: String? = nil, clientID: String? = nil, clientSecret: String? = nil, organizationID: Int? = nil, memberID: Int? = nil) {
            self.baseURL = baseURL
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.organizationID = organizationID
            self.memberID = memberID
        }
    }

    /// Flags win over environment variables, which win over the config file.
    /// The file uses the environment variable names, one `NAME=value` a line
    /// (`#` starts a comment), and is refused if group or others may read it.
    public static func resolve(flags: Overrides = Overrides(), environment: [String: String] = ProcessInfo.processInfo.environment,
                               configFile: String? = nil) throws(ClassyAPIError) -> ClassyConfiguration {
        var file: [String: String] = [:]
        if let configFile { file = try readConfigFile(configFile) }
        func pick(_ flag: String?, _ name: String) -> String? {
            flag ?? environment[name].flatMap { $0.isEmpty ? nil : $0 } ?? file[name]
        }
        func int(_ flag: Int?, _ name: String) throws(ClassyAPIError) -> Int? {
            if let flag { return flag }
            guard let s = pick(nil, name) else { return nil }
            guard let v = Int(s) else { throw configError("\(name) must be a number") }
            return v
        }
        guard let id = pick(flags.clientID, "CLASSY_CLIENT_ID") else { throw configError("no client ID (flag, CLASSY_CLIENT_ID or config file)") }
        guard let secret = pick(flags.clientSecret, "CLASSY_CLIENT_SECRET") else { throw configError("no client secret (flag, CLASSY_CLIENT_SECRET or config file)") }
        let base = pick(flags.baseURL, "CLASSY_API_URL") ?? defaultBaseURL
        guard base.hasPrefix("https://") || base.hasPrefix("http://") else { throw configError("the API URL must start with http:// or https://") }
        return ClassyConfiguration(baseURL: base, clientID: id, clientSecret: secret,
                                   organizationID: try int(flags.organizationID, "CLASSY_ORGANIZATION_ID"),
                                   memberID: try int(flags.memberID, "CLASSY_MEMBER_ID"))
    }

    static func readConfigFile(_ path: String) throws(ClassyAPIError) -> [String: String] {
        var st = stat()
        guard stat(path, &st) == 0 else { throw configError("cannot read the config file \(path)") }
        // A file holding a secret must be private to its owner.
        guard st.st_mode & 0o077 == 0 else {
            throw configError("the config file \(path) is readable by others (mode \(String(st.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw configError("cannot read the config file \(path)") }
        var out: [String: String] = [:]
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.isEmpty || t.hasPrefix("#") { continue }
            guard let eq = t.firstIndex(of: "=") else { throw configError("\(path):\(n + 1): expected NAME=value") }
            out[t[..<eq].trimmingCharacters(in: .whitespaces)] = t[t.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        }
        return out
    }

    static func configError(_ m: String) -> ClassyAPIError {
        ClassyAPIError(.configuration, message: m, request: "configuration")
    }
}
