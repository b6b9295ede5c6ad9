import Foundation

/// How `PixelBuffer.resized(width:height:options:)` resamples.
public struct ResampleOptions: Sendable, Equatable {
    public var filter: ResampleFilter
    /// Worker threads, each producing a horizontal stripe of the output;
    /// nil uses every active processor. Any count gives the same pixels.
    public var threads: Int?
    /// Resample linear-light values (sRGB decoded to linear floats and back)
    /// instead of the stored sRGB values. Keeps the brightness of fine
    /// detail and high-contrast edges; slower (portable float code only).
    public var linearLight: Bool
    public var path: KernelPath

    public init(filter: ResampleFilter = .lanczos3, threads: Int? = nil, linearLight: Bool = false, path: KernelPath = .automatic) {
        self.filter = filter
        self.threads = threads
        self.linearLight = linearLight
        self.path = path
    }

    var threadCount: Int {
        max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
    }
}
