/// Settings shared by the four actions.
public struct ProcessingOptions: Sendable, Equatable {
    /// The resampling filter for thumbnails and scaling.
    public var filter: ResampleFilter
    /// Worker threads for resampling and rotation; nil uses every active core.
    public var threads: Int?
    /// Resample in linear light (gamma-correct; slower).
    public var linearLight: Bool
    /// What fills the corners of a rotation by an angle that is not a multiple
    /// of 90 when the output has no alpha channel (JPEG). Default white.
    public var background: RGBColor
    /// Kernel implementation for resampling and rotation (every path gives the
    /// same pixels; forcing one is for benchmarks and tests).
    public var kernelPath: KernelPath

    public init(filter: ResampleFilter = .lanczos3, threads: Int? = nil, linearLight: Bool = false, background: RGBColor = .white,
                kernelPath: KernelPath = .automatic) {
        self.filter = filter
        self.threads = threads
        self.linearLight = linearLight
        self.background = background
        self.kernelPath = kernelPath
    }

    var resampleOptions: ResampleOptions {
        ResampleOptions(filter: filter, threads: threads, linearLight: linearLight, path: kernelPath)
    }
}

/// An opaque colour.
public struct RGBColor: Sendable, Equatable, Hashable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    public static let white = RGBColor(red: 255, green: 255, blue: 255)
    public static let black = RGBColor(red: 0, green: 0, blue: 0)
}
