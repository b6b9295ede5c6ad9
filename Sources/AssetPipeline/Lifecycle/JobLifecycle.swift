import Foundation

/// What a job's image is attached to, decided from its role before the run.
public enum AttachTarget: Sendable, Hashable {
    /// Nothing: logos and plain assets end with their upload.
    case none
    /// An eCard of `campaign` at `order`: a new one, or (`existingCardID`) the one already at that order.
    case ecard(campaign: Int, order: Int, existingCardID: Int?)
    /// The Facebook image of an appeal set, by id or by campaign (created when the campaign has none).
    case appealSet(id: Int)
    case campaignAppealSet(campaign: Int)
    /// A sponsor's donation-matching plan.
    case matchingPlan(id: Int)

    /// Whether the call creates something (so it is not safe to repeat without
    /// looking first): an eCard, or an appeal set the campaign may not have yet.
    public var mayCreate: Bool {
        switch self {
        case .ecard(_, _, nil), .campaignAppealSet: true
        default: false
        }
    }

    /// The lock of the rule this attach shares with other jobs, held across every
    /// worker of the store while the attach is decided and made (`JobStore.recordHoldingLock`):
    /// a campaign's eCards (at most `ClassyLimits.maxECardsPerCampaign`, one per order)
    /// and a campaign's one appeal set. Nil for attaches no other job can race.
    public var crossJobLock: String? {
        switch self {
        case let .ecard(campaign, _, _): "ecards-of-campaign-\(campaign)"
        case let .campaignAppealSet(campaign): "appeal-set-of-campaign-\(campaign)"
        case .appealSet, .matchingPlan, .none: nil
        }
    }
}

