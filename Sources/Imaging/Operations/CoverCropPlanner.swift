import Foundation

/// Places a cover crop's box in one frame according to a `CropStrategy`.
///
/// The box has a fixed size and can only slide along one axis (it spans the
/// frame's full width or full height), so every strategy reduces to one
/// position on that axis. The automatic ones (attention, entropy) judge a small
/// area-averaged copy of the frame (`AnalysisGrid`), never the full pixels, so
/// their cost is one pass over the frame plus work on at most 128x128 cells.
struct CoverCropPlanner {
    let pixels: PixelBuffer
    let boxWidth: Int
    let boxHeight: Int

    /// An automatic strategy keeps the centred box unless the best position
    /// beats it by more than this share of the frame's total saliency: a box is
    /// only moved for a clear reason, never for noise.
    static let attentionMargin = 0.02
    /// The same for entropy, in bits.
    static let entropyMargin = 0.05

    func place(_ strategy: CropStrategy) throws(ImagingError) -> CoverCrop {
        let size = PixelSize(width: pixels.width, height: pixels.height)
        let centred = CropBox(x: (size.width - boxWidth) / 2, y: (size.height - boxHeight) / 2, width: boxWidth, height: boxHeight)
        var box = centred
        if case let .focus(x, y) = strategy {
            guard (0 ..< size.width).contains(x), (0 ..< size.height).contains(y) else {
                throw ImagingError(.invalidArgument, "crop focus (\(x), \(y)) is outside the \(size) image")
            }
        }
        if boxWidth < size.width {
            box.x = position(strategy, length: size.width, window: boxWidth, horizontal: true)
        } else if boxHeight < size.height {
            box.y = position(strategy, length: size.height, window: boxHeight, horizontal: false)
        }
        return CoverCrop(strategy: strategy, box: box, centred: centred, source: size)
    }

    /// The start of the box along the free axis.
    private func position(_ strategy: CropStrategy, length: Int, window: Int, horizontal: Bool) -> Int {
        let last = length - window
        let middle = last / 2
        switch strategy {
        case .centre:
            return middle
        case let .gravity(side):
            let direction = horizontal ? side.horizontal : side.vertical
            return direction < 0 ? 0 : direction > 0 ? last : middle
        case let .focus(x, y):
            return min(last, max(0, (horizontal ? x : y) - window / 2))
        case .attention:
            let grid = AnalysisGrid(pixels)
            let profile = grid.saliencyProfile(alongX: horizontal)
            return SaliencyWindow(profile: profile, length: length, window: window).bestStart(margin: Self.attentionMargin)
        case .entropy:
            let grid = AnalysisGrid(pixels)
            return EntropyWindow(grid: grid, alongX: horizontal, length: length, window: window).bestStart(margin: Self.entropyMargin)
        }
    }
}

/// A frame shrunk by area averaging to at most `maxSide` cells on its longer
/// side, as mean colour (of the visible part), mean opacity and texture per cell.
/// Integer sums, so the same pixels always give the same cells.
struct AnalysisGrid {
    static let maxSide = 128

    let width: Int
    let height: Int
    /// Per cell, 0...255.
    private(set) var red: [Double]
    private(set) var green: [Double]
    private(set) var blue: [Double]
    /// Per cell, 0...1.
    private(set) var opacity: [Double]
    /// Per cell: the mean luma step between full-resolution neighbours
    /// (0...510), measured before averaging, which would blur fine texture away.
    private(set) var texture: [Double]

