import Imaging

/// A validated list of upload jobs, read from a YAML or JSON manifest (or built
/// from command-line options with `Manifest.singleJob`).
///
/// Format (YAML; the same structure in JSON is accepted too):
///
/// ```yaml
/// # Optional values every job inherits unless it sets its own.
/// defaults:
///   member_id: 42          # the member the assets are created for (created_by)
///   campaign: 1001         # for logo / ecard / social jobs
///   format: same           # same (keep the source's format) | png | jpeg | gif, for derived images
///   crop: centre           # where cover crops cut: centre | attention | entropy; or focus: {x, y} / gravity: north (see `CropKeys`)
///   actions_on: local      # local (processed here, every child uploaded) | server (only the original is
///                          # uploaded; the API makes each child with POST /2.0/assets/{id}/process)
///
/// jobs:
///   # The campaign's logo (logo_id): the original, plus any thumbnails.
///   - role: logo
///     source: TestImages/campaign-logo.png   # relative to the manifest's folder, or absolute
///     campaign: 1001
///     thumbnails: [100x100, 150x150]
///
///   # An eCard (at most 4 per campaign). eCards are 600x400: another size is
///   # cover-cropped to 600x400, unless strict: true, which refuses it instead.
///   - role: ecard
///     source: TestImages/ecard-landscape-exif6.jpg
///     campaign: 1001
///     order: 1
///     strict: false
///
///   # An appeal set's facebook_asset_id: name the appeal set, or the campaign
///   # (whose appeal set is looked up).
///   - role: social
///     source: TestImages/social-ladybird.jpg
///     appeal_set: 77
///
///   # A donation-matching plan's asset_id (the sponsor's image).
///   - role: sponsor
///     source: TestImages/sponsor-cogs.gif
///     matching_plan: 555
///     thumbnails: [200x200]
///
///   # A plain asset with any list of the four actions (each applies to the original).
///   - role: asset
///     source: TestImages/campaign-logo.png
///     format: png
///     actions:
///       - thumbnails: [100x100]                          # or {sizes: [100x100], fit: contain}
///       - crop: {x: 0, y: 0, width: 50, height: 50}
///       - scale: {width: 300}                            # either side, or both
///       - rotate: {angle: 90}                            # or rotate: 90
/// ```
///
/// Sizes are `WxH` strings or `{width: W, height: H}`. `thumbnails` is allowed on
/// every role but `ecard`; `actions` only on `asset`. Keys are checked: a key
/// that is not part of the format (`thumbnail:`), or not used by the job's role
/// (`order:` on a logo), is a problem, as is a source that is missing or not a
/// PNG, JPEG or GIF (judged by its bytes, not its name).
public struct Manifest: Sendable {
    /// The manifest file (absolute), or nil for a one-job manifest from options.
    public var path: String?
    public var jobs: [Job]

    public init(path: String?, jobs: [Job]) {
        self.path = path
        self.jobs = jobs
    }

    /// eCard jobs per campaign, in manifest order: what the runner checks against
    /// `GET /campaigns/{id}/ecards` (at most 4 per campaign) before uploading anything.
    public var ecardJobsByCampaign: [Int: [Job]] {
        var result: [Int: [Job]] = [:]
        for job in jobs {
            if case let .ecard(campaign, _, _) = job.role { result[campaign, default: []].append(job) }
        }
        return result
    }
}

/// What a job's image is for, with the API object it gets attached to.
public enum JobRole: Sendable, Hashable, Codable {
    /// A campaign's `logo_id`.
    case logo(campaign: Int)
    /// A campaign eCard (`POST /campaigns/{id}/ecards`, or `PUT /ecards/{id}` when
    /// the campaign already has one with this `order`).
    case ecard(campaign: Int, order: Int, strict: Bool)
    /// An appeal set's `facebook_asset_id`.
    case social(SocialTarget)
    /// A donation-matching plan's `asset_id`.
    case sponsor(matchingPlan: Int)
    /// Uploaded and processed, attached to nothing.
    case asset

    /// The name used in manifests and on the command line.
    public var name: String {
        switch self {
        case .logo: "logo"
        case .ecard: "ecard"
        case .social: "social"
        case .sponsor: "sponsor"
        case .asset: "asset"
        }
    }

    public static let names = ["logo", "ecard", "social", "sponsor", "asset"]
}

/// Where a social image goes: a known appeal set, or the campaign's (looked up by the runner
/// with `GET /campaigns/{id}/appeal-set`).
public enum SocialTarget: Sendable, Hashable, Codable {
    case appealSet(Int)
    case campaign(Int)
}

/// Which uploaded image's asset id is attached to the job's target.
public enum AttachedImage: Sendable, Hashable, Codable {
    /// The original (logos, social and sponsor images, and eCards already 600x400 and upright).
    case original
    /// The child of this type (`thumbnail_600_400` for a cover-cropped eCard).
    case child(type: String)
}

/// One validated job: a source, what to make of it, where it goes.
public struct Job: Sendable, Equatable, Codable {
    /// 0-based position in the manifest.
    public var index: Int
    /// The line of the job's entry (0 for a job from command-line options).
    public var line: Int
    public var role: JobRole
    /// Absolute path of the source image.
    public var source: String
    /// The source's header, as probed during validation (format, stored and upright size).
    public var sourceInfo: ImageInfo
    /// SHA-256 (hex) of the source file's bytes when it was validated.
    public var sourceSHA256: String
    /// The actions run locally; each makes children of the original.
    public var actions: [ImageAction]
    /// Output format of derived images; nil keeps the source's.
    public var outputFormat: ImageFormat?
    /// The member the assets are created for, when the manifest names one.
    public var memberID: Int?
    /// Which asset id is attached to the role's target; nil for `.asset`.
    public var attach: AttachedImage?
    /// Stable identity of the job: see `JobKey`. Same source bytes and same
    /// role, target, actions and output options give the same key, run after run.
    public var key: String
    /// Where the actions run; nil is `.local`. (Optional so that job specs
    /// encoded before it existed, e.g. in a queue, still decode.)
    public var actionsOn: ActionPlace? = nil

    /// The job's actions as the API's `/process` requests, when the API makes the
    /// children (`actions_on: server`); nil when they are made here. The validator
    /// only lets through server jobs whose every action has an API form.
    public var serverActions: [ProcessAction]? {
        guard actionsOn == .server else { return nil }
        return actions.compactMap(\.processAction)
    }
}

/// Where a job's actions run (`actions_on`).
public enum ActionPlace: String, Sendable, Hashable, Codable, CaseIterable {
    /// Processed here; the original and every child are uploaded (the default).
    case local
    /// Only the original is uploaded; each action is then a `POST /2.0/assets/{id}/process`,
    /// so the children are the API's own (`parent_id`, `type`, state `processed`).
    case server
}