/// The life of one job, as a pure value in the style of AsyncHTTPClient's
/// state machines: events in (what processing, the uploads, the API and the
/// journal did), commands out (what the runner does next). It holds every rule
/// of a job's life (what a restart continues with, when an intent is
/// recorded, when a doubt is looked up), so the runner only carries commands
/// out, and every state × event is tested without I/O (`JobLifecycleTests`).
///
///     processing → uploading → [asking the server → recording]* → attaching → attached → done
///                                     ↑  ↓ ambiguous                 ↑   ↓ ambiguous
///                                 looking up                       reconciling
///
/// Before a call that creates something (an eCard, an appeal set, the children
/// `POST /process` makes for `actions_on: server`) the intent is persisted;
/// after any doubt (a lost answer, a crash after the intent) the effect is
/// looked up first and adopted if found, so nothing is created twice.
public struct JobLifecycle: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        /// The images must be (re)processed: some are not on the platform yet.
        case processing
        /// Waiting for these positions to be confirmed on the platform.
        case uploading(waitingFor: Set<Int>)
        /// Attaching image `assetID`; a call that may create something is sent
        /// only once its intent is persisted.
        case attaching(assetID: Int, intentPersisted: Bool)
        /// Looking the attachment up after a doubt (a lost answer, or a run that
        /// stopped after persisting the intent) before calling again.
        case reconciling(assetID: Int)
        /// Asking the API to make the images of server call `call` (`serverCalls`);
        /// the call is sent only once the request is persisted.
        case askingServer(call: Int, requestPersisted: Bool)
        /// Looking the children of call `call` up after a doubt, before asking again.
        case lookingUpServer(call: Int)
        /// The API made call `call`'s images (asset ids by position): recording them.
        case recordingServer(call: Int, assetIDs: [Int: Int])
        /// Attached (persisted); only `done` is left to record.
        case attached(Attachment)
        case done
        case failed(String)
    }

    public enum Event: Sendable, Hashable {
        /// Processing produced the images at these positions; `confirmed` are already on the platform.
        /// `attachPosition` is the image to attach among them (nil: none).
        case processed(positions: [Int], confirmed: [Int: Int], attachPosition: Int?)
        /// The image at `position` is marked uploaded as asset `assetID`.
        case imageConfirmed(position: Int, assetID: Int)
        /// The journal holds the intent to attach.
        case intentPersisted
        case attached(Attachment)
        /// Attached, and recorded in the same step (an attach made under its
        /// cross-job lock is recorded before the lock is let go): only `done` is left.
        case attachedAndPersisted(Attachment)
        /// The attach call was sent and no answer came back.
        case ambiguous
        /// What the look-up found: the attachment, or nothing.
        case reconciled(Attachment?)
        /// The journal holds `attached`.
        case attachmentPersisted
        /// The journal holds the request of the current server call.
        case serverRequestPersisted
        /// The API answered the current server call with these images (asset ids by position).
        case madeOnServer([Int: Int])
        /// What a look-up of the current server call's children found, by position (empty: nothing).
        case lookedUpOnServer([Int: Int])
        /// The journal holds the images of the current server call.
        case madeOnServerPersisted
        case donePersisted
        case failed(String)
    }

    public enum Command: Sendable, Hashable {
        case process
        /// Upload (or finish uploading) the images at these positions.
        case upload(positions: [Int])
        /// Persist the intent to attach before calling.
        case persistIntent(AttachTarget, assetID: Int)
        case attach(AttachTarget, assetID: Int)
        case reconcile(AttachTarget, assetID: Int)
        case persistAttachment(Attachment)
        /// Persist that server call `call` is about to be sent, before sending it.
        case persistServerRequest(call: Int)
        /// `POST /2.0/assets/{originalID}/process` for server call `call`.
        case callServer(call: Int, originalID: Int)
        /// `GET /2.0/assets/{originalID}/children`: did server call `call` take effect?
        case lookUpServer(call: Int, originalID: Int)
        /// Persist the images server call `call` made.
        case persistMadeOnServer(call: Int, assetIDs: [Int: Int])
        case persistDone
        /// The job is finished; nothing more to do.
        case finish
        case fail(String)
    }

    public let target: AttachTarget
    /// Which image is attached (journal position); known once processed.
    public private(set) var attachPosition: Int?
    /// Attach calls allowed (a call after a look-up that found nothing counts).
    public let maxAttachAttempts: Int

    /// The images the API makes (`actions_on: server`): positions per `/process`
    /// call, in the order the calls are made; empty for a job processed here.
    public let serverCalls: [[Int]]
    /// Calls allowed per server call (a call after a look-up that found nothing counts).
    public var maxServerAttempts: Int { maxAttachAttempts }

    public private(set) var state: State
    public private(set) var attachAttempts = 0
    /// Calls sent for the current server call.
    public private(set) var serverAttempts = 0
    /// Asset ids of the confirmed images, by position.
    public private(set) var confirmed: [Int: Int] = [:]
    /// Server-made images whose request was persisted and no answer after it.
    public private(set) var requested: Set<Int> = []

    /// A job as the journal left it.
    public struct Persisted: Sendable, Hashable {
        public var step: JobStep
        /// Asset ids of the images already marked uploaded, by position.
        public var confirmed: [Int: Int]
        /// Every position the job's images had when processed (empty before processing).
        public var positions: [Int]
        /// An intent to attach was persisted and no attachment after it.
        public var intentPending: Bool
        public var attachment: Attachment?
        /// Server-made images whose `/process` request was persisted, with no answer recorded.
        public var requested: Set<Int>

        public init(step: JobStep = .planned, confirmed: [Int: Int] = [:], positions: [Int] = [], intentPending: Bool = false,
                    attachment: Attachment? = nil, requested: Set<Int> = []) {
            self.step = step
            self.confirmed = confirmed
            self.positions = positions
            self.intentPending = intentPending
            self.attachment = attachment
            self.requested = requested
        }
    }

    /// Starts a job, or resumes it from what the journal kept.
    public init(target: AttachTarget, attachPosition: Int?, serverCalls: [[Int]] = [], resumingFrom persisted: Persisted = Persisted(),
                maxAttachAttempts: Int = 3) {
        self.target = target
        self.attachPosition = attachPosition
        self.serverCalls = serverCalls
        self.maxAttachAttempts = max(1, maxAttachAttempts)
        self.confirmed = persisted.confirmed
        self.requested = persisted.requested
        state = .processing
        switch persisted.step {
        case .done:
            state = .done
        case .attached:
            // Attached but not done (a kill between the two writes): only `done` is left
            // to record, even when the attachment's text cannot be read back.
            state = persisted.attachment.map(State.attached) ?? .uploading(waitingFor: [])
        default:
            let made = Set(serverCalls.joined())
            let uploadedHere = persisted.positions.filter { !made.contains($0) }
            if !persisted.positions.isEmpty, uploadedHere.allSatisfy({ persisted.confirmed[$0] != nil }) {
                state = afterUploads(intentPending: persisted.intentPending)
            } else {
                // Images are missing from the platform: their bytes are needed again.
                state = .processing
            }
        }
    }

    private var attachAssetID: Int? { attachPosition.flatMap { confirmed[$0] } }
    /// The images the API makes rather than this worker.
    private var madeOnServer: Set<Int> { Set(serverCalls.joined()) }
    /// The first server call whose images are not all on the platform yet.
    private var nextServerCall: Int? { serverCalls.indices.first { !serverCalls[$0].allSatisfy { confirmed[$0] != nil } } }

    /// What to do next in this state.
    public var nextCommand: Command {
        switch state {
        case .processing: .process
        case let .uploading(waiting): waiting.isEmpty ? .persistDone : .upload(positions: waiting.sorted())
        case let .attaching(assetID, intentPersisted):
            target.mayCreate && !intentPersisted ? .persistIntent(target, assetID: assetID) : .attach(target, assetID: assetID)
        case let .reconciling(assetID): .reconcile(target, assetID: assetID)
        case let .askingServer(call, persisted):
            if let original = confirmed[0] {
                persisted ? .callServer(call: call, originalID: original) : .persistServerRequest(call: call)
            } else {
                .fail("job lifecycle: the API was to make images before the original was uploaded")
            }
        case let .lookingUpServer(call):
            if let original = confirmed[0] { .lookUpServer(call: call, originalID: original) } else {
                .fail("job lifecycle: the API was to make images before the original was uploaded")
            }
        case let .recordingServer(call, ids): .persistMadeOnServer(call: call, assetIDs: ids)
        case let .attached(attachment): .persistAttachment(attachment)
        case .done: .finish
        case let .failed(reason): .fail(reason)
        }
    }

    /// Takes an event; returns the commands to carry out, in order (a persist
    /// always comes before the call it makes safe).
    public mutating func apply(_ event: Event) -> [Command] {
        switch (state, event) {
        case let (.processing, .processed(positions, alreadyConfirmed, position)):
            confirmed.merge(alreadyConfirmed) { old, _ in old }
            attachPosition = position
            // The images the API makes are not uploaded: the server calls make them once these are.
            let waiting = Set(positions).subtracting(confirmed.keys).subtracting(madeOnServer)
            if target != .none, position.map(positions.contains) != true {
                state = .failed("the image to attach was not produced")
                return [nextCommand]
            }
            state = .uploading(waitingFor: waiting)
            if waiting.isEmpty { state = afterUploads() }
            return [nextCommand]

        case let (.uploading(waiting), .imageConfirmed(position, assetID)):
            confirmed[position] = assetID
            let left = waiting.subtracting([position])
            state = .uploading(waitingFor: left)
            guard left.isEmpty else { return [] } // the other uploads are under way
            state = afterUploads()
            return [nextCommand]

        case (.attaching(let assetID, false), .intentPersisted) where target.mayCreate:
            state = .attaching(assetID: assetID, intentPersisted: true)
            return [nextCommand]

        case (.attaching, .attached(let attachment)), (.reconciling, .reconciled(.some(let attachment))):
            state = .attached(attachment)
            return [.persistAttachment(attachment)]

        case (.attaching, .attachedAndPersisted(let attachment)):
            state = .attached(attachment)
            return [.persistDone]

        case let (.attaching(assetID, _), .ambiguous):
            state = .reconciling(assetID: assetID)
            return [.reconcile(target, assetID: assetID)]

        case let (.reconciling(assetID), .reconciled(nil)):
            guard attachAttempts < maxAttachAttempts else {
                state = .failed("the attach call was not carried out after \(attachAttempts) attempt(s)")
                return [nextCommand]
            }
            // Nothing there: safe to call again (the intent is already persisted).
            state = .attaching(assetID: assetID, intentPersisted: true)
            return [nextCommand]

        case (.attached, .attachmentPersisted):
            return [.persistDone]

        case let (.askingServer(call, false), .serverRequestPersisted):
            requested.formUnion(serverCalls[call])
            state = .askingServer(call: call, requestPersisted: true)
            return [nextCommand]

        case let (.askingServer(call, true), .madeOnServer(ids)), let (.lookingUpServer(call), .lookedUpOnServer(ids)) where !ids.isEmpty:
            let expected = Set(serverCalls[call])
            guard Set(ids.keys) == expected else {
                // Some children exist and some do not: asking again would make the others twice.
                state = .failed("""
                    the API has \(ids.count) of the \(expected.count) image(s) of server call \(call + 1); \
                    not asking again, since that would make the ones it has twice
                    """)
                return [nextCommand]
            }
            state = .recordingServer(call: call, assetIDs: ids)
            return [nextCommand]

        case let (.askingServer(call, _), .ambiguous):
            state = .lookingUpServer(call: call)
            return [nextCommand]

        case let (.lookingUpServer(call), .lookedUpOnServer):
            // Nothing made: safe to ask again (the request is already persisted).
            guard serverAttempts < maxServerAttempts else {
                state = .failed("server call \(call + 1) was not carried out after \(serverAttempts) attempt(s)")
                return [nextCommand]
            }
            state = .askingServer(call: call, requestPersisted: true)
            return [nextCommand]

        case let (.recordingServer(_, ids), .madeOnServerPersisted):
            confirmed.merge(ids) { _, new in new }
            requested.subtract(ids.keys)
            serverAttempts = 0
            state = afterUploads()
            return [nextCommand]

        case (.uploading, .donePersisted), (.attached, .donePersisted):
            state = .done
            return [.finish]

        case let (.done, event):
            // Late events of a finished job change nothing.
            _ = event
            return [.finish]

        case let (_, .failed(reason)):
            state = .failed(reason)
            return [.fail(reason)]

        default:
            let reason = "job lifecycle: \(event) is not expected in state \(state)"
            state = .failed(reason)
            return [.fail(reason)]
        }
    }

    /// Every image uploaded here is on the platform: ask the API for the images
    /// it makes (looking up first those whose request was persisted), then
    /// attach (looking up first when an intent is pending), or record done.
    private func afterUploads(intentPending: Bool = false) -> State {
        if let call = nextServerCall {
            return serverCalls[call].contains(where: requested.contains)
                ? .lookingUpServer(call: call) : .askingServer(call: call, requestPersisted: false)
        }
        guard target != .none, let assetID = attachAssetID else { return .uploading(waitingFor: []) }
        return intentPending ? .reconciling(assetID: assetID) : .attaching(assetID: assetID, intentPersisted: false)
    }

    /// The runner sends the attach call now: counted, so repeated look-ups that
    /// find nothing end in a failure instead of a loop.
    public mutating func attachSent() {
        attachAttempts += 1
    }

    /// The runner sends the current server call now: counted like `attachSent`.
    public mutating func serverCallSent() {
        serverAttempts += 1
    }
}
