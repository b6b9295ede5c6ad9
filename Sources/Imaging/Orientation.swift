extension PixelBuffer {
    /// The pixels turned upright for an EXIF orientation tag, so the result
    /// displays correctly with no tag at all.
    ///
    /// 1 (or anything outside 1...8) returns the buffer as it is. 2 mirrors
    /// left-right, 3 turns 180 degrees, 4 mirrors top-bottom, 5 transposes
    /// (mirror along the top-left diagonal), 6 turns 90 degrees clockwise,
    /// 7 transverses (mirror along the top-right diagonal) and 8 turns 90 degrees
    /// counter-clockwise. 5...8 swap width and height.
    public func applyingOrientation(_ exif: Int) -> PixelBuffer {
        guard (2 ... 8).contains(exif), width > 0, height > 0 else { return self }
        let map = OrientationMap(exif: exif, width: width, height: height)
        return PixelBuffer(width: map.outputWidth, height: map.outputHeight, layout: layout) { out in
            bytes.withUnsafeBytes { source in
                // One pixel moves as one machine value, whatever its channel count.
                switch layout.channels {
                case 1: map.apply(UInt8.self, from: source, to: out)
                case 2: map.apply(UInt16.self, from: source, to: out)
                case 3: map.apply(Pixel3.self, from: source, to: out)
                default: map.apply(UInt32.self, from: source, to: out)
                }
            }
        }
    }
}

/// Three 8-bit samples copied as one value.
private struct Pixel3: BitwiseCopyable {
    var first, second, third: UInt8
}

/// Every orientation is an affine map from output to source pixel index:
/// `source = base + x * xStep + y * yStep`, with x and y in the output.
private struct OrientationMap {
    let outputWidth: Int
    let outputHeight: Int
    let base: Int
    let xStep: Int
    let yStep: Int

    init(exif: Int, width w: Int, height h: Int) {
        let swapsSides = exif >= 5
        outputWidth = swapsSides ? h : w
        outputHeight = swapsSides ? w : h
        let last = w * h - 1
        (base, xStep, yStep) =
            switch exif {
            case 2: (w - 1, -1, w)
            case 3: (last, -1, -w)
            case 4: ((h - 1) * w, 1, -w)
            case 5: (0, w, 1)
            case 6: ((h - 1) * w, -w, 1)
            case 7: (last, -w, -1)
            case 8: (w - 1, w, -1)
            default: (0, 1, w)
            }
    }

    /// Side of the square blocks used when a row of the output is a column of
    /// the source: 32 pixels keep both blocks in L1 even for 4-byte pixels.
    private static let tile = 32

    func apply<P: BitwiseCopyable>(_: P.Type, from source: UnsafeRawBufferPointer, to output: UnsafeMutableRawBufferPointer) {
        let src = source.baseAddress!, dst = output.baseAddress!
        let size = MemoryLayout<P>.size
        if abs(xStep) == 1 {
            // Output rows are source rows, possibly reversed: stream them.
            for y in 0 ..< outputHeight {
                let from = base + y * yStep, to = y * outputWidth
                if xStep == 1 {
                    (dst + to * size).copyMemory(from: src + from * size, byteCount: outputWidth * size)
                } else {
                    for x in 0 ..< outputWidth {
                        let pixel = src.loadUnaligned(fromByteOffset: (from - x) * size, as: P.self)
                        dst.storeBytes(of: pixel, toByteOffset: (to + x) * size, as: P.self)
                    }
                }
            }
            return
        }
        // Output rows are source columns: go block by block so the source rows
        // a block reads stay in cache while its output rows are written.
        let tile = Self.tile
        for blockY in stride(from: 0, to: outputHeight, by: tile) {
            let endY = min(blockY + tile, outputHeight)
            for blockX in stride(from: 0, to: outputWidth, by: tile) {
                let endX = min(blockX + tile, outputWidth)
                for y in blockY ..< endY {
                    let from = base + y * yStep, to = y * outputWidth
                    for x in blockX ..< endX {
                        let pixel = src.loadUnaligned(fromByteOffset: (from + x * xStep) * size, as: P.self)
                        dst.storeBytes(of: pixel, toByteOffset: (to + x) * size, as: P.self)
                    }
                }
            }
        }
    }
}
