import CImageCodecs

/// JPEG decoding through libjpeg-turbo: baseline, progressive and arithmetic
/// coding, every chroma subsampling, restart markers, grayscale (kept as `gray`)
/// and colour (`rgb`, including Adobe CMYK and YCCK converted per row).
///
/// Damaged data policy, the same as Pillow's and libvips' defaults: a file that
/// ends early is refused as `truncated` (libjpeg alone would pad the missing
/// rows with grey), while libjpeg's other corrupt-data *warnings* (extraneous
/// bytes before a marker, a premature end of a data segment, an inconsistent
/// progression) are tolerated, because the image is still whole. Fatal libjpeg
/// errors map to `unsupported` (lossless, 12-bit, ...), `tooLarge` or `corrupt`.
///
/// Only the first APP1 EXIF payload and the APP2 ICC chunks are buffered, up to
/// `limits.maxMetadataBytes` in total; past that they are skipped, so such a
/// file decodes without its profile (and, if the EXIF is what overflows, as stored).
enum JPEGDecoder {
    /// More scans than any encoder writes (cjpeg's progressive scripts use about 10).
    static let maxScans = 1000

    static func probe(_ data: UnsafeRawBufferPointer, limits: DecodeLimits) throws(ImagingError) -> ImageInfo {
        let decoder = try Handle(data, limits: limits, keepColorProfile: false, shrink: .none, strict: false, rawCMYK: false)
        defer { ic_jpeg_close(decoder.pointer) }
        return ImageInfo(format: .jpeg, width: Int(decoder.info.width), height: Int(decoder.info.height),
                         orientation: decoder.orientation, frames: 1, hasAlpha: false)
    }

    static func decode(_ data: UnsafeRawBufferPointer, options: DecodeOptions) throws(ImagingError) -> Image {
        try decode(data, options: options, strict: false)
    }

    /// `strict` also refuses files libjpeg only warns about (for diagnostics and tests).
    static func decode(_ data: UnsafeRawBufferPointer, options: DecodeOptions, strict: Bool) throws(ImagingError) -> Image {
        let managed = options.colorHandling != .asStored
        let decoder = try Handle(data, limits: options.limits, keepColorProfile: options.keepColorProfile || managed,
                                 shrink: options.jpegShrink, strict: strict, rawCMYK: managed)
        defer { ic_jpeg_close(decoder.pointer) }
        let info = decoder.info
        var profile: [UInt8]? = info.icc.map { [UInt8](UnsafeBufferPointer(start: $0, count: Int(info.icc_length))) }
        let width = Int(info.output_width), height = Int(info.output_height)
        var pixels: PixelBuffer
        var warnings: [ColorWarning] = []
        if info.channels == 4 {
            // CMYK/YCCK for colour management: through a CMYK profile to sRGB,
            // here where the ink samples still exist; the profile goes with them.
            let cmyk = try readSamples(decoder, count: width * height * 4, stride: width * 4)
            let inverted = info.cmyk_inverted != 0
            if let cmykProfile = ColorManagement.cmykProfile(embedded: profile, warnings: &warnings) {
                pixels = try ColorConverter.cmykToSRGB(cmyk, width: width, height: height, inverted: inverted, profile: cmykProfile)
            } else {
                pixels = ColorConverter.cmykByFormula(cmyk, width: width, height: height, inverted: inverted)
            }
            profile = nil
        } else {
            let layout: PixelLayout = info.channels == 1 ? .gray : .rgb
            pixels = try PixelBuffer(width: width, height: height, layout: layout) { (raw) throws(ImagingError) in
                try read(decoder, into: raw, stride: width * layout.channels)
            }
        }
        if options.applyOrientation, decoder.orientation != 1 {
            // In place for a half turn: the fresh output is held only here.
            pixels.applyOrientation(decoder.orientation)
        }
        var image = Image(pixels: pixels, colorProfile: profile, sourceFormat: .jpeg)
        if info.components == 4 { image.sourceColorModel = .cmyk }
        image.colorWarnings = warnings
        return image
    }

    private static func read(_ decoder: Handle, into raw: UnsafeMutableRawBufferPointer, stride: Int) throws(ImagingError) {
        var status = ic_status()
        let result = ic_jpeg_read(decoder.pointer, raw.baseAddress!.assumingMemoryBound(to: UInt8.self), stride, &status)
        if result != IC_OK { throw ImagingError(status: status, format: .jpeg) }
    }

    private static func readSamples(_ decoder: Handle, count: Int, stride: Int) throws(ImagingError) -> [UInt8] {
        var failure: ImagingError?
        let samples = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(ImagingError) {
                try read(decoder, into: UnsafeMutableRawBufferPointer(buffer), stride: stride)
            } catch {
                failure = error
            }
            initialized = count
        }
        if let failure { throw failure }
        return samples
    }

    /// An open libjpeg reader whose header has been read and checked against the
    /// limits, so nothing the size of the image has been allocated yet.
    private struct Handle {
        let pointer: OpaquePointer
        let info: ic_jpeg_info
        /// Read here because libjpeg frees the EXIF payload once decoding starts.
        let orientation: Int

        init(_ data: UnsafeRawBufferPointer, limits: DecodeLimits, keepColorProfile: Bool, shrink: JPEGShrink,
             strict: Bool, rawCMYK: Bool) throws(ImagingError) {
            guard let base = data.baseAddress, !data.isEmpty else {
                throw ImagingError(.truncated, format: .jpeg, "empty input")
            }
            var info = ic_jpeg_info()
            var status = ic_status()
            var params = ic_jpeg_decode_params(
                max_metadata_bytes: max(0, limits.maxMetadataBytes), keep_icc: keepColorProfile ? 1 : 0,
                scale_denom: Int32(shrink.rawValue), max_scans: Int32(JPEGDecoder.maxScans), strict: strict ? 1 : 0,
                raw_cmyk: rawCMYK ? 1 : 0)
            guard let pointer = ic_jpeg_open(base.assumingMemoryBound(to: UInt8.self), data.count, &params, &info, &status) else {
                throw ImagingError(status: status, format: .jpeg)
            }
            do {
                try limits.check(width: Int(info.width), height: Int(info.height), format: .jpeg)
            } catch {
                ic_jpeg_close(pointer)
                throw error
            }
            self.pointer = pointer
            self.info = info
            self.orientation = info.exif.map { EXIF.orientation(tiff: UnsafeRawBufferPointer(start: $0, count: Int(info.exif_length))) } ?? 1
        }
    }
}
