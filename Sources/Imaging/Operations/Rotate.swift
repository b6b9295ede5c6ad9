import CGeometry
import CResample
import Foundation

/// How `PixelBuffer.rotated(degrees:options:)` fills and computes.
public struct RotateOptions: Sendable, Equatable {
    /// What an arbitrary angle uncovers in layouts without alpha (gray
    /// layouts use its Rec. 601 luma). Layouts with alpha get transparency.
    public var background: RGBColor
    /// Give an opaque source an alpha channel (rgb -> rgba, gray -> gray+alpha)
    /// so what an arbitrary angle uncovers is transparent rather than
    /// `background`: for outputs whose format has alpha (PNG, GIF). Right
    /// angles uncover nothing and keep the layout.
    public var addingAlpha: Bool
    /// Worker threads, each producing a horizontal stripe of the output;
    /// nil uses every active processor. Any count gives the same pixels.
    public var threads: Int?
    /// Kernel implementation (the same choice as resizing); every path gives the same pixels.
    public var path: KernelPath

    public init(background: RGBColor = .white, addingAlpha: Bool = false, threads: Int? = nil, path: KernelPath = .automatic) {
        self.background = background
        self.addingAlpha = addingAlpha
        self.threads = threads
        self.path = path
    }
}

extension PixelBuffer {
    /// The image turned clockwise (as the API's `rotate` action) by `degrees`.
    ///
    /// Multiples of 90 degrees move pixels exactly (same size or sides
    /// swapped). Other angles enlarge the canvas to the rotated image's
    /// bounding box (see `rotatedSize`) and interpolate with Catmull-Rom
    /// bicubic, treating samples outside the source as transparent (layouts
    /// with alpha, interpolated premultiplied) or as `options.background`, so
    /// the image's edges are antialiased. A non-finite angle or an empty image
    /// is `invalidArgument`.
    public func rotated(degrees: Double, options: RotateOptions = .init()) throws(ImagingError) -> PixelBuffer {
        let (turn, path) = try rotationPlan(degrees: degrees, options: options)
        switch turn {
        case 0: return self
        case 90: return try applyingOrientation(6, threads: options.threads, path: path)
        case 180: return try applyingOrientation(3, threads: options.threads, path: path)
        case 270: return try applyingOrientation(8, threads: options.threads, path: path)
        default: return BicubicRotation(source: self, degrees: turn, options: options, path: path).run()
        }
    }

    /// Rotates this buffer as `rotated(degrees:options:)` does (the same
    /// pixels and errors), in its own storage where the move allows it: a
    /// half turn swaps pixels in place (`turnHalfInPlace`), so a uniquely held
    /// buffer (a decoder's output that nothing else holds) needs no second
    /// image-sized buffer and pays no page faults or kernel page zeroing for
    /// one; 0 degrees leaves it alone. Other angles replace the buffer with
    /// the rotated one. A buffer shared with another value is copied first
    /// (copy-on-write), and the other value keeps its pixels.
    public mutating func rotate(degrees: Double, options: RotateOptions = .init()) throws(ImagingError) {
        let (turn, path) = try rotationPlan(degrees: degrees, options: options)
        switch turn {
        case 0: return
        case 180: try turnHalfInPlace(threads: options.threads, path: path)
        default: self = try rotated(degrees: turn, options: options)
        }
    }

    /// The checks every rotation makes, then the angle in [0, 360) and the concrete kernel path.
    private func rotationPlan(degrees: Double, options: RotateOptions) throws(ImagingError) -> (Double, KernelPath) {
        guard degrees.isFinite else {
            throw ImagingError(.invalidArgument, "rotation angle \(degrees) is not a finite number")
        }
        guard width > 0, height > 0 else {
            throw ImagingError(.invalidArgument, "cannot rotate an empty \(width)x\(height) image")
        }
        return (Self.normalizedDegrees(degrees), try options.path.resolved())
    }

    /// `rotated(degrees:)` with default options, optionally adding alpha so the
    /// uncovered corners are transparent (see `RotateOptions.addingAlpha`).
    public func rotated(degrees: Double, addingAlpha: Bool) throws(ImagingError) -> PixelBuffer {
        try rotated(degrees: degrees, options: RotateOptions(addingAlpha: addingAlpha))
    }

    /// The size of a `width` x `height` image rotated by `degrees`: the same
    /// size or swapped sides for multiples of 90, otherwise the bounding box
    /// ceil(w |cos| + h |sin|) x ceil(w |sin| + h |cos|).
    public static func rotatedSize(width: Int, height: Int, degrees: Double) -> (width: Int, height: Int) {
        let turn = normalizedDegrees(degrees)
        switch turn {
        case 0, 180: return (width, height)
        case 90, 270: return (height, width)
        default:
            let radians = turn * .pi / 180
            let c = abs(cos(radians)), s = abs(sin(radians))
            let w = Double(width), h = Double(height)
            // The tolerance keeps float noise (cos 90 is 6e-17, not 0) from adding a column.
            func side(_ v: Double) -> Int { max(1, Int((v - 1e-7).rounded(.up))) }
            return (side(w * c + h * s), side(w * s + h * c))
        }
    }

    /// The angle in [0, 360).
    static func normalizedDegrees(_ degrees: Double) -> Double {
        var turn = degrees.truncatingRemainder(dividingBy: 360)
        if turn < 0 { turn += 360 }
        return turn == 360 ? 0 : turn
    }
}

