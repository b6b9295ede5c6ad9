import Foundation

/// How close two decoded images are: peak signal-to-noise ratio over 8-bit
/// samples (peak 255), `10 log10(255² / MSE)` in dB. Identical pixels give
/// `+infinity`; a difference of one level in every sample gives 48.13 dB.
///
/// Samples are compared as straight RGB when both images are opaque; when
/// either has alpha, as RGB premultiplied by alpha plus the alpha itself, so
/// the colour hidden under a fully transparent pixel does not count. Gray is
/// compared as RGB (R = G = B).
public enum ImageComparison {
    /// PSNR in dB of `b` against `a`; `invalidArgument` when the sizes differ or either is empty.
    public static func psnr(_ a: PixelBuffer, _ b: PixelBuffer) throws(ImagingError) -> Double {
        psnr(meanSquaredError: try meanSquaredError(a, b))
    }

    /// PSNR over every frame (the mean squared error of all frames together);
    /// `invalidArgument` when the frame counts or sizes differ.
    public static func psnr(_ a: Image, _ b: Image) throws(ImagingError) -> Double {
        guard a.frames.count == b.frames.count else {
            throw ImagingError(.invalidArgument, "cannot compare \(a.frames.count) frame(s) with \(b.frames.count)")
        }
        var total = 0.0
        for (fa, fb) in zip(a.frames, b.frames) { total += try meanSquaredError(fa.pixels, fb.pixels) }
        return psnr(meanSquaredError: total / Double(a.frames.count))
    }

    /// `10 log10(255² / mse)`; +infinity for 0.
    public static func psnr(meanSquaredError mse: Double) -> Double {
        mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }

    /// The mean of the squared sample differences, over the channels described above.
    public static func meanSquaredError(_ a: PixelBuffer, _ b: PixelBuffer) throws(ImagingError) -> Double {
        guard a.width == b.width, a.height == b.height else {
            throw ImagingError(.invalidArgument, "cannot compare a \(a.width)x\(a.height) image with a \(b.width)x\(b.height) one")
        }
        guard a.pixelCount > 0 else { throw ImagingError(.invalidArgument, "cannot compare empty images") }
        let withAlpha = a.layout.hasAlpha || b.layout.hasAlpha
        let target: PixelLayout = withAlpha ? .rgba : .rgb
        let x = a.layout == target ? a : a.converted(to: target)
        let y = b.layout == target ? b : b.converted(to: target)
        var sum = 0.0
        x.bytes.withUnsafeBufferPointer { p in
            y.bytes.withUnsafeBufferPointer { q in
                if withAlpha {
                    for i in stride(from: 0, to: p.count, by: 4) {
                        let pa = Double(p[i + 3]), qa = Double(q[i + 3])
                        for c in 0 ..< 3 {
                            let d = Double(p[i + c]) * pa / 255 - Double(q[i + c]) * qa / 255
                            sum += d * d
                        }
                        sum += (pa - qa) * (pa - qa)
                    }
                } else {
                    // An exact integer sum (255² x 3 x 100 MP still fits in Int64).
                    var exact = 0
                    for i in 0 ..< p.count {
                        let d = Int(p[i]) - Int(q[i])
                        exact += d * d
                    }
                    sum = Double(exact)
                }
            }
        }
        return sum / Double(a.pixelCount * target.channels)
    }
}
