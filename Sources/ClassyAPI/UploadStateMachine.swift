import Foundation
import SigV4

/// How far one image's upload got, as a journal keeps it between runs.
public enum UploadProgress: Sendable, Hashable {
    /// No pending asset yet.
    case notStarted
    /// A pending asset and its pre-signed URL (valid until `expiresAt`).
    case pending(PresignedAsset, expiresAt: Date)
    /// The bytes are in the store; the asset is not marked uploaded yet.
    case stored(assetID: Int)
    /// The asset is marked uploaded: it exists on the platform.
    case confirmed(assetID: Int)
}

/// What the upload engine asks its caller to make durable before it goes on.
public enum UploadCheckpoint: Sendable, Hashable {
    /// A pending asset was created. `replacing` is the pending asset it takes
    /// the place of (its URL expired), which is now abandoned.
    case pendingCreated(PresignedAsset, issuedAt: Date, expiresAt: Date, replacing: Int?)
    /// `POST /2.0/assets/url` got no answer: the API may have created a pending
    /// asset nobody will ever use. It cannot be looked up, only counted.
    case pendingPossiblyOrphaned
    /// The bytes are stored behind the pending asset.
    case stored(assetID: Int)
    /// The asset is marked uploaded and its record checked.
    case confirmed(Asset)
}

/// The life of one image's upload through the pre-signed flow, as a pure value:
/// events in (what the API or the store answered), commands out (what to send
/// next) and checkpoints (what to persist before the next command). No I/O, so
/// every state and event is tested without a network (`UploadStateMachineTests`).
///
///     notStarted ─createPending→ pending ─put→ stored ─confirm→ confirmed
///                  ▲                │ expired
///                  └────────────────┘ (a new pending asset, the old one abandoned)
public struct UploadStateMachine: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        case needsPendingAsset
        case pending(PresignedAsset, expiresAt: Date)
        case stored(assetID: Int)
        /// Marked uploaded in an earlier run: only its record is needed.
        case confirmedEarlier(assetID: Int)
        case finished(Asset)
        case failed(Failure)
    }

    public enum Event: Sendable, Hashable {
        case created(PresignedAsset, issuedAt: Date)
        /// `POST /2.0/assets/url` was sent and no answer came back.
        case creationInDoubt
        case stored
        /// The store said the pre-signed URL expired.
        case expired
        /// `PUT /2.0/assets/{id}` answered (or `GET` for an asset confirmed earlier).
        case confirmed(Asset)
    }

    public enum Command: Sendable, Hashable {
        case createPendingAsset
        case put(PresignedAsset)
        case confirm(assetID: Int)
        /// Fetch the record of an asset confirmed in an earlier run.
        case fetch(assetID: Int)
        case finish(Asset)
        case fail(Failure)
    }

    public enum Failure: Error, Sendable, Hashable {
        /// Every pre-signed URL the budget allowed expired before its PUT finished.
        case urlsKeptExpiring(abandoned: [Int])
        /// Pending assets kept being created without an answer.
        case creationKeptFailing(possiblyOrphaned: Int)
        /// An event that cannot happen in this state (a bug in the caller).
        case unexpected(event: String, state: String)
    }

    public private(set) var state: State
    /// Pending assets this upload may still ask for after their URLs expired.
    public private(set) var urlRequestsLeft: Int
    /// Creations without an answer this upload may still risk (each may leave
    /// one pending asset nobody can find, so they are bounded on their own).
    public private(set) var creationsInDoubtLeft: Int
    /// Pending assets given up on (expired URLs), in order.
    public private(set) var abandoned: [Int] = []
    /// Pending assets possibly created without an answer.
    public private(set) var possiblyOrphaned = 0
    /// A URL closer than this to its expiry is not used: the PUT may outlast it.
    public let expiryMargin: TimeInterval

    /// Starts (or resumes) an upload from what a journal kept. A pending asset
    /// whose URL is about to expire at `now` is given up at once.
    public init(resumingFrom progress: UploadProgress = .notStarted, maxURLRequests: Int = 3, maxCreationsInDoubt: Int = 10,
                now: Date = Date(), expiryMargin: TimeInterval = 60) {
        self.urlRequestsLeft = max(1, maxURLRequests)
        self.creationsInDoubtLeft = max(0, maxCreationsInDoubt)
        self.expiryMargin = expiryMargin
        switch progress {
        case .notStarted:
            state = .needsPendingAsset
        case let .pending(asset, expiresAt):
            if expiresAt.timeIntervalSince(now) > expiryMargin {
                state = .pending(asset, expiresAt: expiresAt)
            } else {
                state = .needsPendingAsset
                abandoned = [asset.id]
            }
        case let .stored(id):
            state = .stored(assetID: id)
        case let .confirmed(id):
            state = .confirmedEarlier(assetID: id)
        }
    }

    /// What to do next.
    public var nextCommand: Command {
        switch state {
        case .needsPendingAsset:
            if urlRequestsLeft <= 0 { return .fail(.urlsKeptExpiring(abandoned: abandoned)) }
            if creationsInDoubtLeft < 0 { return .fail(.creationKeptFailing(possiblyOrphaned: possiblyOrphaned)) }
            return .createPendingAsset
        case let .pending(asset, _): return .put(asset)
        case let .stored(id): return .confirm(assetID: id)
        case let .confirmedEarlier(id): return .fetch(assetID: id)
        case let .finished(asset): return .finish(asset)
        case let .failed(failure): return .fail(failure)
        }
    }

    /// Takes what the last command led to; returns what must be persisted
    /// before `nextCommand` is carried out (nil: nothing).
    public mutating func apply(_ event: Event) -> UploadCheckpoint? {
        switch (state, event) {
        case let (.needsPendingAsset, .created(asset, issuedAt)):
            urlRequestsLeft -= 1
            let expiresAt = PresignedURLLifetime.expiry(of: asset.presignedPutURL, issuedAt: issuedAt)
            state = .pending(asset, expiresAt: expiresAt)
            return .pendingCreated(asset, issuedAt: issuedAt, expiresAt: expiresAt, replacing: abandoned.last)
        case (.needsPendingAsset, .creationInDoubt):
            creationsInDoubtLeft -= 1
            possiblyOrphaned += 1
            return .pendingPossiblyOrphaned
        case let (.pending(asset, _), .stored):
            state = .stored(assetID: asset.id)
            return .stored(assetID: asset.id)
        case let (.pending(asset, _), .expired):
            abandoned.append(asset.id)
            state = .needsPendingAsset
            return nil // recorded with the replacement's `pendingCreated`
        case let (.stored, .confirmed(asset)):
            state = .finished(asset)
            return .confirmed(asset)
        case let (.confirmedEarlier, .confirmed(asset)):
            state = .finished(asset)
            return nil
        default:
            state = .failed(.unexpected(event: "\(event)", state: "\(state)"))
            return nil
        }
    }
}

