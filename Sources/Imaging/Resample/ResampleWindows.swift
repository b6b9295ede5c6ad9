import Foundation

/// For one axis: which inputs each output sample reads and with what
/// normalised weights, in double precision.
///
/// Output sample `i` has its centre at `(i + 0.5) * scale` in input
/// coordinates; the kernel is stretched by the ratio when shrinking, so
/// its support covers `support * max(scale, 1)` input pixels on each side.
struct ResampleWindows {
    let inSize: Int
    let outSize: Int
    /// First input index of each output sample.
    private(set) var start: [Int]
    /// Number of inputs each output sample reads.
    private(set) var count: [Int]
    /// `outSize * stride` weights; each output's weights sum to 1.
    private(set) var weights: [Double]
    let stride: Int

    init(filter: ResampleFilter, inSize: Int, outSize: Int) {
        precondition(inSize > 0 && outSize > 0)
        self.inSize = inSize
        self.outSize = outSize
        let scale = Double(inSize) / Double(outSize)

        if filter == .nearest {
            stride = 1
            start = (0 ..< outSize).map { min(Int((Double($0) + 0.5) * scale), inSize - 1) }
            count = Array(repeating: 1, count: outSize)
            weights = Array(repeating: 1, count: outSize)
            return
        }

        let stretch = max(scale, 1)
        let support = filter.support * stretch
        // The widest window any output can have, clamped to the image.
        stride = min(Int((support * 2).rounded(.up)) + 1, inSize)
        var start = [Int](repeating: 0, count: outSize)
        var count = [Int](repeating: 0, count: outSize)
        var table = [Double](repeating: 0, count: outSize * stride)
        let inverseStretch = 1 / stretch
        let stride = stride, outputs = outSize, inputs = inSize
        table.withUnsafeMutableBufferPointer { weights in
            for i in 0 ..< outputs {
                let centre = (Double(i) + 0.5) * scale
                let first = max(Int((centre - support + 0.5).rounded(.down)), 0)
                let end = min(Int((centre + support + 0.5).rounded(.down)), inputs)
                let n = min(end - first, stride)
                var total = 0.0
                if filter == .lanczos3 {
                    total = Self.lanczosWindow(first: first, count: n, centre: centre, inverseStretch: inverseStretch,
                                               into: weights.baseAddress! + i * stride)
                } else {
                    for k in 0 ..< n {
                        let w = filter.weight((Double(first + k) - centre + 0.5) * inverseStretch)
                        weights[i * stride + k] = w
                        total += w
                    }
                }
                if total != 0 {
                    for k in 0 ..< n { weights[i * stride + k] /= total }
                }
                start[i] = first
                count[i] = n
            }
        }
        self.start = start
        self.count = count
        self.weights = table
    }

    /// Lanczos-3 weights of one window; returns their sum. The taps are
    /// evenly spaced, so sin(pi x) and sin(pi x / 3) advance by rotation
    /// instead of two `sin` calls per tap (which dominated building a
    /// 49-tap table). The recurrence drifts by ~1e-15 per step.
    private static func lanczosWindow(first: Int, count: Int, centre: Double, inverseStretch: Double,
                                      into weights: UnsafeMutablePointer<Double>) -> Double {
        let x0 = (Double(first) - centre + 0.5) * inverseStretch
        let step = inverseStretch
        var s1 = sin(Double.pi * x0), c1 = cos(Double.pi * x0)
        var s3 = sin(Double.pi * x0 / 3), c3 = cos(Double.pi * x0 / 3)
        let ds1 = sin(Double.pi * step), dc1 = cos(Double.pi * step)
        let ds3 = sin(Double.pi * step / 3), dc3 = cos(Double.pi * step / 3)
        var total = 0.0
        for k in 0 ..< count {
            let x = (Double(first + k) - centre + 0.5) * inverseStretch
            let w: Double
            if x == 0 {
                w = 1
            } else if x <= -3 || x >= 3 {
                w = 0
            } else {
                w = 3 * s1 * s3 / (Double.pi * Double.pi * x * x)
            }
            weights[k] = w
            total += w
            (s1, c1) = (s1 * dc1 + c1 * ds1, c1 * dc1 - s1 * ds1)
            (s3, c3) = (s3 * dc3 + c3 * ds3, c3 * dc3 - s3 * ds3)
        }
        return total
    }

    /// The window that copies input `i` to output `i` (for an axis that
    /// keeps its size in the linear-light path).
    init(identity size: Int) {
        inSize = size
        outSize = size
        stride = 1
        start = Array(0 ..< size)
        count = Array(repeating: 1, count: size)
        weights = Array(repeating: 1, count: size)
    }
}
