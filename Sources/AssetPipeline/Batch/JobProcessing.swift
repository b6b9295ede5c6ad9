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
        try processor.processSynchronously(file: job.source, actions: job.actions)
    }

    /// Whether the processed source is still the file the manifest was validated against.
    public static func sourceUnchanged(_ processed: ProcessedAsset, for job: Job) -> Bool {
        processed.parent.sha256 == job.sourceSHA256
    }
}