/// How long a pre-signed URL works: S3's `X-Amz-Expires` seconds from its
/// `X-Amz-Date` when the URL says; else the API's documented 15 minutes from issue.
public enum PresignedURLLifetime {
    /// The lifetime the API documents for `presigned_put_url`.
    public static let documented = TimeInterval(ClassyLimits.presignedURLLifetimeSeconds)

    public static func expiry(of url: String, issuedAt: Date) -> Date {
        guard let components = URLComponents(string: url) else { return issuedAt.addingTimeInterval(documented) }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name.lowercased(), $0.value ?? "") }, uniquingKeysWith: { a, _ in a })
        guard let seconds = query["x-amz-expires"].flatMap(TimeInterval.init), seconds > 0 else {
            return issuedAt.addingTimeInterval(documented)
        }
        // Signed at X-Amz-Date, but never trust a signing clock later than our own issue time.
        let signedAt = query["x-amz-date"].flatMap(Self.parseAmzDate).map { min($0, issuedAt) } ?? issuedAt
        return signedAt.addingTimeInterval(seconds)
    }

    /// `20261202T223000Z`, read by SigV4's own parser of that format.
    static func parseAmzDate(_ text: String) -> Date? {
        UTCTime(amzDate: text).map { Date(timeIntervalSince1970: TimeInterval($0.epochSeconds)) }
    }
}
