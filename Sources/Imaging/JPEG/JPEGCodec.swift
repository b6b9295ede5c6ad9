// PLACEHOLDER: replaced by the JPEG codec work.
public struct JPEGEncodeOptions: Sendable, Equatable {
    public var quality: Int = 85
    public init() {}
}

enum JPEGDecoder {
    static func probe(_ data: UnsafeRawBufferPointer, limits: DecodeLimits) throws(ImagingError) -> ImageInfo {
        throw ImagingError(.unsupported, format: .jpeg, "JPEG not implemented yet")
    }
    static func decode(_ data: UnsafeRawBufferPointer, options: DecodeOptions) throws(ImagingError) -> Image {
        throw ImagingError(.unsupported, format: .jpeg, "JPEG not implemented yet")
    }
}

enum JPEGEncoder {
    static func encode(_ pixels: PixelBuffer, colorProfile: [UInt8]?, options: JPEGEncodeOptions) throws(ImagingError) -> [UInt8] {
        throw ImagingError(.unsupported, format: .jpeg, "JPEG not implemented yet")
    }
}
