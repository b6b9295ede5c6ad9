/// One frame of an image: a full-canvas raster and, for animations, how long it shows.
public struct ImageFrame: Sendable, Equatable {
    public var pixels: PixelBuffer
    /// Display time in hundredths of a second, as GIF stores it (0 for still images).
    public var delayCentiseconds: Int

    public init(pixels: PixelBuffer, delayCentiseconds: Int = 0) {
        self.pixels = pixels
        self.delayCentiseconds = delayCentiseconds
    }
}

/// A decoded image: one frame for PNG and JPEG, one or more for GIF.
///
/// Every frame is already composited onto the full canvas, so all frames share
/// `width`, `height` and `layout`, and any operation can treat them alike.
public struct Image: Sendable, Equatable {
    public var frames: [ImageFrame]
    /// GIF loop count: 0 loops forever, nil means the file had no loop extension (play once).
    public var loopCount: Int?
    /// The ICC colour profile, kept so colours survive re-encoding; nil when absent or stripped.
    public var colorProfile: [UInt8]?
    /// The format the image was decoded from, if any.
    public var sourceFormat: ImageFormat?
    /// The source's colour model (CMYK sources decode to RGB); nil when not decoded.
    public var sourceColorModel: ColorModel?
    /// Profiles the colour step ignored or replaced (see `ColorHandling`).
    public var colorWarnings: [ColorWarning] = []

    public init(frames: [ImageFrame], loopCount: Int? = nil, colorProfile: [UInt8]? = nil, sourceFormat: ImageFormat? = nil) {
        precondition(!frames.isEmpty, "an image has at least one frame")
        self.frames = frames
        self.loopCount = loopCount
        self.colorProfile = colorProfile
        self.sourceFormat = sourceFormat
    }

    /// A still image made of one raster.
    public init(pixels: PixelBuffer, colorProfile: [UInt8]? = nil, sourceFormat: ImageFormat? = nil) {
        self.init(frames: [ImageFrame(pixels: pixels)], colorProfile: colorProfile, sourceFormat: sourceFormat)
    }

    /// The first (or only) frame's raster.
    public var pixels: PixelBuffer {
        get { frames[0].pixels }
        set { frames[0].pixels = newValue }
    }

    public var width: Int { frames[0].pixels.width }
    public var height: Int { frames[0].pixels.height }
    public var layout: PixelLayout { frames[0].pixels.layout }
    public var isAnimated: Bool { frames.count > 1 }
}
