extension PixelBuffer {
    /// Converts between the four layouts. Gray from colour uses the Rec. 601 luma
    /// weights (as libjpeg and Pillow do); added alpha is opaque; dropped alpha
    /// is discarded (use `flattened(onto:)` to composite over a background first).
    public func converted(to target: PixelLayout) -> PixelBuffer {
        if target == layout { return self }
        let n = pixelCount
        let sc = channels, tc = target.channels
        let src = layout, dst = target
        return PixelBuffer(width: width, height: height, layout: target) { out in
            let o = out.bindMemory(to: UInt8.self)
            bytes.withUnsafeBufferPointer { s in
                for i in 0 ..< n {
                    let si = i * sc, oi = i * tc
                    let r, g, b, a: UInt8
                    if src.isGray {
                        r = s[si]; g = r; b = r
                    } else {
                        r = s[si]; g = s[si + 1]; b = s[si + 2]
                    }
                    a = src.hasAlpha ? s[si + sc - 1] : 255
                    if dst.isGray {
                        o[oi] = src.isGray ? r : PixelBuffer.luma(r, g, b)
                    } else {
                        o[oi] = r; o[oi + 1] = g; o[oi + 2] = b
                    }
                    if dst.hasAlpha { o[oi + tc - 1] = a }
                }
            }
        }
    }

    /// Composites over an opaque background colour and drops alpha (for JPEG output).
    public func flattened(onto background: (red: UInt8, green: UInt8, blue: UInt8) = (255, 255, 255)) -> PixelBuffer {
        guard layout.hasAlpha else { return self }
        let n = pixelCount
        let gray = layout.isGray
        let target: PixelLayout = gray ? .gray : .rgb
        let sc = channels, tc = target.channels
        let bg = gray ? [PixelBuffer.luma(background.red, background.green, background.blue)] : [background.red, background.green, background.blue]
        return PixelBuffer(width: width, height: height, layout: target) { out in
            let o = out.bindMemory(to: UInt8.self)
            bytes.withUnsafeBufferPointer { s in
                for i in 0 ..< n {
                    let a = UInt32(s[i * sc + sc - 1])
                    for c in 0 ..< tc {
                        let v = UInt32(s[i * sc + c]) * a + UInt32(bg[c]) * (255 - a)
                        o[i * tc + c] = UInt8((v + 127) / 255)
                    }
                }
            }
        }
    }

    /// True when a colour image has R = G = B in every pixel.
    public var isGrayscale: Bool {
        if layout.isGray { return true }
        let c = channels
        return bytes.withUnsafeBufferPointer { p in
            var i = 0
            while i < p.count {
                if p[i] != p[i + 1] || p[i] != p[i + 2] { return false }
                i += c
            }
            return true
        }
    }

    @inline(__always)
    static func luma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        // ITU-R BT.601 in 16-bit fixed point: 0.299, 0.587, 0.114.
        let weighted: UInt32 = 19595 * UInt32(r) + 38470 * UInt32(g) + 7471 * UInt32(b)
        return UInt8((weighted + 32768) >> 16)
    }

    /// Non-throwing variant of the uninitialised initialiser for internal use.
    init(width: Int, height: Int, layout: PixelLayout, fill: (UnsafeMutableRawBufferPointer) -> Void) {
        self.init(width: width, height: height, layout: layout, unsafeUninitialized: fill)
    }
}
