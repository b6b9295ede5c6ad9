import Imaging

/// How a job's images are made: the one rule `upload` (through `BatchRunner`)
/// and `plan` (through `UploadPlanner`) share, so a preview shows exactly the
/// bytes an upload would send.
public enum JobProcessing {
    /// The run's processor with the job's own output format. When several
    /// sources are processed at once (`concurrentSources` > 1) and the caller set
    /// no thread count, each source gets one thread (see `BatchOptions.processingThreads`).
    /// Threads change how fast, never which bytes.
    public static func processor(for job: Job, base: LocalProcessor, concurrentSources: Int) -> LocalProcessor {
        var processor = base
        processor.outputFormat = job.outputFormat
        if processor.processing.threads == nil, concurrentSources > 1 { processor.processing.threads = 1 }
        return processor
    }

    /// Reads, decodes and processes the job's source (blocking: call it off
    /// Swift's cooperative threads for large batches).
    public static func run(_ job: Job, with processor: LocalProcessor) throws(ImagingError) -> ProcessedAsset {
        // A server job's children are the API's to make: only the original is read and checked here.
        try processor.processSynchronously(file: job.source, actions: job.serverActions == nil ? job.actions : [])
    }

    /// The job's images as the journal numbers them: position 0 the original, then
    /// the children made here, or, for a server job, one planned image per child
    /// the API will make, in the order its answers list them.
    public static func items(of processed: ProcessedAsset, for job: Job) throws(ImagingError) -> [ProcessedItem] {
        var items = ProcessedItem.items(of: processed)
        for call in try serverCalls(for: job) {
            for (index, position) in call.positions.enumerated() {
                let record = plannedServerChild(type: call.childTypes[index], size: call.sizes[index], position: position, of: processed.parent)
                items.append(ProcessedItem(position: position, record: record))
            }
        }
        return items
    }

    /// A server job's `/process` calls, in order, with the positions of the
    /// images each makes (empty for a job processed here).
    public static func serverCalls(for job: Job) throws(ImagingError) -> [ServerCall] {
        guard let actions = job.serverActions else { return [] }
        let upright = PixelSize(width: job.sourceInfo.displayWidth, height: job.sourceInfo.displayHeight)
        var calls: [ServerCall] = []
        var next = 1
        for action in actions {
            let types = try action.childTypes(upright: upright)
            let sizes = try expectedSizes(of: action, upright: upright)
            calls.append(ServerCall(action: action, positions: Array(next ..< next + types.count), childTypes: types, sizes: sizes))
            next += types.count
        }
        return calls
    }

    /// The size of each child `action` makes of an upright source, as local processing would make it.
    static func expectedSizes(of action: ProcessAction, upright: PixelSize) throws(ImagingError) -> [PixelSize] {
        switch action {
        case let .thumbnails(sizes): return sizes.map(PixelSize.init)
        case let .crop(_, _, width, height): return [PixelSize(width: width, height: height)]
        case let .scale(width, height): return [try Image.scaledSize(source: upright, width: width, height: height)]
        case let .rotate(angle):
            let turned = PixelBuffer.rotatedSize(width: upright.width, height: upright.height, degrees: angle)
            return [PixelSize(width: turned.width, height: turned.height)]
        }
    }

    /// The record of a child the API is to make, before it exists: its type and
    /// expected size are known, its bytes and hash are not (the API's answer fills in what it says).
    static func plannedServerChild(type: String, size: PixelSize, position: Int, of parent: AssetRecord) -> AssetRecord {
        AssetRecord(id: .local("\(parent.sha256.prefix(16))-\(position)"), parentID: parent.id, state: .planned,
                    contentType: parent.contentType, type: type, size: 0, createdAt: parent.createdAt,
                    width: size.width, height: size.height, sha256: "")
    }

    /// Whether the processed source is still the file the manifest was validated against.
    public static func sourceUnchanged(_ processed: ProcessedAsset, for job: Job) -> Bool {
        processed.parent.sha256 == job.sourceSHA256
    }
}

/// One `POST /2.0/assets/{id}/process` of a server job: the request, and the
/// journal positions, types and expected sizes of the children it makes.
public struct ServerCall: Sendable, Hashable {
    public var action: ProcessAction
    public var positions: [Int]
    public var childTypes: [String]
    public var sizes: [PixelSize]
}
