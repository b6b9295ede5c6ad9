extension PixelBuffer {
    /// The pixels inside a box, copied row by row. A box that is empty or not
    /// entirely inside the image is an `invalidArgument` error, never clamped:
    /// a silent clamp would upload something the caller did not ask for.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) throws(ImagingError) -> PixelBuffer {
        guard w > 0, h > 0 else {
            throw ImagingError(.invalidArgument, "crop box \(w)x\(h) is empty")
        }
        guard x >= 0, y >= 0, x <= width - w, y <= height - h else {
            throw ImagingError(.invalidArgument,
                               "crop box \(w)x\(h) at (\(x),\(y)) is outside the \(width)x\(height) image")
        }
        let c = channels
        let sourceStride = bytesPerRow
        let rowBytes = w * c
        return PixelBuffer(width: w, height: h, layout: layout) { out in
            bytes.withUnsafeBytes { source in
                for row in 0 ..< h {
                    let from = source.baseAddress! + (y + row) * sourceStride + x * c
                    (out.baseAddress! + row * rowBytes).copyMemory(from: from, byteCount: rowBytes)
                }
            }
        }
    }
}

extension Image {
    /// Crops every frame the same way (animations keep their timing).
    public func cropped(x: Int, y: Int, width: Int, height: Int) throws(ImagingError) -> Image {
        var result = self
        for index in frames.indices {
            result.frames[index].pixels = try frames[index].pixels.cropped(x: x, y: y, width: width, height: height)
        }
        return result
    }
}