    init(_ pixels: PixelBuffer) {
        let (w, h) = (pixels.width, pixels.height)
        let long = max(w, h)
        func cells(_ side: Int) -> Int { long <= Self.maxSide ? side : max(1, (side * Self.maxSide + long / 2) / long) }
        let (width, height) = (cells(w), cells(h))
        self.width = width
        self.height = height
        let columnCell = (0 ..< w).map { $0 * width / w }
        let count = width * height
        // Per cell: sums of r*a, g*a, b*a, a, and of the luma steps to the left
        // and upper neighbours (premultiplied luma, so transparency has no texture).
        var sums = [UInt64](repeating: 0, count: count * 5)
        let offsets: (r: Int, g: Int, b: Int, a: Int) = switch pixels.layout {
        case .gray: (0, 0, 0, -1)
        case .grayAlpha: (0, 0, 0, 1)
        case .rgb: (0, 1, 2, -1)
        case .rgba: (0, 1, 2, 3)
        }
        let channels = pixels.channels
        var previousRow = [Int](repeating: 0, count: w)
        pixels.bytes.withUnsafeBufferPointer { src in
            sums.withUnsafeMutableBufferPointer { acc in
                previousRow.withUnsafeMutableBufferPointer { above in
                    for y in 0 ..< h {
                        let rowCell = (y * height / h) * width
                        let rowStart = y * w * channels
                        var left = 0
                        for x in 0 ..< w {
                            let p = rowStart + x * channels
                            let a = offsets.a < 0 ? 255 : Int(src[p + offsets.a])
                            let (r, g, b) = (Int(src[p + offsets.r]), Int(src[p + offsets.g]), Int(src[p + offsets.b]))
                            let luma = ((77 * r + 150 * g + 29 * b) >> 8) * a / 255
                            let step = (x > 0 ? abs(luma - left) : 0) + (y > 0 ? abs(luma - above[x]) : 0)
                            left = luma
                            above[x] = luma
                            let c = (rowCell + columnCell[x]) * 5
                            acc[c] += UInt64(r * a)
                            acc[c + 1] += UInt64(g * a)
                            acc[c + 2] += UInt64(b * a)
                            acc[c + 3] += UInt64(a)
                            acc[c + 4] += UInt64(step)
                        }
                    }
                }
            }
        }
        var columnCounts = [Int](repeating: 0, count: width), rowCounts = [Int](repeating: 0, count: height)
        for x in 0 ..< w { columnCounts[columnCell[x]] += 1 }
        for y in 0 ..< h { rowCounts[y * height / h] += 1 }
        var red = [Double](repeating: 0, count: count)
        var green = red, blue = red, opacity = red, texture = red
        for cell in 0 ..< count {
            let alpha = sums[cell * 5 + 3]
            guard alpha > 0 else { continue }
            let area = Double(max(1, rowCounts[cell / width] * columnCounts[cell % width]))
            red[cell] = Double(sums[cell * 5]) / Double(alpha)
            green[cell] = Double(sums[cell * 5 + 1]) / Double(alpha)
            blue[cell] = Double(sums[cell * 5 + 2]) / Double(alpha)
            opacity[cell] = Double(alpha) / (255 * area)
            texture[cell] = Double(sums[cell * 5 + 4]) / area
        }
        (self.red, self.green, self.blue, self.opacity, self.texture) = (red, green, blue, opacity, texture)
    }

    /// Rec. 601 luma, 0...255, per cell.
    var luma: [Double] {
        (0 ..< red.count).map { 0.299 * red[$0] + 0.587 * green[$0] + 0.114 * blue[$0] }
    }

    /// Attention per cell: detail (full-resolution texture plus a Laplacian
    /// of the cells' luma for larger edges), skin tones and
    /// saturated colour, weighted as smartcrop.js (which sharp's and libvips'
    /// attention follow) weighs them, and scaled by opacity so transparent
    /// areas never attract the box.
    func saliency() -> [Double] {
        let y = luma
        var result = [Double](repeating: 0, count: y.count)
        for row in 0 ..< height {
            for column in 0 ..< width {
                let i = row * width + column
                let left = y[row * width + max(0, column - 1)], right = y[row * width + min(width - 1, column + 1)]
                let up = y[max(0, row - 1) * width + column], down = y[min(height - 1, row + 1) * width + column]
                let detail = min(255, 3 * texture[i] + abs(4 * y[i] - left - right - up - down))
                let score = 0.2 * detail + 1.8 * Self.skin(red[i], green[i], blue[i], luma: y[i])
                    + 0.3 * Self.saturation(red[i], green[i], blue[i])
                result[i] = score * opacity[i]
            }
        }
        return result
    }

    /// Saliency summed across the fixed axis: one value per cell column (alongX)
    /// or row. A cell counts only by how far it stands above twice the frame's
    /// mean, so a background that is busy or colourful all over (grass, bark)
    /// does not outweigh the one thing that stands out of it (the ladybird).
    func saliencyProfile(alongX: Bool) -> [Double] {
        let map = saliency()
        let floor = 2 * map.reduce(0, +) / Double(max(1, map.count))
        var profile = [Double](repeating: 0, count: alongX ? width : height)
        for row in 0 ..< height {
            for column in 0 ..< width { profile[alongX ? column : row] += max(0, map[row * width + column] - floor) }
        }
        return profile
    }

    /// The unit direction of typical skin colour in RGB (smartcrop.js's
    /// (0.78, 0.57, 0.44), normalised).
    private static let skinDirection: (Double, Double, Double) = {
        let (r, g, b) = (0.78, 0.57, 0.44)
        let length = (r * r + g * g + b * b).squareRoot()
        return (r / length, g / length, b / length)
    }()

    /// 0...255: how close the colour's direction is to skin's, for colours
    /// neither too dark nor blown out.
    static func skin(_ r: Double, _ g: Double, _ b: Double, luma: Double) -> Double {
        let length = (r * r + g * g + b * b).squareRoot()
        guard length > 0, (0.2 * 255 ... 0.97 * 255).contains(luma) else { return 0 }
        let (sr, sg, sb) = skinDirection
        let (dr, dg, db) = (r / length - sr, g / length - sg, b / length - sb)
        let distance = (dr * dr + dg * dg + db * db).squareRoot()
        // Grey lies 0.23 away, light skin about 0.04, darker skin tones up to about 0.15.
        let threshold = 0.18
        return distance < threshold ? (threshold - distance) / threshold * 255 : 0
    }

