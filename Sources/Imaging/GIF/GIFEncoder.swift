import CGIF

/// GIF encoder settings.
public struct GIFEncodeOptions: Sendable, Equatable {
    /// Floyd–Steinberg dithering when a frame has more colours than fit and must
    /// be quantised. Off by default: campaign assets are mostly logos and flat
    /// graphics, where dithering only adds noise; the noise also defeats LZW
    /// (files grow noticeably) and, since every frame gets its own palette,
    /// the pattern changes from frame to frame and shimmers in animations.
    /// Turn it on for photographs, where it hides the banding of 256 colours.
    public var dither: Bool
    /// Most palette entries per frame, 2 to 256 (clamped), the transparent entry included.
    public var maxColors: Int

    public init(dither: Bool = false, maxColors: Int = 256) {
        self.dither = dither
        self.maxColors = maxColors
    }
}

/// GIF89a encoding through giflib.
///
/// Every frame is written full-canvas with its own (local) palette and
/// disposal 1 ("leave in place"): simple, and correct for any sequence of
/// composited frames, at the cost of size compared with writing only the
/// changed rectangle.
enum GIFEncoder {
    static func encode(_ image: Image, options: GIFEncodeOptions) throws(ImagingError) -> [UInt8] {
        let (width, height) = (image.width, image.height)
        guard width > 0, height > 0 else {
            throw ImagingError(.invalidArgument, format: .gif, "cannot encode an empty \(width)x\(height) image")
        }
        guard width <= 65_535, height <= 65_535 else {
            throw ImagingError(.invalidArgument, format: .gif, "GIF sides are at most 65535 pixels, not \(width)x\(height)")
        }
        let writer = try GIFWriter(width: width, height: height)
        // Looping only means something for animations, but a count the caller set is kept.
        if let loops = image.loopCount ?? (image.isAnimated ? 0 : nil) {
            try writer.putLoopCount(max(0, min(65_535, loops)))
        }
        for frame in image.frames {
            let indexed = Quantizer.index(frame.pixels, maxColors: options.maxColors, dither: options.dither)
            if image.isAnimated || indexed.transparentIndex != nil {
                try writer.putGraphicControl(delay: max(0, min(65_535, frame.delayCentiseconds)),
                                             transparentIndex: indexed.transparentIndex)
            }
            try writer.putFrame(indexed, width: width, height: height)
        }
        return try writer.finish()
    }
}

/// giflib's encoder writing into a Swift array through `EGifOpen`'s callback.
private final class GIFWriter {
    private var handle: UnsafeMutablePointer<GifFileType>?
    private let sink = ByteSink()

    init(width: Int, height: Int) throws(ImagingError) {
        var error: Int32 = 0
        guard let handle = EGifOpen(Unmanaged.passUnretained(sink).toOpaque(), byteSinkWrite, &error) else {
            throw GIFWriter.error(error)
        }
        self.handle = handle
        // Must precede the screen descriptor, which writes the signature.
        EGifSetGifVersion(handle, true)
        // No global palette: every frame carries its own.
        try check(EGifPutScreenDesc(handle, Int32(width), Int32(height), 8, 0, nil))
    }

    deinit {
        if let handle {
            var ignored: Int32 = 0
            EGifCloseFile(handle, &ignored)
        }
    }

    /// The NETSCAPE2.0 application extension: sub-block id 1, then the count, little-endian.
    func putLoopCount(_ loops: Int) throws(ImagingError) {
        let handle = try open()
        try check(EGifPutExtensionLeader(handle, APPLICATION_EXT_FUNC_CODE))
        var id = Array("NETSCAPE2.0".utf8)
        try check(EGifPutExtensionBlock(handle, Int32(id.count), &id))
        var sub: [UInt8] = [1, UInt8(loops & 0xFF), UInt8(loops >> 8)]
        try check(EGifPutExtensionBlock(handle, Int32(sub.count), &sub))
        try check(EGifPutExtensionTrailer(handle))
    }

    func putGraphicControl(delay: Int, transparentIndex: Int?) throws(ImagingError) {
        let handle = try open()
        var control = GraphicsControlBlock(DisposalMode: DISPOSE_DO_NOT, UserInputFlag: false,
                                           DelayTime: Int32(delay), TransparentColor: Int32(transparentIndex ?? Int(NO_TRANSPARENT_COLOR)))
        var payload = [GifByteType](repeating: 0, count: 4)
        let length = EGifGCBToExtension(&control, &payload)
        try check(EGifPutExtension(handle, GRAPHICS_EXT_FUNC_CODE, Int32(length), &payload))
    }

    func putFrame(_ frame: IndexedImage, width: Int, height: Int) throws(ImagingError) {
        let handle = try open()
        // giflib wants a power-of-two table of at least two entries; the padding is black.
        let size = max(2, 1 << GifBitSize(Int32(frame.colorCount)))
        var colors = (0 ..< size).map { i in
            i < frame.colorCount
                ? GifColorType(Red: frame.palette[i * 3], Green: frame.palette[i * 3 + 1], Blue: frame.palette[i * 3 + 2])
                : GifColorType(Red: 0, Green: 0, Blue: 0)
        }
        guard let map = GifMakeMapObject(Int32(size), &colors) else {
            throw ImagingError(.encodeFailed, format: .gif, "giflib could not build a \(size)-entry colour table")
        }
        defer { GifFreeMapObject(map) }
        // giflib copies the table, so it can be freed right after.
        try check(EGifPutImageDesc(handle, 0, 0, Int32(width), Int32(height), false, map))
        var indices = frame.indices
        let status: Int32 = indices.withUnsafeMutableBufferPointer { pixels in
            for y in 0 ..< height {
                let result = EGifPutLine(handle, pixels.baseAddress! + y * width, Int32(width))
                if result != GIF_OK { return result }
            }
            return GIF_OK
        }
        try check(status)
    }

    /// Writes the trailer and hands over the bytes.
    func finish() throws(ImagingError) -> [UInt8] {
        let handle = try open()
        self.handle = nil
        var error: Int32 = 0
        guard EGifCloseFile(handle, &error) == GIF_OK else { throw GIFWriter.error(error) }
        return sink.bytes
    }

    private func open() throws(ImagingError) -> UnsafeMutablePointer<GifFileType> {
        guard let handle else { throw ImagingError(.encodeFailed, format: .gif, "the GIF writer is already closed") }
        return handle
    }

    private func check(_ result: Int32) throws(ImagingError) {
        if result != GIF_OK { throw GIFWriter.error(handle?.pointee.Error ?? 0) }
    }

    private static func error(_ code: Int32) -> ImagingError {
        let text = GifErrorString(code).map { String(cString: $0) } ?? "error \(code)"
        return ImagingError(.encodeFailed, format: .gif, "giflib: \(text)")
    }
}

/// The output array, reached from the C callback through `UserData`.
private final class ByteSink {
    var bytes: [UInt8] = []
}

private let byteSinkWrite: OutputFunc = { file, data, count in
    guard let file, let data, count >= 0, let user = file.pointee.UserData else { return 0 }
    let sink = Unmanaged<ByteSink>.fromOpaque(user).takeUnretainedValue()
    sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(count)))
    return count
}
