import CResample
import Dispatch
import Foundation

/// Runs a resize: plans the two passes, then computes horizontal stripes of
/// the output in parallel.
///
/// Each stripe runs the horizontal pass over just the input rows its output
/// rows need (the few rows shared by neighbouring stripes are computed twice)
/// into a small window that slides down with the vertical pass, so stripes
/// share nothing but read-only coefficients and every output byte is
/// computed the same way whatever the thread count.
struct Resampler {
    let source: PixelBuffer
    let width: Int
    let height: Int
    let options: ResampleOptions

    /// Input rows converted per step before the horizontal pass (premultiply
    /// or sRGB decode), sized so the chunk stays in L2.
    private static let chunkRows = 16
    /// Bytes a kernel may read past a scratch buffer (RGB SIMD loads).
    private static let slack = 64

    func run() throws(ImagingError) -> PixelBuffer {
        if width == source.width && height == source.height { return source }
        let path = try options.path.resolved()
        let stripes = min(options.threadCount, height)
        if options.linearLight {
            return runLinearLight(stripes: stripes)
        }
        return runFixedPoint(path: path, stripes: stripes)
    }

    /// Output rows of stripe `s`.
    private func stripeRows(_ s: Int, of stripes: Int) -> Range<Int> {
        (height * s / stripes) ..< (height * (s + 1) / stripes)
    }

    /// Input rows the vertical window of output rows `rows` reads.
    private static func inputRows(_ rows: Range<Int>, start: [Int32], count: [Int32]) -> Range<Int> {
        var lower = Int.max, upper = 0
        for y in rows {
            lower = min(lower, Int(start[y]))
            upper = max(upper, Int(start[y] + count[y]))
        }
        return lower ..< upper
    }

    private static func forEachStripe(_ stripes: Int, _ body: @Sendable (Int) -> Void) {
        if stripes == 1 {
            body(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: stripes, execute: body)
        }
    }

    // MARK: 8-bit fixed point

