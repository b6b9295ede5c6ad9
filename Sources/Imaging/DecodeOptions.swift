/// Resource limits checked from the header, before any pixel buffer is allocated.
///
/// The defaults accept any real photo or animation a campaign would use and
/// refuse decompression bombs (a 97-byte JPEG can declare 537 megapixels).
public struct DecodeLimits: Sendable, Equatable {
    /// Largest canvas, in pixels (width x height). Default 100 MP.
    public var maxPixels: Int
    /// Largest width or height, in pixels.
    public var maxDimension: Int
    /// Most frames an animation may have.
    public var maxFrames: Int
    /// Most pixels summed over all decoded frames (each frame is a full canvas).
    public var maxTotalFramePixels: Int
    /// Largest input accepted, in bytes.
    public var maxInputBytes: Int
    /// Largest single ancillary chunk / marker payload a decoder may buffer (ICC, text, EXIF).
    public var maxMetadataBytes: Int
    /// Most memory PNG's whole-buffer reader may take beside the output (the
    /// inflated rows, and the joined image data when it is split over several
    /// IDAT chunks). A larger image is read by libpng, row by row, which needs
    /// no such buffer. Default 64 MiB: about 16 MP of RGBA.
    public var maxPNGWholeBufferBytes: Int

    public init(
        maxPixels: Int = 100_000_000,
        maxDimension: Int = 65_535,
        maxFrames: Int = 2_000,
        maxTotalFramePixels: Int = 200_000_000,
        maxInputBytes: Int = 256 << 20,
        maxMetadataBytes: Int = 8 << 20,
        maxPNGWholeBufferBytes: Int = 64 << 20
    ) {
        self.maxPNGWholeBufferBytes = maxPNGWholeBufferBytes
        self.maxPixels = maxPixels
        self.maxDimension = maxDimension
        self.maxFrames = maxFrames
        self.maxTotalFramePixels = maxTotalFramePixels
        self.maxInputBytes = maxInputBytes
        self.maxMetadataBytes = maxMetadataBytes
    }

    public static let `default` = DecodeLimits()

    /// Throws `tooLarge` when a declared canvas is over the limits; `corrupt` when it is empty.
    public func check(width: Int, height: Int, format: ImageFormat) throws(ImagingError) {
        guard width > 0, height > 0 else {
            throw ImagingError(.corrupt, format: format, "image declares an empty size \(width)x\(height)")
        }
        guard width <= maxDimension, height <= maxDimension else {
            throw ImagingError(.tooLarge, format: format, "\(width)x\(height) exceeds the \(maxDimension)-pixel side limit")
        }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels <= maxPixels else {
            throw ImagingError(.tooLarge, format: format,
                               "\(width)x\(height) = \(width * height / 1_000_000) MP exceeds the \(maxPixels / 1_000_000) MP limit")
        }
    }

    func checkInputSize(_ count: Int, format: ImageFormat?) throws(ImagingError) {
        guard count <= maxInputBytes else {
            throw ImagingError(.tooLarge, format: format, "input is \(count) bytes, over the \(maxInputBytes)-byte limit")
        }
    }
}

/// DCT-domain downscaling for JPEG (libjpeg's `scale_num/scale_denom`): the
/// decoder produces an image 1/2, 1/4 or 1/8 the size at a fraction of the cost.
public enum JPEGShrink: Int, Sendable, CaseIterable {
    case none = 1
    case half = 2
    case quarter = 4
    case eighth = 8
}

/// Who reads a PNG's image data. Both give the same pixels, and the same
/// verdict on every file but one kind (see `automatic`).
public enum PNGReader: String, Sendable, CaseIterable {
    /// The whole-buffer reader for every file that is not interlaced and has no
    /// gray or RGB colour key: the IDAT data inflated in one libdeflate call,
    /// unfiltered by the `kernelPath` kernels, then expanded as libpng would
    /// (palettes, 1/2/4-bit gray, 16-bit samples). It declines every file it is
    /// not sure of (CRC, inflate or layout doubts), and libpng reads those. The
    /// one difference: libdeflate accepts, safely and on purpose, a few malformed
    /// deflate streams zlib refuses; such a file decodes when its Adler-32 matches.
    case automatic
    /// libpng for every file: the reference the whole-buffer reader is tested against.
    case libpng
}

/// How to decode.
public struct DecodeOptions: Sendable, Equatable {
    public var limits: DecodeLimits
    /// Apply the EXIF orientation so pixels come out upright (JPEG). When false,
    /// pixels are returned as stored (`ImageDecoder.probe` reports the orientation).
    public var applyOrientation: Bool
    /// Shrink-on-load for JPEG; ignored for other formats.
    public var jpegShrink: JPEGShrink
    /// Decode only the first frame of an animation (thumbnails of GIFs, probes).
    public var firstFrameOnly: Bool
    /// Keep the ICC profile on the decoded image so an encoder can carry it over.
    public var keepColorProfile: Bool
    /// Colour management: raw samples (the default, a codec's view), or
    /// converted to sRGB through the embedded profile (what pipelines use).
    public var colorHandling: ColorHandling
    /// Who reads PNG image data (`automatic`: the whole-buffer reader where it applies).
    public var pngReader: PNGReader
    /// The kernels of the decoders' own pixel loops (PNG unfiltering); every
    /// path gives the same bytes, and a path the CPU lacks is an error.
    public var kernelPath: KernelPath

    public init(
        limits: DecodeLimits = .default,
        applyOrientation: Bool = true,
        jpegShrink: JPEGShrink = .none,
        firstFrameOnly: Bool = false,
        keepColorProfile: Bool = true,
        colorHandling: ColorHandling = .asStored,
        pngReader: PNGReader = .automatic,
        kernelPath: KernelPath = .automatic
    ) {
        self.pngReader = pngReader
        self.kernelPath = kernelPath
        self.colorHandling = colorHandling
        self.limits = limits
        self.applyOrientation = applyOrientation
        self.jpegShrink = jpegShrink
        self.firstFrameOnly = firstFrameOnly
        self.keepColorProfile = keepColorProfile
    }

    public static let `default` = DecodeOptions()
}

/// What a header says about an image, read without decoding the pixels.
public struct ImageInfo: Sendable, Equatable, Codable {
    public var format: ImageFormat
    /// Size as stored, before any EXIF rotation.
    public var width: Int
    public var height: Int
    /// EXIF orientation 1...8 (1 when absent, 0 or out of range).
    public var orientation: Int
    public var frames: Int
    public var hasAlpha: Bool
    /// Loop count for animations (0 = forever), nil when not given.
    public var loopCount: Int?

    public init(format: ImageFormat, width: Int, height: Int, orientation: Int = 1, frames: Int = 1, hasAlpha: Bool, loopCount: Int? = nil) {
        self.format = format
        self.width = width
        self.height = height
        self.orientation = orientation
        self.frames = frames
        self.hasAlpha = hasAlpha
        self.loopCount = loopCount
    }

    /// The size once the orientation is applied (orientations 5-8 swap the sides).
    public var displayWidth: Int { orientation >= 5 ? height : width }
    public var displayHeight: Int { orientation >= 5 ? width : height }
}
