import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Imaging
import Logging
import NIOCore
import SigV4

/// Routes every request itself (rather than with Hummingbird's router) so an
/// unknown path gives 404 and a known path with the wrong verb gives 405, as
/// the Classy API documents.
struct SandboxResponder: HTTPResponder {
    typealias Context = SandboxContext

    let state: SandboxState
    let config: SandboxConfiguration
    let store: ObjectStoreBackend
    let processor: any SandboxImageProcessor
    let baseURL: @Sendable () -> String

    func injectLatency() async throws {
        let milliseconds = await state.faults.latencyMilliseconds
        if milliseconds > 0 { try await Task.sleep(for: .milliseconds(milliseconds)) }
    }

    func respond(to request: Request, context: SandboxContext) async throws -> Response {
        let (rawPath, _) = request.rawTarget
        let segments = rawPath.split(separator: "/").map { SigV4.percentDecode(String($0)) ?? String($0) }
        let method = request.method.rawValue
        if segments.first == "s3" {
            // Counted from arrival (latency included) to answer: the PUTs a client has open at once.
            await state.storePutStarted()
            do {
                try await injectLatency()
                let response = try await S3Endpoint(state: state, config: config, store: store).handle(request, context: context)
                await state.storePutEnded()
                return response
            } catch {
                await state.storePutEnded()
                throw error
            }
        }
        try await injectLatency()
        let faults = await state.faults
        do {
            if segments.first == "cdn", segments.count >= 2, method == "GET" || method == "HEAD" {
                let key = segments.dropFirst().joined(separator: "/")
                guard let object = await state.object(key), let bytes = await state.bytes(key) else {
                    return Reply.error(404, "Not found")
                }
                return Reply.bytes(status: 200, body: method == "HEAD" ? [] : bytes, contentType: object.contentType,
                                   headers: [("ETag", "\"\(object.md5Hex)\"")])
            }
            if segments == ["oauth2", "auth"] {
                guard method == "POST" else { throw SandboxHTTPError(status: 405, message: "Method Not Allowed", headers: [("Allow", "POST")]) }
                return try await issueToken(request)
            }
            guard segments.first == "2.0", let route = APIRoute(Array(segments.dropFirst())) else {
                return Reply.error(404, "Not found")
            }
            guard route.methods.contains(method) else {
                throw SandboxHTTPError(status: 405, message: "Method Not Allowed", headers: [("Allow", route.methods.joined(separator: ", "))])
            }
            let token = try await authenticate(request, route: route)
            let rate = try await applyRateLimit(token: token)
            if await state.takeStormRequest() {
                let retry = String(faults.stormRetryAfterSeconds)
                return Reply.error(503, "Service Unavailable", headers: rate + [("Retry-After", retry)])
            }
            if await state.roll(faults.apiServerErrorRate) {
                return Reply.error(500, "Internal Server Error (injected)", headers: rate)
            }
            do {
                let response = try await APIHandlers(state: state, config: config, store: store, processor: processor, baseURL: baseURL(), faults: faults)
                    .handle(route, method: method, request: request)
                let isProcess = if case .assetProcess = route { true } else { false }
                if isProcess, method == "POST", await state.takeProcessErrorAfterWork() {
                    return Reply.error(500, "Internal Server Error (injected after the children were made)", headers: rate)
                }
                if await state.dropResponse(ofProcess: isProcess && method == "POST") {
                    // The work is done and kept; only the answer is lost.
                    try? await context.channel.close()
                    throw ConnectionDropped()
                }
                var r = response
                for (k, v) in rate { r.headers.append(HTTPField(name: HTTPField.Name(k)!, value: v)) }
                return r
            } catch let e as SandboxHTTPError {
                throw SandboxHTTPError(status: e.status, message: e.message, headers: e.headers + rate)
            }
        } catch let e as SandboxHTTPError {
            return Reply.error(e.status, e.message, headers: e.headers)
        } catch let e as ConnectionDropped {
            throw e
        } catch {
            context.logger.error("sandbox handler failed", metadata: ["error": "\(error)"])
            return Reply.error(500, "Internal Server Error")
        }
    }

