/// The RGBA working canvas of an animation and the disposal bookkeeping
/// between frames.
///
/// It starts fully transparent and "restore to background" (disposal 2) clears
/// the frame's rectangle to transparent rather than painting the background
/// colour: that is what every current browser does, and the background index
/// is often meaningless (some files point it outside their palette).
struct GIFCanvas {
    private(set) var pixels: PixelBuffer
    /// What the previous frame asked to be done before the next one is drawn.
    private var pending: Disposal?

    private enum Disposal {
        case clear(FrameRect)
        case restore(PixelBuffer)
    }

    init(width: Int, height: Int) {
        pixels = PixelBuffer(width: width, height: height, layout: .rgba)
    }

    /// Applies the previous frame's disposal, then remembers this frame's own.
    /// Disposals 0, 1 and the undefined 4-7 leave the canvas as drawn.
    mutating func beginFrame(_ rect: FrameRect, disposal: Int) {
        switch pending {
        case .clear(let old): clear(old)
        case .restore(let saved): pixels = saved
        case nil: break
        }
        switch disposal {
        case 2: pending = .clear(rect)
        // A copy-on-write snapshot: the copy happens once, when the frame is drawn.
        case 3: pending = .restore(pixels)
        default: pending = nil
        }
    }

    /// Paints one frame over the canvas (transparent pixels leave it as it is).
    mutating func draw(_ frame: FrameDrawer) throws(ImagingError) {
        let stride = pixels.bytesPerRow
        let failure: ImagingError? = pixels.bytes.withUnsafeMutableBytes { samples in
            do throws(ImagingError) {
                try frame.draw(into: samples, bytesPerRow: stride, channels: 4)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    private mutating func clear(_ rect: FrameRect) {
        guard rect.visibleWidth > 0, rect.visibleHeight > 0 else { return }
        let stride = pixels.bytesPerRow
        pixels.bytes.withUnsafeMutableBytes { raw in
            for y in rect.top ..< rect.top + rect.visibleHeight {
                let start = y * stride + rect.left * 4
                (raw.baseAddress! + start).initializeMemory(as: UInt8.self, repeating: 0, count: rect.visibleWidth * 4)
            }
        }
    }
}
