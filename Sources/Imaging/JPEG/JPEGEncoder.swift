import CImageCodecs

/// JPEG encoder settings.
public struct JPEGEncodeOptions: Sendable, Equatable {
    /// How much colour resolution the chroma planes keep relative to luma.
    public enum ChromaSubsampling: String, Sendable, Equatable, CaseIterable {
        /// Half width, half height: the smallest files, the usual choice for photos.
        case yuv420 = "4:2:0"
        /// Half width, full height.
        case yuv422 = "4:2:2"
        /// Full resolution: sharp coloured edges (text, logos) at a larger size.
        case yuv444 = "4:4:4"
    }

    /// An opaque colour to composite translucent pixels onto, since JPEG has no alpha.
    public struct Background: Sendable, Equatable {
        public var red: UInt8
        public var green: UInt8
        public var blue: UInt8

        public init(red: UInt8, green: UInt8, blue: UInt8) {
            self.red = red
            self.green = green
            self.blue = blue
        }

        public static let white = Background(red: 255, green: 255, blue: 255)
        public static let black = Background(red: 0, green: 0, blue: 0)
    }

    /// libjpeg's quality scale, 1...100; anything else is refused as `invalidArgument`.
    public var quality: Int
    /// Write a progressive JPEG (libjpeg's standard scan script).
    public var progressive: Bool
    /// Ignored for grayscale output.
    public var chromaSubsampling: ChromaSubsampling
    /// Compute optimal Huffman tables: a few percent smaller for one extra pass.
    public var optimizeHuffman: Bool
    public var background: Background

    public init(
        quality: Int = 85,
        progressive: Bool = false,
        chromaSubsampling: ChromaSubsampling = .yuv420,
        optimizeHuffman: Bool = true,
        background: Background = .white
    ) {
        self.quality = quality
        self.progressive = progressive
        self.chromaSubsampling = chromaSubsampling
        self.optimizeHuffman = optimizeHuffman
        self.background = background
    }
}

/// Writes baseline or progressive JPEG with the default JFIF header and, when
/// given, the ICC profile: never EXIF, so no orientation tag and no GPS. Gray
/// pixels give a grayscale JPEG; alpha is flattened onto the background first.
/// The output is deterministic: the same pixels and options give the same bytes.
enum JPEGEncoder {
    /// The largest side libjpeg accepts (JPEG_MAX_DIMENSION).
    static let maxSide = 65_500
    /// ICC profiles are split over at most 255 APP2 markers of 65519 profile bytes each.
    static let maxProfileBytes = 255 * 65_519

    static func encode(_ pixels: PixelBuffer, colorProfile: [UInt8]?, options: JPEGEncodeOptions) throws(ImagingError) -> [UInt8] {
        guard pixels.width > 0, pixels.height > 0 else {
            throw ImagingError(.invalidArgument, format: .jpeg, "cannot encode an empty \(pixels.width)x\(pixels.height) image")
        }
        guard pixels.width <= maxSide, pixels.height <= maxSide else {
            throw ImagingError(.invalidArgument, format: .jpeg,
                               "\(pixels.width)x\(pixels.height) is over JPEG's \(maxSide)-pixel side limit")
        }
        guard (1 ... 100).contains(options.quality) else {
            throw ImagingError(.invalidArgument, format: .jpeg, "quality \(options.quality) is outside 1...100")
        }
        if let colorProfile, colorProfile.count > maxProfileBytes {
            throw ImagingError(.invalidArgument, format: .jpeg,
                               "an ICC profile of \(colorProfile.count) bytes does not fit in 255 APP2 markers")
        }
        let background = options.background
        let source = pixels.flattened(onto: (background.red, background.green, background.blue))
        let subsampling: Int32 =
            switch options.chromaSubsampling {
            case .yuv420: Int32(IC_JPEG_420)
            case .yuv422: Int32(IC_JPEG_422)
            case .yuv444: Int32(IC_JPEG_444)
            }
        var status = ic_status()
        var out = ic_buffer()
        let result = source.bytes.withUnsafeBufferPointer { samples in
            (colorProfile ?? []).withUnsafeBufferPointer { icc in
                var params = ic_jpeg_encode_params(
                    channels: Int32(source.channels), quality: Int32(options.quality),
                    progressive: options.progressive ? 1 : 0, subsampling: subsampling,
                    optimize_coding: options.optimizeHuffman ? 1 : 0,
                    icc: icc.isEmpty ? nil : icc.baseAddress, icc_length: UInt32(clamping: icc.count))
                return ic_jpeg_encode(samples.baseAddress, UInt32(source.width), UInt32(source.height),
                                      source.bytesPerRow, &params, &out, &status)
            }
        }
        guard result == IC_OK else {
            ic_buffer_free(&out)
            throw ImagingError(.encodeFailed, format: .jpeg, ImagingError(status: status, format: .jpeg).message)
        }
        return out.takeBytes()
    }
}
