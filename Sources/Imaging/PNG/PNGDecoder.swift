import CImageCodecs
import CPNG

/// PNG decoding through libpng: every colour type and bit depth, palettes with
/// tRNS, gray/RGB colour keys and Adam7, expanded to 8-bit gray, gray+alpha,
/// RGB or RGBA. An APNG decodes to its default image. Files that are not
/// interlaced and have no gray or RGB colour key have their image data read by
/// the whole-buffer reader instead (`PNGReader`), with libpng still reading
/// every chunk before the first IDAT.
enum PNGDecoder {
    static func probe(_ data: UnsafeRawBufferPointer, limits: DecodeLimits) throws(ImagingError) -> ImageInfo {
        let decoder = try Handle(data, limits: limits, keepColorProfile: false)
        defer { ic_png_close(decoder.pointer) }
        let info = decoder.info
        return ImageInfo(format: .png, width: Int(info.width), height: Int(info.height), orientation: 1, frames: 1,
                         hasAlpha: info.channels == 2 || info.channels == 4)
    }

    static func decode(_ data: UnsafeRawBufferPointer, options: DecodeOptions) throws(ImagingError) -> Image {
        try decodeTellingReader(data, options: options).image
    }

    /// The image, and whether the whole-buffer reader read it (false: libpng did),
    /// which the tests use to show the fast path is really taken.
    static func decodeTellingReader(_ data: UnsafeRawBufferPointer, options: DecodeOptions) throws(ImagingError)
        -> (image: Image, readWhole: Bool) {
        let decoder = try Handle(data, limits: options.limits, keepColorProfile: options.keepColorProfile || options.colorHandling != .asStored)
        defer { ic_png_close(decoder.pointer) }
        let info = decoder.info
        guard let layout = PixelLayout(rawValue: Int(info.channels)) else {
            throw ImagingError(.unsupported, format: .png, "unexpected channel count \(info.channels)")
        }
        let profile: [UInt8]? = info.icc.map { [UInt8](UnsafeBufferPointer(start: $0, count: Int(info.icc_length))) }
        let reader = try Self.reader(options)
        var readWhole: Int32 = 0
        let pixels = try PixelBuffer(width: Int(info.width), height: Int(info.height), layout: layout) { (raw) throws(ImagingError) in
            var status = ic_status()
            let result = ic_png_read(decoder.pointer, raw.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                     Int(info.width) * layout.channels, reader,
                                     max(1, options.limits.maxPNGWholeBufferBytes), &readWhole, &status)
            if result != IC_OK { throw ImagingError(status: status, format: .png) }
        }
        return (Image(pixels: pixels, colorProfile: profile, sourceFormat: .png), readWhole != 0)
    }

    /// The IC_PNG_READER_* for the options: libpng, or the whole-buffer reader
    /// with the unfiltering kernels of the kernel path (SSSE3 wherever AVX2 runs).
    private static func reader(_ options: DecodeOptions) throws(ImagingError) -> Int32 {
        switch options.pngReader {
        case .libpng:
            return Int32(IC_PNG_READER_LIBPNG)
        case .automatic:
            switch try options.kernelPath.resolved() {
            case .portable, .automatic: return Int32(IC_PNG_READER_WHOLE_BUFFER_SCALAR)
            case .avx2, .avx512: return Int32(IC_PNG_READER_WHOLE_BUFFER_SIMD)
            }
        }
    }

    /// An open libpng reader whose header has been read and checked against the limits.
    private struct Handle {
        let pointer: OpaquePointer
        let info: ic_png_info

        init(_ data: UnsafeRawBufferPointer, limits: DecodeLimits, keepColorProfile: Bool) throws(ImagingError) {
            var info = ic_png_info()
            var status = ic_status()
            let maxSide = UInt32(clamping: limits.maxDimension)
            guard let base = data.baseAddress,
                  let pointer = ic_png_open(base.assumingMemoryBound(to: UInt8.self), data.count, maxSide,
                                            limits.maxMetadataBytes, keepColorProfile ? 1 : 0, &info, &status)
            else {
                if data.isEmpty { throw ImagingError(.truncated, format: .png, "empty input") }
                throw ImagingError(status: status, format: .png)
            }
            do {
                try limits.check(width: Int(info.width), height: Int(info.height), format: .png)
            } catch {
                ic_png_close(pointer)
                throw error
            }
            self.pointer = pointer
            self.info = info
        }
    }
}
