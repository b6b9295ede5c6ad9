import CGIF

/// giflib's record-level decoder over an in-memory file.
///
/// The record API (rather than `DGifSlurp`) lets the caller check every frame
/// against the limits before anything is allocated for it, and skip pixel data
/// it does not need. giflib reports errors through return codes only, so every
/// call here turns a failure straight into an `ImagingError`.
final class GIFReader {
    private let handle: UnsafeMutablePointer<GifFileType>
    private let source: MemorySource

    /// Opens the file and reads the header and the logical screen descriptor.
    init(_ data: UnsafeRawBufferPointer) throws(ImagingError) {
        let source = MemorySource(data)
        var error: Int32 = 0
        guard let handle = DGifOpen(Unmanaged.passUnretained(source).toOpaque(), memoryRead, &error) else {
            throw GIFReader.error(code: error, ranOutOfInput: source.ranOut)
        }
        self.source = source
        self.handle = handle
    }

    deinit {
        var ignored: Int32 = 0
        DGifCloseFile(handle, &ignored)
    }

    var screenWidth: Int { Int(handle.pointee.SWidth) }
    var screenHeight: Int { Int(handle.pointee.SHeight) }
    var globalColorMap: UnsafeMutablePointer<ColorMapObject>? { handle.pointee.SColorMap }
    /// True once every input byte has been consumed (used to accept a missing trailer).
    var atEndOfInput: Bool { source.offset >= source.data.count }

    enum Record {
        case image
        case extensionBlock
        case end
    }

    func nextRecord() throws(ImagingError) -> Record {
        var type = UNDEFINED_RECORD_TYPE
        try check(DGifGetRecordType(handle, &type))
        switch type {
        case IMAGE_DESC_RECORD_TYPE: return .image
        case EXTENSION_RECORD_TYPE: return .extensionBlock
        case TERMINATE_RECORD_TYPE: return .end
        default: throw ImagingError(.corrupt, format: .gif, "giflib: unexpected record type \(type.rawValue)")
        }
    }

    /// Reads an image descriptor (and its local colour table); the frame's data follows.
    func imageDescriptor() throws(ImagingError) -> GifImageDesc {
        try check(DGifGetImageDesc(handle))
        return handle.pointee.Image
    }

    /// Reads one extension: its function code and the first `keep(code)`
    /// sub-blocks; the rest are read and dropped.
    ///
    /// Only graphic control and application extensions are ever kept, and only
    /// their first two sub-blocks, so a hostile file cannot make this buffer grow.
    func extensionRecord(keepBlocks keep: (Int32) -> Int) throws(ImagingError) -> (code: Int32, blocks: [[UInt8]]) {
        var code: Int32 = 0
        var block: UnsafeMutablePointer<GifByteType>?
        try check(DGifGetExtension(handle, &code, &block))
        let wanted = keep(code)
        var blocks: [[UInt8]] = []
        while let current = block {
            // giflib hands blocks over Pascal-style: byte 0 is the length.
            if blocks.count < wanted {
                blocks.append(Array(UnsafeBufferPointer(start: current + 1, count: Int(current[0]))))
            }
            try check(DGifGetExtensionNext(handle, &block))
        }
        return (code, blocks)
    }

    /// Decodes the next row of the current frame into `row` (`count` indices).
    @inline(__always)
    func readRow(_ row: UnsafeMutablePointer<GifPixelType>, count: Int) throws(ImagingError) {
        try check(DGifGetLine(handle, row, Int32(count)))
    }

    /// Skips whatever LZW data of the current frame has not been decoded yet,
    /// walking the sub-blocks without decompressing them.
    func skipRemainingImageData(started: Bool) throws(ImagingError) {
        var block: UnsafeMutablePointer<GifByteType>?
        if started {
            try check(DGifGetCodeNext(handle, &block))
        } else {
            var codeSize: Int32 = 0
            try check(DGifGetCode(handle, &codeSize, &block))
        }
        while block != nil {
            try check(DGifGetCodeNext(handle, &block))
        }
    }

    @inline(__always)
    private func check(_ result: Int32) throws(ImagingError) {
        if result != GIF_OK {
            throw GIFReader.error(code: handle.pointee.Error, ranOutOfInput: source.ranOut)
        }
    }

    /// giflib says "read failed" both when the input ends and when a header
    /// field is impossible (an LZW code size over 8 is reported that way too),
    /// so only a read that really ran out of bytes counts as truncation.
    static func error(code: Int32, ranOutOfInput: Bool) -> ImagingError {
        let text = GifErrorString(code).map { String(cString: $0) } ?? "error \(code)"
        let truncated = ranOutOfInput || code == D_GIF_ERR_EOF_TOO_SOON
        return ImagingError(truncated ? .truncated : .corrupt, format: .gif, "giflib: \(text)")
    }
}

/// The input bytes and a read position, reached from the C callback through `UserData`.
private final class MemorySource {
    let data: UnsafeRawBufferPointer
    var offset = 0
    var ranOut = false

    init(_ data: UnsafeRawBufferPointer) { self.data = data }
}

/// giflib's input callback: copies up to `count` bytes and returns how many it
/// copied; giflib treats a short count as a read error.
private let memoryRead: InputFunc = { file, buffer, count in
    guard let file, let buffer, count >= 0, let user = file.pointee.UserData else { return 0 }
    let source = Unmanaged<MemorySource>.fromOpaque(user).takeUnretainedValue()
    let available = max(0, source.data.count - source.offset)
    let n = min(Int(count), available)
    if n < Int(count) { source.ranOut = true }
    if n > 0, let base = source.data.baseAddress {
        UnsafeMutableRawPointer(buffer).copyMemory(from: base + source.offset, byteCount: n)
        source.offset += n
    }
    return Int32(n)
}
