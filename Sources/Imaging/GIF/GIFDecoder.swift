import CGIF

/// GIF decoding on giflib's record-level API.
enum GIFDecoder {
    static func probe(_ data: UnsafeRawBufferPointer, limits: DecodeLimits) throws(ImagingError) -> ImageInfo {
        try scan(data, limits: limits, firstFrameOnly: false)
    }

    /// Walks the records up to the last frame wanted, skipping the LZW data
    /// without decompressing it: a small fraction of the cost of decoding.
    ///
    /// `hasAlpha` is true when some frame declares a transparent index or does
    /// not cover the whole screen, so some canvas pixels may show through.
    /// `decode` picks `.rgba` by the same rule, so the two always agree.
    private static func scan(_ data: UnsafeRawBufferPointer, limits: DecodeLimits, firstFrameOnly: Bool) throws(ImagingError) -> ImageInfo {
        var stream = try GIFStream(data, limits: limits)
        let (width, height) = (stream.screenWidth, stream.screenHeight)
        let reader = stream.reader
        var hasAlpha = false
        try stream.forEachFrame { (_, rect, control) throws(ImagingError) -> Bool in
            if control.transparentIndex != nil || !rect.covers(width: width, height: height) { hasAlpha = true }
            try reader.skipRemainingImageData(started: false)
            return !firstFrameOnly
        }
        guard stream.frameCount > 0 else {
            throw ImagingError(.corrupt, format: .gif, "the file has no image data")
        }
        return ImageInfo(format: .gif, width: width, height: height, frames: stream.frameCount,
                         hasAlpha: hasAlpha, loopCount: stream.loopCount)
    }

    /// Returns one full-canvas raster per frame (or just the first).
    ///
    /// A first pass (`scan`) decides the layout. Without alpha every frame
    /// repaints the whole screen, so each is expanded straight into its own RGB
    /// buffer; otherwise frames are composited on an RGBA canvas with their
    /// disposal methods (see `GIFCanvas`).
    static func decode(_ data: UnsafeRawBufferPointer, options: DecodeOptions) throws(ImagingError) -> Image {
        let info = try scan(data, limits: options.limits, firstFrameOnly: options.firstFrameOnly)
        var stream = try GIFStream(data, limits: options.limits)
        let (width, height) = (info.width, info.height)
        let reader = stream.reader
        let global = reader.globalColorMap
        // One row of palette indices, sized for the widest frame a descriptor can declare.
        let row = UnsafeMutablePointer<GifPixelType>.allocate(capacity: Int(UInt16.max))
        defer { row.deallocate() }
        var canvas: GIFCanvas?
        var frames: [ImageFrame] = []

        try stream.forEachFrame { (desc, rect, control) throws(ImagingError) -> Bool in
            let drawer = FrameDrawer(reader: reader, rect: rect, interlaced: desc.Interlace,
                                     transparentIndex: control.transparentIndex ?? -1,
                                     palette: (desc.ColorMap ?? global).map(PaletteTable.init) ?? .default, row: row)
            let pixels: PixelBuffer
            if info.hasAlpha {
                // Taken out of `canvas` so drawing does not copy it for nothing.
                var current = canvas ?? GIFCanvas(width: width, height: height)
                canvas = nil
                current.beginFrame(rect, disposal: control.disposal)
                try current.draw(drawer)
                pixels = current.pixels
                canvas = current
            } else {
                pixels = try PixelBuffer(width: width, height: height, layout: .rgb) { (samples) throws(ImagingError) in
                    try drawer.draw(into: samples, bytesPerRow: width * 3, channels: 3)
                }
            }
            frames.append(ImageFrame(pixels: pixels, delayCentiseconds: control.delayCentiseconds))
            return !options.firstFrameOnly
        }
        return Image(frames: frames, loopCount: stream.loopCount, sourceFormat: .gif)
    }
}

/// A frame's colour table expanded to 256 RGBA words, so drawing a pixel is one
/// table load and one store. Indices past the end of a short table come out
/// opaque black: decoders disagree there, and refusing the file would reject
/// images every browser shows.
struct PaletteTable {
    var words: [UInt32]

    init(_ map: UnsafeMutablePointer<ColorMapObject>) {
        words = [UInt32](repeating: PaletteTable.word(0, 0, 0, 255), count: 256)
        let count = min(256, max(0, Int(map.pointee.ColorCount)))
        guard let colors = map.pointee.Colors else { return }
        for i in 0 ..< count {
            let c = colors[i]
            words[i] = PaletteTable.word(c.Red, c.Green, c.Blue, 255)
        }
    }

