// PLACEHOLDER: replaced by the GIF codec work.
public struct GIFEncodeOptions: Sendable, Equatable {
    public init() {}
}

enum GIFDecoder {
    static func probe(_ data: UnsafeRawBufferPointer, limits: DecodeLimits) throws(ImagingError) -> ImageInfo {
        throw ImagingError(.unsupported, format: .gif, "GIF not implemented yet")
    }
    static func decode(_ data: UnsafeRawBufferPointer, options: DecodeOptions) throws(ImagingError) -> Image {
        throw ImagingError(.unsupported, format: .gif, "GIF not implemented yet")
    }
}

enum GIFEncoder {
    static func encode(_ image: Image, options: GIFEncodeOptions) throws(ImagingError) -> [UInt8] {
        throw ImagingError(.unsupported, format: .gif, "GIF not implemented yet")
    }
}
