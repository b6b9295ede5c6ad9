import CResample

/// `ResampleWindows` converted to the int16 weights the kernels multiply with.
///
/// Each output's weights are scaled by `1 << bits`, rounded, and the
/// rounding error is folded into its largest weight so they sum to exactly
/// `1 << bits`: a flat area stays exactly flat. `bits` is as large as
/// possible while every weight fits int16 and no int32 sum can overflow,
/// negative lobes included (|sum| <= 255 * sum|w|).
struct FixedPointCoefficients {
    let outSize: Int
    let stride: Int
    let bits: Int
    private(set) var start: [Int32]
    private(set) var count: [Int32]
    private(set) var weights: [Int16]
    /// The weights in the layout a SIMD horizontal kernel loads (empty otherwise).
    private(set) var packed: [Int32] = []

    /// Largest fixed-point weight magnitude we aim for; leaves room for the
    /// rounding correction below int16's 32767.
    private static let weightCeiling = 30_000.0
    private static let maximumBits = 22

    /// Pads every window to a multiple of `tapMultiple` taps (zero weights),
    /// moving windows at the right edge left so that padded taps stay
    /// inside the row. Nil when the row is narrower than a padded window.
    init?(_ windows: ResampleWindows, tapMultiple: Int) {
        let padded = (windows.stride + tapMultiple - 1) / tapMultiple * tapMultiple
        if tapMultiple > 1 && padded > windows.inSize { return nil }
        outSize = windows.outSize
        stride = padded

        var largest = 0.0, largestSum = 0.0
        windows.weights.withUnsafeBufferPointer { w in
            for i in 0 ..< windows.outSize {
                var sum = 0.0
                for k in 0 ..< windows.count[i] {
                    let v = abs(w[i * windows.stride + k])
                    largest = max(largest, v)
                    sum += v
                }
                largestSum = max(largestSum, sum)
            }
        }
        var bits = Self.maximumBits
        while bits > 1 {
            let one = Double(1 << bits)
            let fitsInt16 = largest * one <= Self.weightCeiling
            // Worst case accumulator: 255 * sum|w| plus the rounding constant and the correction slack.
            let fitsInt32 = 255 * (largestSum * one + Double(windows.stride)) + one < Double(Int32.max)
            if fitsInt16 && fitsInt32 { break }
            bits -= 1
        }
        self.bits = bits

        var start = [Int32](repeating: 0, count: outSize)
        var count = [Int32](repeating: 0, count: outSize)
        var weights = [Int16](repeating: 0, count: outSize * padded)
        let one = 1 << bits
        let scale = Double(one)
        let outputs = windows.outSize
        windows.weights.withUnsafeBufferPointer { source in
            weights.withUnsafeMutableBufferPointer { target in
                for i in 0 ..< outputs {
                    let n = windows.count[i]
                    let paddedCount = tapMultiple == 1 ? n : (n + tapMultiple - 1) / tapMultiple * tapMultiple
                    let shift = max(0, windows.start[i] + paddedCount - windows.inSize)
                    let row = i * padded + shift
                    var sum = 0, biggest = 0, biggestMagnitude = -1
                    for k in 0 ..< n {
                        let q = Int((source[i * windows.stride + k] * scale).rounded())
                        target[row + k] = Int16(clamping: q)
                        sum += q
                        if abs(q) > biggestMagnitude { biggestMagnitude = abs(q); biggest = k }
                    }
                    if n > 0 {
                        let corrected = Int(target[row + biggest]) + one - sum
                        precondition(abs(corrected) <= Int(Int16.max), "resample weight out of int16 range")
                        target[row + biggest] = Int16(corrected)
                    }
                    start[i] = Int32(windows.start[i] - shift)
                    count[i] = Int32(paddedCount)
                }
            }
        }
        self.start = start
        self.count = count
        self.weights = weights
    }

    /// Adds the packed weights the horizontal kernel of `path` reads.
    mutating func packForHorizontalPass(path: KernelPath, channels: Int) {
        let kernelPath = path.kernelPath, c = Int32(channels)
        let size = withKernelCoefficients { rs_packed_weights_count($0, kernelPath, c) }
        guard size > 0 else { return }
        let packed = withKernelCoefficients { k in
            [Int32](unsafeUninitializedCapacity: size) { buffer, initialized in
                rs_pack_horizontal_weights(k, kernelPath, c, buffer.baseAddress)
                initialized = size
            }
        }
        self.packed = packed
    }

    func withKernelCoefficients<R>(_ body: (UnsafePointer<rs_fixed_coeffs>) -> R) -> R {
        start.withUnsafeBufferPointer { s in
            count.withUnsafeBufferPointer { c in
                weights.withUnsafeBufferPointer { w in
                    packed.withUnsafeBufferPointer { p in
                        var k = rs_fixed_coeffs(
                            out_size: Int32(outSize), stride: Int32(stride), bits: Int32(bits),
                            start: s.baseAddress, count: c.baseAddress, weights: w.baseAddress,
                            packed: p.isEmpty ? nil : p.baseAddress)
                        return body(&k)
                    }
                }
            }
        }
    }
}

/// `ResampleWindows` as float weights for the linear-light path.
struct FloatCoefficients {
    let outSize: Int
    let stride: Int
    let start: [Int32]
    let count: [Int32]
    let weights: [Float]

    init(_ windows: ResampleWindows) {
        outSize = windows.outSize
        stride = windows.stride
        start = windows.start.map { Int32($0) }
        count = windows.count.map { Int32($0) }
        weights = windows.weights.map { Float($0) }
    }

    func withKernelCoefficients<R>(_ body: (UnsafePointer<rs_float_coeffs>) -> R) -> R {
        start.withUnsafeBufferPointer { s in
            count.withUnsafeBufferPointer { c in
                weights.withUnsafeBufferPointer { w in
                    var k = rs_float_coeffs(
                        out_size: Int32(outSize), stride: Int32(stride),
                        start: s.baseAddress, count: c.baseAddress, weights: w.baseAddress)
                    return body(&k)
                }
            }
        }
    }
}