    /// The table of a frame with neither a local nor a global one, which
    /// GIF89a leaves to the decoder: black for index 0 and white for index 1,
    /// as libvips (libnsgif) and MuPDF draw such files, and opaque black for
    /// the rest, as for any index past the end of a short table. (Pillow reads
    /// the indices as grey levels instead; giflib hands the caller no table.)
    static let `default`: PaletteTable = {
        var table = PaletteTable(words: [UInt32](repeating: word(0, 0, 0, 255), count: 256))
        table.words[1] = word(255, 255, 255, 255)
        return table
    }()

    private init(words: [UInt32]) {
        self.words = words
    }

    /// A word whose bytes in memory are r, g, b, a on any byte order.
    static func word(_ r: UInt8, _ g: UInt8, _ b: UInt8, _ a: UInt8) -> UInt32 {
        (UInt32(r) | UInt32(g) << 8 | UInt32(b) << 16 | UInt32(a) << 24).littleEndian
    }
}

/// Decodes one frame's rows with giflib and paints the on-screen part of each
/// into a raster of 3 (RGB) or 4 (RGBA) bytes per pixel.
struct FrameDrawer {
    let reader: GIFReader
    let rect: FrameRect
    let interlaced: Bool
    /// -1 when the frame has no transparent index.
    let transparentIndex: Int
    let palette: PaletteTable
    /// Scratch space for one row of indices (at least `rect.width`).
    let row: UnsafeMutablePointer<GifPixelType>

    func draw(into samples: UnsafeMutableRawBufferPointer, bytesPerRow: Int, channels: Int) throws(ImagingError) {
        guard rect.width > 0, rect.height > 0 else {
            try reader.skipRemainingImageData(started: false)
            return
        }
        var onScreenLeft = rect.visibleHeight
        var order = RowOrder(height: rect.height, interlaced: interlaced)
        var decoded = 0
        while onScreenLeft > 0, let y = order.next() {
            try reader.readRow(row, count: rect.width)
            decoded += 1
            guard y < rect.visibleHeight else { continue }
            onScreenLeft -= 1
            let target = samples.baseAddress! + (rect.top + y) * bytesPerRow + rect.left * channels
            if channels == 4 {
                expandRGBA(into: target)
            } else {
                expandRGB(into: target)
            }
        }
        // Rows below the screen would be decoded only to be thrown away: skip their data.
        if decoded < rect.height {
            try reader.skipRemainingImageData(started: decoded > 0)
        }
    }

    @inline(__always)
    private func expandRGBA(into target: UnsafeMutableRawPointer) {
        let count = rect.visibleWidth
        palette.words.withUnsafeBufferPointer { table in
            if transparentIndex < 0 {
                for x in 0 ..< count {
                    target.storeBytes(of: table[Int(row[x])], toByteOffset: x &* 4, as: UInt32.self)
                }
            } else {
                let skip = UInt8(truncatingIfNeeded: transparentIndex)
                for x in 0 ..< count where row[x] != skip {
                    target.storeBytes(of: table[Int(row[x])], toByteOffset: x &* 4, as: UInt32.self)
                }
            }
        }
    }

    /// Only used for frames without a transparent index. Each pixel is stored
    /// as a whole word whose fourth byte the next pixel overwrites; the row's
    /// last pixel is stored bytewise so nothing is written past the row.
    @inline(__always)
    private func expandRGB(into target: UnsafeMutableRawPointer) {
        let count = rect.visibleWidth
        guard count > 0 else { return }
        palette.words.withUnsafeBufferPointer { table in
            for x in 0 ..< count - 1 {
                target.storeBytes(of: table[Int(row[x])], toByteOffset: x &* 3, as: UInt32.self)
            }
            withUnsafeBytes(of: table[Int(row[count - 1])]) { last in
                (target + (count - 1) * 3).copyMemory(from: last.baseAddress!, byteCount: 3)
            }
        }
    }
}

/// The order in which a frame's rows arrive: top to bottom, or GIF's four
/// interlace passes (every 8th row from 0, every 8th from 4, every 4th from 2,
/// every 2nd from 1).
private struct RowOrder {
    private static let passes: [(start: Int, step: Int)] = [(0, 8), (4, 8), (2, 4), (1, 2)]
    let height: Int
    let interlaced: Bool
    private var pass = 0
    private var y = 0

    init(height: Int, interlaced: Bool) {
        self.height = height
        self.interlaced = interlaced
    }

    mutating func next() -> Int? {
        guard interlaced else {
            defer { y += 1 }
            return y < height ? y : nil
        }
        while pass < Self.passes.count {
            if y < height {
                defer { y += Self.passes[pass].step }
                return y
            }
            pass += 1
            if pass < Self.passes.count { y = Self.passes[pass].start }
        }
        return nil
    }
}