    private func runFixedPoint(path: KernelPath, stripes: Int) -> PixelBuffer {
        let channels = Int32(source.channels)
        let c = source.channels
        let inWidth = source.width, inHeight = source.height
        let inRowBytes = inWidth * c, outRowBytes = width * c
        let premultiply = source.layout.hasAlpha
        let filter = options.filter

        // The SIMD paths want padded windows; a row narrower than one padded
        // window goes through the portable kernel (same bytes, just slower).
        // Both axes' coefficients come from the cache when this size was made before.
        let cache = CoefficientCache.shared
        var padded: FixedPointCoefficients?
        var fallback = path
        if width != inWidth {
            let multiple = Int(rs_horizontal_tap_multiple(path.kernelPath, channels))
            let key = CoefficientCache.Key(inSize: inWidth, outSize: width, filter: filter, tapMultiple: multiple,
                                           packedFor: path, channels: c)
            padded = cache.coefficients(key) {
                var k = FixedPointCoefficients(ResampleWindows(filter: filter, inSize: inWidth, outSize: width), tapMultiple: multiple)
                k?.packForHorizontalPass(path: path, channels: c)
                return k
            }
            if padded == nil {
                fallback = .portable
                let key = CoefficientCache.Key(inSize: inWidth, outSize: width, filter: filter, tapMultiple: 1,
                                               packedFor: .portable, channels: c)
                padded = cache.coefficients(key) {
                    FixedPointCoefficients(ResampleWindows(filter: filter, inSize: inWidth, outSize: width), tapMultiple: 1)
                }
            }
        }
        let horizontal = padded, horizontalPath = fallback
        let verticalKey = CoefficientCache.Key(inSize: inHeight, outSize: height, filter: filter, tapMultiple: 1,
                                               packedFor: nil, channels: 0)
        let vertical = height != inHeight
            ? cache.coefficients(verticalKey) {
                FixedPointCoefficients(ResampleWindows(filter: filter, inSize: inHeight, outSize: height), tapMultiple: 1)
            }
            : nil

        return PixelBuffer(width: width, height: height, layout: source.layout) { output in
            let target = UncheckedSendable(output.baseAddress!.assumingMemoryBound(to: UInt8.self))
            source.bytes.withUnsafeBufferPointer { input in
                let source = UncheckedSendable(input.baseAddress!)
                Self.forEachStripe(stripes) { s in
                    let out = target.value, src = source.value
                    let rows = stripeRows(s, of: stripes)
                    let needed = vertical.map { Self.inputRows(rows, start: $0.start, count: $0.count) } ?? rows
                    let outStripe = out + rows.lowerBound * outRowBytes

                    var scratch: [UnsafeMutableRawPointer] = []
                    defer { scratch.forEach { $0.deallocate() } }
                    func allocate(_ bytes: Int) -> UnsafeMutablePointer<UInt8> {
                        let p = UnsafeMutableRawPointer.allocate(byteCount: bytes + Self.slack, alignment: 64)
                        scratch.append(p)
                        return p.assumingMemoryBound(to: UInt8.self)
                    }

                    // Converts input rows [first, first + n) and runs the horizontal pass into `target`.
                    let chunk = premultiply && horizontal != nil ? allocate(Self.chunkRows * inRowBytes) : nil
                    func horizontalRows(_ k: UnsafePointer<rs_fixed_coeffs>, first: Int, count n: Int,
                                        into target: UnsafeMutablePointer<UInt8>) {
                        var rowsIn = UnsafePointer(src + first * inRowBytes)
                        var readable = (inHeight - first - n) * inRowBytes
                        if let chunk {
                            rs_premultiply_u8(rowsIn, chunk, n * inWidth, channels, path.kernelPath)
                            rowsIn = UnsafePointer(chunk)
                            readable = Self.slack
                        }
                        rs_horizontal_u8(k, rowsIn, inRowBytes, readable, target, outRowBytes,
                                         Int32(n), channels, horizontalPath.kernelPath)
                    }

                    if let horizontal, let vertical {
                        // Both passes: the horizontal rows live in a window that slides
                        // down with the vertical windows, small enough to stay in cache.
                        var taps = 0
                        for y in rows { taps = max(taps, Int(vertical.count[y])) }
                        let capacity = taps + 2 * Self.chunkRows
                        let window = allocate(capacity * outRowBytes)
                        var windowFirst = needed.lowerBound, filled = needed.lowerBound
                        horizontal.withKernelCoefficients { hk in
                            vertical.withKernelCoefficients { vk in
                                for y in rows {
                                    let first = Int(vertical.start[y]), end = first + Int(vertical.count[y])
                                    if end - windowFirst > capacity {
                                        let keep = filled - first
                                        if keep > 0 {
                                            memmove(window, window + (first - windowFirst) * outRowBytes, keep * outRowBytes)
                                        }
                                        windowFirst = first
                                        filled = max(filled, first)
                                    }
                                    while filled < end {
                                        let n = min(Self.chunkRows, needed.upperBound - filled, windowFirst + capacity - filled)
                                        horizontalRows(hk, first: filled, count: n, into: window + (filled - windowFirst) * outRowBytes)
                                        filled += n
                                    }
                                    rs_vertical_u8(vk, Int32(y), Int32(y + 1), window, Int32(windowFirst), outRowBytes,
                                                   out + y * outRowBytes, outRowBytes, outRowBytes, path.kernelPath)
                                }
                            }
                        }
                    } else if let horizontal {
                        horizontal.withKernelCoefficients { k in
                            for first in Swift.stride(from: rows.lowerBound, to: rows.upperBound, by: Self.chunkRows) {
                                let n = min(Self.chunkRows, rows.upperBound - first)
                                horizontalRows(k, first: first, count: n, into: out + first * outRowBytes)
                            }
                        }
                    } else if let vertical {
                        var middle = UnsafePointer(src + needed.lowerBound * inRowBytes)
                        if premultiply {
                            let copy = allocate(needed.count * inRowBytes)
                            rs_premultiply_u8(middle, copy, needed.count * inWidth, channels, path.kernelPath)
                            middle = UnsafePointer(copy)
                        }
                        vertical.withKernelCoefficients { k in
                            rs_vertical_u8(k, Int32(rows.lowerBound), Int32(rows.upperBound),
                                           middle, Int32(needed.lowerBound), outRowBytes,
                                           outStripe, outRowBytes, outRowBytes, path.kernelPath)
                        }
                    }
                    if premultiply {
                        rs_unpremultiply_u8(outStripe, rows.count * width, channels, path.kernelPath)
                    }
                }
            }
        }
    }

