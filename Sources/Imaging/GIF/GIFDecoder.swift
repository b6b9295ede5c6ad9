import CGIF

/// GIF decoding on giflib's record-level API.
enum GIFDecoder {
    /// Walks every record, skipping the LZW data without decompressing it.
    /// `hasAlpha` follows the same rule as `decode`'s choice of `.rgba`.
    static func probe(_ data: UnsafeRawBufferPointer, limits: DecodeLimits) throws(ImagingError) -> ImageInfo {
        var stream = try GIFStream(data, limits: limits)
        let (width, height) = (stream.screenWidth, stream.screenHeight)
        let reader = stream.reader
        var hasAlpha = false
        try stream.forEachFrame { (_, rect, control) throws(ImagingError) -> Bool in
            if control.transparentIndex != nil || !rect.covers(width: width, height: height) { hasAlpha = true }
            try reader.skipRemainingImageData(started: false)
            return true
        }
        return ImageInfo(format: .gif, width: width, height: height, frames: stream.frameCount,
                         hasAlpha: hasAlpha, loopCount: stream.loopCount)
    }

    /// Composites every frame onto the canvas and returns one full-canvas raster per frame.
    ///
    /// The layout is `.rgba` when some frame declares a transparent index or
    /// does not cover the whole screen (so some pixels may show through),
    /// otherwise `.rgb`.
    static func decode(_ data: UnsafeRawBufferPointer, options: DecodeOptions) throws(ImagingError) -> Image {
        var stream = try GIFStream(data, limits: options.limits)
        let (width, height) = (stream.screenWidth, stream.screenHeight)
        let reader = stream.reader
        let global = reader.globalColorMap
        var canvas: GIFCanvas?
        var frames: [ImageFrame] = []
        var needsAlpha = false
        // One row of palette indices, sized for the widest frame a descriptor can declare.
        var row = [GifPixelType](repeating: 0, count: Int(UInt16.max))

        try stream.forEachFrame { (desc, rect, control) throws(ImagingError) -> Bool in
            if control.transparentIndex != nil || !rect.covers(width: width, height: height) { needsAlpha = true }
            // Taken out of `canvas` so drawing does not copy it for nothing.
            var current = canvas ?? GIFCanvas(width: width, height: height)
            canvas = nil
            current.beginFrame(rect, disposal: control.disposal)
            let colors = PaletteTable(desc.ColorMap ?? global!)
            try FrameDrawer(reader: reader, rect: rect, interlaced: desc.Interlace,
                            transparentIndex: control.transparentIndex ?? -1)
                .draw(into: &current, palette: colors, row: &row)
            frames.append(ImageFrame(pixels: current.pixels, delayCentiseconds: control.delayCentiseconds))
            canvas = current
            return !options.firstFrameOnly
        }
        guard !frames.isEmpty else {
            throw ImagingError(.corrupt, format: .gif, "the file has no image data")
        }
        if !needsAlpha {
            // Release the canvas first so the last frame's buffer is not shared while converting.
            canvas = nil
            for i in frames.indices { frames[i].pixels = frames[i].pixels.droppingOpaqueAlpha() }
        }
        return Image(frames: frames, loopCount: stream.loopCount, sourceFormat: .gif)
    }
}

/// A frame's colour table expanded to 256 RGBA words, so drawing a pixel is one
/// table load and one store. Indices past the end of a short table are opaque
/// black, as in most browsers.
private struct PaletteTable {
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

    /// A word whose bytes in memory are r, g, b, a on any byte order.
    static func word(_ r: UInt8, _ g: UInt8, _ b: UInt8, _ a: UInt8) -> UInt32 {
        (UInt32(r) | UInt32(g) << 8 | UInt32(b) << 16 | UInt32(a) << 24).littleEndian
    }
}

/// Decodes one frame's rows with giflib and paints the on-screen part onto the canvas.
private struct FrameDrawer {
    let reader: GIFReader
    let rect: FrameRect
    let interlaced: Bool
    /// -1 when the frame has no transparent index.
    let transparentIndex: Int

    func draw(into canvas: inout GIFCanvas, palette: PaletteTable, row: inout [GifPixelType]) throws(ImagingError) {
        guard rect.width > 0, rect.height > 0 else {
            try reader.skipRemainingImageData(started: false)
            return
        }
        let stride = canvas.pixels.bytesPerRow
        let failure: ImagingError? = canvas.withMutableSamples { samples in
            row.withUnsafeMutableBufferPointer { indices in
                palette.words.withUnsafeBufferPointer { table in
                    do throws(ImagingError) {
                        try drawRows(samples, stride: stride, indices: indices.baseAddress!, table: table.baseAddress!)
                        return nil
                    } catch {
                        return error
                    }
                }
            }
        }
        if let failure { throw failure }
    }

    private func drawRows(
        _ samples: UnsafeMutableRawBufferPointer, stride: Int,
        indices: UnsafeMutablePointer<GifPixelType>, table: UnsafePointer<UInt32>
    ) throws(ImagingError) {
        var onScreenLeft = rect.visibleHeight
        var order = RowOrder(height: rect.height, interlaced: interlaced)
        var decoded = 0
        while onScreenLeft > 0, let y = order.next() {
            try reader.readRow(indices, count: rect.width)
            decoded += 1
            guard y < rect.visibleHeight else { continue }
            onScreenLeft -= 1
            let target = samples.baseAddress! + (rect.top + y) * stride + rect.left * 4
            expand(indices, count: rect.visibleWidth, into: target, table: table)
        }
        // Rows below the screen would be decoded only to be thrown away: skip their data.
        if decoded < rect.height {
            try reader.skipRemainingImageData(started: decoded > 0)
        }
    }

    @inline(__always)
    private func expand(_ indices: UnsafePointer<GifPixelType>, count: Int, into target: UnsafeMutableRawPointer, table: UnsafePointer<UInt32>) {
        if transparentIndex < 0 {
            for x in 0 ..< count {
                target.storeBytes(of: table[Int(indices[x])], toByteOffset: x &* 4, as: UInt32.self)
            }
        } else {
            let skip = UInt8(truncatingIfNeeded: transparentIndex)
            for x in 0 ..< count where indices[x] != skip {
                target.storeBytes(of: table[Int(indices[x])], toByteOffset: x &* 4, as: UInt32.self)
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

extension PixelBuffer {
    /// RGBA to RGB without the general converter's per-pixel layout branches;
    /// only called when every alpha sample is known to be 255.
    func droppingOpaqueAlpha() -> PixelBuffer {
        guard layout == .rgba else { return self }
        let n = pixelCount
        return PixelBuffer(width: width, height: height, layout: .rgb) { out in
            bytes.withUnsafeBytes { src in
                let s = src.baseAddress!, o = out.baseAddress!
                for i in 0 ..< n {
                    (o + i &* 3).copyMemory(from: s + i &* 4, byteCount: 3)
                }
            }
        }
    }
}
