import CGIF

/// What a Graphic Control Extension says about the frame that follows it.
struct GraphicControl: Equatable {
    /// 0 unspecified, 1 keep, 2 restore to background, 3 restore to previous; 4-7 are undefined.
    var disposal = 0
    /// Hundredths of a second, as stored.
    var delayCentiseconds = 0
    var transparentIndex: Int?

    /// Reads the 4-byte GCE payload; a shorter (malformed) one is ignored, as browsers do.
    init?(payload: [UInt8]) {
        guard payload.count >= 4 else { return nil }
        disposal = Int(payload[0] >> 2) & 0x07
        delayCentiseconds = Int(payload[1]) | Int(payload[2]) << 8
        transparentIndex = payload[0] & 0x01 != 0 ? Int(payload[3]) : nil
    }

    init() {}
}

/// One frame's placement on the logical screen, as declared and as clipped to it.
struct FrameRect: Equatable {
    var left: Int
    var top: Int
    /// The declared size: how many indices each row has, and how many rows there are.
    var width: Int
    var height: Int
    /// The part that lies on the screen (frames may stick out to the right and bottom).
    var visibleWidth: Int
    var visibleHeight: Int

    init(_ desc: GifImageDesc, screenWidth: Int, screenHeight: Int) {
        left = Int(desc.Left)
        top = Int(desc.Top)
        width = Int(desc.Width)
        height = Int(desc.Height)
        visibleWidth = max(0, min(width, screenWidth - left))
        visibleHeight = max(0, min(height, screenHeight - top))
    }

    func covers(width screenWidth: Int, height screenHeight: Int) -> Bool {
        left == 0 && top == 0 && visibleWidth == screenWidth && visibleHeight == screenHeight
    }
}

/// Walks a GIF's records in order: collects the loop count and the graphic
/// control of each frame, and hands every image descriptor to the caller, which
/// must consume (decode or skip) that frame's data.
///
/// Both the probe and the decoder use it, so they agree on what counts as a
/// frame and on which files are refused.
struct GIFStream {
    let reader: GIFReader
    let limits: DecodeLimits
    private(set) var loopCount: Int?
    private(set) var frameCount = 0

    var screenWidth: Int { reader.screenWidth }
    var screenHeight: Int { reader.screenHeight }

    /// Opens the file and refuses an empty or oversized logical screen before anything is allocated.
    init(_ data: UnsafeRawBufferPointer, limits: DecodeLimits) throws(ImagingError) {
        reader = try GIFReader(data)
        self.limits = limits
        try limits.check(width: reader.screenWidth, height: reader.screenHeight, format: .gif)
    }

    /// Calls `body` for each frame until it returns false or the trailer is reached.
    mutating func forEachFrame(
        _ body: (_ desc: GifImageDesc, _ rect: FrameRect, _ control: GraphicControl) throws(ImagingError) -> Bool
    ) throws(ImagingError) {
        var control = GraphicControl()
        while true {
            // Many encoders forget the trailer; a file that ends cleanly after a
            // complete frame is accepted, as browsers do.
            if frameCount > 0, reader.atEndOfInput { return }
            switch try reader.nextRecord() {
            case .end:
                return
            case .extensionBlock:
                try readExtension(into: &control)
            case .image:
                let desc = try reader.imageDescriptor()
                try admitFrame(desc)
                let rect = FrameRect(desc, screenWidth: screenWidth, screenHeight: screenHeight)
                frameCount += 1
                guard try body(desc, rect, control) else { return }
                // A graphic control applies to the one frame after it.
                control = GraphicControl()
            }
        }
    }

    /// Refuses a frame before any memory is committed to it: too many frames,
    /// too many canvas pixels in total, or a declared area over the pixel limit
    /// (which bounds the LZW work even for off-screen rows). A frame with no
    /// colour table at all is not refused: see `PaletteTable.default`.
    private func admitFrame(_ desc: GifImageDesc) throws(ImagingError) {
        let count = frameCount + 1
        guard count <= limits.maxFrames else {
            throw ImagingError(.tooLarge, format: .gif, "more than \(limits.maxFrames) frames")
        }
        let (total, overflow) = (screenWidth * screenHeight).multipliedReportingOverflow(by: count)
        guard !overflow, total <= limits.maxTotalFramePixels else {
            throw ImagingError(.tooLarge, format: .gif,
                               "\(count) frames of \(screenWidth)x\(screenHeight) exceed the \(limits.maxTotalFramePixels)-pixel total")
        }
        guard Int(desc.Width) * Int(desc.Height) <= limits.maxPixels else {
            throw ImagingError(.tooLarge, format: .gif, "frame \(count) declares \(desc.Width)x\(desc.Height), over the pixel limit")
        }
    }

    private mutating func readExtension(into control: inout GraphicControl) throws(ImagingError) {
        let record = try reader.extensionRecord { code in
            switch code {
            case GRAPHICS_EXT_FUNC_CODE: 1
            case APPLICATION_EXT_FUNC_CODE: 2
            default: 0
            }
        }
        switch record.code {
        case GRAPHICS_EXT_FUNC_CODE:
            if let first = record.blocks.first, let parsed = GraphicControl(payload: first) { control = parsed }
        case APPLICATION_EXT_FUNC_CODE:
            if loopCount == nil, let loops = Self.loopCount(record.blocks) { loopCount = loops }
        default:
            break
        }
    }

    /// The NETSCAPE2.0 (or its ANIMEXTS1.0 twin) looping sub-block: id 1, then a little-endian count.
    private static func loopCount(_ blocks: [[UInt8]]) -> Int? {
        guard blocks.count == 2 else { return nil }
        let id = String(decoding: blocks[0], as: UTF8.self)
        guard id == "NETSCAPE2.0" || id == "ANIMEXTS1.0" else { return nil }
        let sub = blocks[1]
        guard sub.count >= 3, sub[0] == 1 else { return nil }
        return Int(sub[1]) | Int(sub[2]) << 8
    }
}