    // MARK: Linear light

    private func runLinearLight(stripes: Int) -> PixelBuffer {
        let channels = Int32(source.channels)
        let c = source.channels
        let inWidth = source.width, inHeight = source.height
        let inRowFloats = inWidth * c, outRowFloats = width * c
        let filter = options.filter
        // An axis that keeps its size gets an identity window: exact in float, and one code path.
        let horizontal = FloatCoefficients(width != inWidth
            ? ResampleWindows(filter: filter, inSize: inWidth, outSize: width) : ResampleWindows(identity: width))
        let vertical = FloatCoefficients(height != inHeight
            ? ResampleWindows(filter: filter, inSize: inHeight, outSize: height) : ResampleWindows(identity: height))
        let toLinear = LinearLightTables.toLinear
        let fromLinear = LinearLightTables.fromLinear

        return PixelBuffer(width: width, height: height, layout: source.layout) { output in
            let target = UncheckedSendable(output.baseAddress!.assumingMemoryBound(to: UInt8.self))
            source.bytes.withUnsafeBufferPointer { input in
                let source = UncheckedSendable(input.baseAddress!)
                toLinear.withUnsafeBufferPointer { toTable in
                    fromLinear.withUnsafeBufferPointer { fromTable in
                        let tables = UncheckedSendable((toTable.baseAddress!, fromTable.baseAddress!))
                        Self.forEachStripe(stripes) { s in
                            let out = target.value, src = source.value
                            let (toLUT, fromLUT) = tables.value
                            let rows = stripeRows(s, of: stripes)
                            let needed = Self.inputRows(rows, start: vertical.start, count: vertical.count)
                            let middle = UnsafeMutablePointer<Float>.allocate(capacity: needed.count * outRowFloats)
                            let chunk = UnsafeMutablePointer<Float>.allocate(capacity: Self.chunkRows * inRowFloats)
                            let row = UnsafeMutablePointer<Float>.allocate(capacity: outRowFloats)
                            defer { middle.deallocate(); chunk.deallocate(); row.deallocate() }

                            horizontal.withKernelCoefficients { k in
                                for first in Swift.stride(from: needed.lowerBound, to: needed.upperBound, by: Self.chunkRows) {
                                    let n = min(Self.chunkRows, needed.upperBound - first)
                                    rs_to_linear_f32(src + first * c * inWidth, chunk, n * inWidth, channels, toLUT)
                                    rs_horizontal_f32(k, chunk, inRowFloats, middle + (first - needed.lowerBound) * outRowFloats,
                                                      outRowFloats, Int32(n), channels)
                                }
                            }
                            vertical.withKernelCoefficients { k in
                                for y in rows {
                                    rs_vertical_f32(k, Int32(y), middle, Int32(needed.lowerBound), outRowFloats, row, outRowFloats)
                                    rs_from_linear_f32(row, out + y * outRowFloats, width, channels, fromLUT)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Carries raw pointers into the stripe workers. Sound because every stripe
/// writes a disjoint range of output rows and only reads shared input.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// sRGB <-> linear conversion tables (IEC 61966-2-1 transfer function).
enum LinearLightTables {
    /// sRGB byte -> linear light in [0, 1].
    static let toLinear: [Float] = (0 ..< 256).map { Float(decode(Double($0) / 255)) }

    /// round(linear * 65535) -> sRGB byte; fine enough that the steepest
    /// part of the curve (near black) still rounds to the right byte.
    static let fromLinear: [UInt8] = (0 ... 65535).map { UInt8((encode(Double($0) / 65535) * 255).rounded()) }

    static func decode(_ v: Double) -> Double {
        v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4)
    }

    static func encode(_ v: Double) -> Double {
        v <= 0.0031308 ? v * 12.92 : 1.055 * pow(v, 1 / 2.4) - 0.055
    }
}
