import Imaging

/// What a preview or report page shows, as plain values: `plan` fills it from
/// the images an upload would send, `status --html` from the journal after a
/// run. `HTMLReport` turns it into one self-contained page.
public struct ReportPage: Sendable, Equatable {
    public var title: String
    /// Lines under the title (the manifest, the API counted against, totals).
    public var notes: [String]
    /// Per campaign (eCards in `order`), then the jobs attached to no campaign.
    public var sections: [ReportSection]

    public init(title: String, notes: [String] = [], sections: [ReportSection]) {
        self.title = title
        self.notes = notes
        self.sections = sections
    }

    public var jobCount: Int { sections.reduce(0) { $0 + $1.jobs.count } }
}

/// One campaign's jobs (or another group's).
public struct ReportSection: Sendable, Equatable {
    public var title: String
    /// e.g. "eCards: 1 existing + 2 new = 3 of at most 4".
    public var notes: [String]
    public var jobs: [ReportJob]

    public init(title: String, notes: [String] = [], jobs: [ReportJob]) {
        self.title = title
        self.notes = notes
        self.jobs = jobs
    }
}

/// What will happen (or happened) to a job.
public enum ReportJobStatus: String, Sendable, Equatable {
    /// `plan`: would be uploaded.
    case planned
    /// `plan`: would be uploaded and replace what is there (an eCard with the same `order`).
    case replaces
    /// `plan`: nothing to do, the journal has it done.
    case skipped
    /// `plan`: the journal has it started; an upload would continue it.
    case resumes
    /// After a run: on the platform.
    case uploaded
    /// After a run: not finished yet.
    case incomplete
    case failed
}

/// One job: its source, where its crop boxes fall, every image it makes.
public struct ReportJob: Sendable, Equatable {
    /// Unique on the page (an HTML id is made from it).
    public var key: String
    /// e.g. "ecard order 2".
    public var heading: String
    public var status: ReportJobStatus
    /// Why the status (e.g. "done on 2026-12-03T06:30:00+0000", "replaces eCard 1014").
    public var statusDetail: String?
    /// The manifest line and the target in words.
    public var facts: [String]
    public var sourcePath: String
    /// The original, with its pixel size (upright) and bytes.
    public var original: ReportOutput?
    /// A downscaled copy of the source to draw crop boxes on.
    public var preview: ReportImage?
    /// Boxes in upright source pixels (`original`'s size).
    public var cropMarks: [ReportCropMark]
    public var outputs: [ReportOutput]
    public var warnings: [String]
    public var error: String?

    public init(key: String, heading: String, status: ReportJobStatus, statusDetail: String? = nil, facts: [String] = [],
                sourcePath: String, original: ReportOutput? = nil, preview: ReportImage? = nil,
                cropMarks: [ReportCropMark] = [], outputs: [ReportOutput] = [], warnings: [String] = [], error: String? = nil) {
        self.key = key
        self.heading = heading
        self.status = status
        self.statusDetail = statusDetail
        self.facts = facts
        self.sourcePath = sourcePath
        self.original = original
        self.preview = preview
        self.cropMarks = cropMarks
        self.outputs = outputs
        self.warnings = warnings
        self.error = error
    }
}

/// A box drawn on the source preview: what a cover crop keeps.
public struct ReportCropMark: Sendable, Equatable {
    /// The child type it makes (`thumbnail_600_400`).
    public var label: String
    public var box: CropBox
    /// Where a centred crop would have cut, when the strategy moved the box.
    public var centred: CropBox?

    public init(label: String, box: CropBox, centred: CropBox? = nil) {
        self.label = label
        self.box = box
        self.centred = centred
    }
}

/// An image as the page shows it: bytes as a `data:` URI, and the size to lay it out at.
public struct ReportImage: Sendable, Equatable {
    public var dataURI: String
    public var width: Int
    public var height: Int

    public init(dataURI: String, width: Int, height: Int) {
        self.dataURI = dataURI
        self.width = width
        self.height = height
    }
}

/// One image of a job: the original or a derived image, with its record's facts.
public struct ReportOutput: Sendable, Equatable {
    /// The child type (`thumbnail_100_100`, `cropped`, ...), nil for the original.
    public var type: String?
    public var width: Int
    public var height: Int
    public var bytes: Int
    public var contentType: String
    public var sha256: String
    /// Shown at its real size; nil when the bytes are not at hand (after a run, or the original).
    public var image: ReportImage?
    /// The Classy id, or the record's local placeholder.
    public var id: String?
    public var state: String?
    public var cdnURL: String?
    public var warnings: [String]

    public init(type: String?, width: Int, height: Int, bytes: Int, contentType: String, sha256: String,
                image: ReportImage? = nil, id: String? = nil, state: String? = nil, cdnURL: String? = nil, warnings: [String] = []) {
        self.type = type
        self.width = width
        self.height = height
        self.bytes = bytes
        self.contentType = contentType
        self.sha256 = sha256
        self.image = image
        self.id = id
        self.state = state
        self.cdnURL = cdnURL
        self.warnings = warnings
    }
}
