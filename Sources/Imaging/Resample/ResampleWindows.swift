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
        start = Array(repeating: 0, count: outSize)
        count = Array(repeating: 0, count: outSize)
        weights = Array(repeating: 0, count: outSize * stride)
        let inverseStretch = 1 / stretch
        for i in 0 ..< outSize {
            let centre = (Double(i) + 0.5) * scale
            let first = max(Int((centre - support + 0.5).rounded(.down)), 0)
            let end = min(Int((centre + support + 0.5).rounded(.down)), inSize)
            let n = min(end - first, stride)
            var total = 0.0
            for k in 0 ..< n {
                let w = filter.weight((Double(first + k) - centre + 0.5) * inverseStretch)
                weights[i * stride + k] = w
                total += w
            }
            if total != 0 {
                for k in 0 ..< n { weights[i * stride + k] /= total }
            }
            start[i] = first
            count[i] = n
        }
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