    private func issueToken(_ request: Request) async throws -> Response {
        var req = request
        let body = try await req.collectBody(upTo: 64 << 10)
        let form = SigV4.parseFormBody(String(decoding: body.readableBytesView, as: UTF8.self))
        guard form["grant_type"] == "client_credentials" else {
            return Reply.json(.object([("error", .string("unsupported_grant_type"))]), status: 400)
        }
        guard let id = form["client_id"], let secret = form["client_secret"],
              let app = config.apps.first(where: { $0.clientID == id }),
              app.clientSecret.utf8.elementsEqual(secret.utf8) else {
            return Reply.json(.object([("error", .string("invalid_client"))]), status: 401)
        }
        let faults = await state.faults
        let lifetime = min(config.tokenExpiresIn, faults.tokenLifetimeSeconds ?? Int.max)
        let token = await state.issueToken(app: app, lifetime: lifetime)
        return Reply.json(.object([
            ("access_token", .string(token)),
            ("token_type", .string("bearer")),
            ("expires_in", .int(config.tokenExpiresIn)),
        ]))
    }

    private func authenticate(_ request: Request, route: APIRoute) async throws -> String {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw SandboxHTTPError(status: 401, message: "Unauthorized: missing access token", headers: [("WWW-Authenticate", "Bearer")])
        }
        let value = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        guard let token = await state.token(value) else {
            throw SandboxHTTPError(status: 401, message: "Unauthorized: invalid or expired access token", headers: [("WWW-Authenticate", "Bearer error=\"invalid_token\"")])
        }
        if route.requiresTrustedApp && !token.trusted {
            throw SandboxHTTPError(status: 403, message: "Forbidden: this endpoint requires a trusted app")
        }
        return value
    }

    /// The limit is the consumer's (the reference: "the consumer's rate limit"): one
    /// window per app, shared by every token it holds, as several workers with one
    /// app's credentials share it.
    private func applyRateLimit(token: String) async throws -> [(String, String)] {
        guard let limit = config.rateLimit else { return [] }
        let consumer = await state.token(token)?.clientID ?? token
        let r = await state.rateLimit(key: consumer, limit: limit)
        let headers = [("X-RateLimit-Limit", String(limit.limit)), ("X-RateLimit-Remaining", String(r.remaining)), ("X-RateLimit-Reset", String(r.reset))]
        guard r.allowed else {
            throw SandboxHTTPError(status: 503, message: "Rate limit exceeded", headers: headers)
        }
        return headers
    }
}

/// The documented API paths below `/2.0/`, matched case-sensitively as the
/// reference writes them: `/campaigns/{id}/ecards` but `/eCards/{id}`.
enum APIRoute {
    case assetURL
    case asset(Int)
    case assetChildren(Int)
    case assetProcess(Int)
    case campaign(Int)
    case campaignECards(Int)
    case eCard(Int)
    case campaignAppealSet(Int)
    case appealSet(Int)
    case campaignMatchingPlans(Int)
    case matchingPlan(Int)

    init?(_ s: [String]) {
        switch s.count {
        case 2 where s == ["assets", "url"]: self = .assetURL
        case 2:
            guard let id = Int(s[1]) else { return nil }
            switch s[0] {
            case "assets": self = .asset(id)
            case "campaigns": self = .campaign(id)
            case "eCards": self = .eCard(id)
            case "appeal-set": self = .appealSet(id)
            case "donation-matching-plans": self = .matchingPlan(id)
            default: return nil
            }
        case 3:
            guard let id = Int(s[1]) else { return nil }
            switch (s[0], s[2]) {
            case ("assets", "children"): self = .assetChildren(id)
            case ("assets", "process"): self = .assetProcess(id)
            case ("campaigns", "ecards"): self = .campaignECards(id)
            case ("campaigns", "appeal-set"): self = .campaignAppealSet(id)
            case ("campaigns", "donation-matching-plans"): self = .campaignMatchingPlans(id)
            default: return nil
            }
        default: return nil
        }
    }

    var methods: [String] {
        switch self {
        case .assetURL, .assetProcess: ["POST"]
        case .asset: ["GET", "PUT"]
        case .assetChildren, .campaign: ["GET"]
        case .campaignECards, .campaignAppealSet: ["GET", "POST"]
        case .eCard: ["GET", "PUT", "DELETE"]
        case .appealSet, .matchingPlan: ["GET", "PUT"]
        case .campaignMatchingPlans: ["GET", "POST"]
        }
    }

    /// Classy documents the asset endpoints as "trusted app" only.
    var requiresTrustedApp: Bool {
        switch self {
        case .assetURL, .asset, .assetChildren, .assetProcess: true
        default: false
        }
    }
}

extension SigV4 {
    /// `application/x-www-form-urlencoded` bodies use `+` for spaces.
    static func parseFormBody(_ body: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in body.split(separator: "&") {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let k = percentDecode(String(kv[0]), plusIsSpace: true) else { continue }
            out[k] = kv.count > 1 ? percentDecode(String(kv[1]), plusIsSpace: true) : ""
        }
        return out
    }
}