extension Image {
    /// Rotates every frame the same way (animations keep their timing).
    public func rotated(degrees: Double, options: RotateOptions = .init()) throws(ImagingError) -> Image {
        var result = self
        for index in frames.indices {
            result.frames[index].pixels = try frames[index].pixels.rotated(degrees: degrees, options: options)
        }
        return result
    }

    /// Rotates every frame as `rotated(degrees:options:)` does, in each
    /// frame's own storage where `PixelBuffer.rotate(degrees:options:)` can
    /// (a half turn of a uniquely held image needs no second buffer).
    public mutating func rotate(degrees: Double, options: RotateOptions = .init()) throws(ImagingError) {
        // Every frame has the size and layout of the first, so what fails fails there, before any frame changed.
        for index in frames.indices {
            try frames[index].pixels.rotate(degrees: degrees, options: options)
        }
    }
}

/// A rotation by an angle that is not a multiple of 90 degrees: plans the
/// inverse mapping and the edge colour, then warps stripes of output rows in parallel.
struct BicubicRotation {
    let source: PixelBuffer
    let degrees: Double
    let options: RotateOptions
    let path: KernelPath

    /// Catmull-Rom weights per 1/1024 pixel, shared by every rotation.
    static let weights: [Int16] = {
        var table = [Int16](repeating: 0, count: Int(GEO_SUBPIXELS) * 4)
        table.withUnsafeMutableBufferPointer { geo_bicubic_table($0.baseAddress!) }
        return table
    }()

    func run() -> PixelBuffer {
        let input = interpolatedSource()
        let layout = input.layout
        let size = PixelBuffer.rotatedSize(width: source.width, height: source.height, degrees: degrees)
        var map = mapping(outWidth: size.width, outHeight: size.height)
        let background = edgePixel(layout)
        let c = layout.channels
        let kernel = path.kernelPath
        return PixelBuffer(width: size.width, height: size.height, layout: layout) { out in
            let target = UncheckedSendable(out.baseAddress!.assumingMemoryBound(to: UInt8.self))
            input.bytes.withUnsafeBufferPointer { src in
                Self.weights.withUnsafeBufferPointer { table in
                    background.withUnsafeBufferPointer { bg in
                        withUnsafePointer(to: &map) { m in
                            let shared = UncheckedSendable((src.baseAddress!, table.baseAddress!, bg.baseAddress!, m))
                            OutputStripes(rows: size.height, threads: options.threads).run { rows in
                                let (s, t, b, m) = shared.value
                                let dst = target.value
                                geo_warp_bicubic_u8(s, Int32(input.width), Int32(input.height), Int32(c), dst,
                                                    Int32(size.width), Int32(rows.lowerBound), Int32(rows.upperBound),
                                                    m, t, b, kernel)
                                if layout.hasAlpha {
                                    rs_unpremultiply_u8(dst + rows.lowerBound * size.width * c, rows.count * size.width, Int32(c), kernel)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The source as the kernel reads it: with alpha added if asked for, and
    /// premultiplied when it has alpha, so colour and transparency blend
    /// together (no dark fringe where the image meets the transparent outside).
    private func interpolatedSource() -> PixelBuffer {
        if !source.layout.hasAlpha {
            // Opaque alpha: premultiplying changes nothing.
            return options.addingAlpha ? source.converted(to: source.layout.withAlpha) : source
        }
        if source.isOpaque { return source }
        let c = source.channels
        return PixelBuffer(width: source.width, height: source.height, layout: source.layout) { out in
            source.bytes.withUnsafeBufferPointer { s in
                rs_premultiply_u8(s.baseAddress!, out.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                  source.pixelCount, Int32(c), path.kernelPath)
            }
        }
    }

    /// What taps outside the source read: transparent (premultiplied zero)
    /// with alpha, else the background colour.
    private func edgePixel(_ layout: PixelLayout) -> [UInt8] {
        let bg = options.background
        switch layout {
        case .grayAlpha, .rgba: return [UInt8](repeating: 0, count: layout.channels)
        case .gray: return [PixelBuffer.luma(bg.red, bg.green, bg.blue)]
        case .rgb: return [bg.red, bg.green, bg.blue]
        }
    }

    /// Output pixel (x, y) -> source position, centre to centre: the output
    /// centre maps to the source centre, and a clockwise turn on screen
    /// (y pointing down) is undone by turning the offset back.
    private func mapping(outWidth: Int, outHeight: Int) -> geo_affine {
        let radians = degrees * .pi / 180
        let c = cos(radians), s = sin(radians)
        let inCentreX = Double(source.width - 1) / 2, inCentreY = Double(source.height - 1) / 2
        let outCentreX = Double(outWidth - 1) / 2, outCentreY = Double(outHeight - 1) / 2
        // sx = inCentreX + (x - outCentreX) c + (y - outCentreY) s
        // sy = inCentreY - (x - outCentreX) s + (y - outCentreY) c
        func fixed(_ v: Double) -> Int64 { Int64((v * 4_294_967_296).rounded()) }
        return geo_affine(
            origin_x: fixed(inCentreX - outCentreX * c - outCentreY * s),
            origin_y: fixed(inCentreY + outCentreX * s - outCentreY * c),
            step_x_x: fixed(c), step_x_y: fixed(s),
            step_y_x: fixed(-s), step_y_y: fixed(c)
        )
    }
}