    /// 0...255: HSL saturation above 0.4, for colours neither near black nor near white.
    static func saturation(_ r: Double, _ g: Double, _ b: Double) -> Double {
        let high = max(r, g, b) / 255, low = min(r, g, b) / 255
        let lightness = (high + low) / 2
        guard high > low, (0.05 ... 0.9).contains(lightness) else { return 0 }
        let s = (high - low) / (1 - abs(2 * lightness - 1))
        return s > 0.4 ? (s - 0.4) / 0.6 * 255 : 0
    }
}

/// The window position along one axis that holds the most of an additive
/// score given per grid cell (cells spread evenly over `length` pixels).
struct SaliencyWindow {
    let profile: [Double]
    /// Pixels along the axis, and the window's length in pixels.
    let length: Int
    let window: Int

    func bestStart(margin: Double) -> Int {
        var prefix = [0.0]
        for value in profile { prefix.append(prefix.last! + value) }
        let total = prefix.last!
        let cells = Double(profile.count)
        // Mass in [0, t): whole cells, then the covered part of the next one.
        func mass(_ t: Int) -> Double {
            let u = Double(t) * cells / Double(length)
            let whole = min(profile.count, Int(u))
            return prefix[whole] + (whole < profile.count ? (u - Double(whole)) * profile[whole] : 0)
        }
        let scores = (0 ... length - window).map { mass($0 + window) - mass($0) }
        return WindowChoice(scores: scores, centre: (length - window) / 2, margin: margin * total, tolerance: 1e-3 * total).start
    }
}

/// The window position along one axis whose cells' luma histogram has the
/// highest Shannon entropy. Non-additive, so it is evaluated per whole-cell
/// window and mapped back to pixels.
struct EntropyWindow {
    let grid: AnalysisGrid
    let alongX: Bool
    let length: Int
    let window: Int

    static let bins = 32

    func bestStart(margin: Double) -> Int {
        let luma = grid.luma
        let cells = alongX ? grid.width : grid.height
        let across = alongX ? grid.height : grid.width
        let span = min(cells, max(1, Int((Double(window) * Double(cells) / Double(length)).rounded())))
        // Histogram (opacity-weighted) of each cell line along the axis.
        var lines = [[Double]](repeating: [Double](repeating: 0, count: Self.bins), count: cells)
        for line in 0 ..< cells {
            for other in 0 ..< across {
                let i = alongX ? other * grid.width + line : line * grid.width + other
                lines[line][min(Self.bins - 1, Int(luma[i]) * Self.bins / 256)] += grid.opacity[i]
            }
        }
        var histogram = [Double](repeating: 0, count: Self.bins)
        for line in 0 ..< span { for bin in 0 ..< Self.bins { histogram[bin] += lines[line][bin] } }
        var entropies = [Self.entropy(histogram)]
        for start in stride(from: 1, through: cells - span, by: 1) {
            for bin in 0 ..< Self.bins { histogram[bin] += lines[start + span - 1][bin] - lines[start - 1][bin] }
            entropies.append(Self.entropy(histogram))
        }
        // Each pixel start is judged by the cell window it falls on.
        let last = length - window
        let scores = (0 ... last).map { start in
            entropies[min(entropies.count - 1, Int((Double(start) * Double(cells) / Double(length)).rounded()))]
        }
        return WindowChoice(scores: scores, centre: last / 2, margin: margin, tolerance: 1e-9).start
    }

    static func entropy(_ histogram: [Double]) -> Double {
        let total = histogram.reduce(0, +)
        guard total > 0 else { return 0 }
        return histogram.reduce(0) { sum, count in
            guard count > 0 else { return sum }
            let p = count / total
            return sum - p * log2(p)
        }
    }
}

/// Picks a window start from a score per start: the centre unless the best
/// beats it by more than `margin`; otherwise the middle of the run of starts
/// (within `tolerance` of the best) around the first best one, so a subject
/// smaller than the window ends up in the middle of it rather than at an edge.
struct WindowChoice {
    let scores: [Double]
    let centre: Int
    let margin: Double
    let tolerance: Double

    var start: Int {
        guard let best = scores.indices.max(by: { scores[$0] < scores[$1] }) else { return centre }
        if scores[best] - scores[centre] <= margin { return centre }
        let floor = scores[best] - tolerance
        var low = best, high = best
        while low > 0, scores[low - 1] >= floor { low -= 1 }
        while high < scores.count - 1, scores[high + 1] >= floor { high += 1 }
        return (low + high) / 2
    }
}
