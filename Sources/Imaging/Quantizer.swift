/// A raster as palette indices: what a GIF frame (or any palette format) stores.
struct IndexedImage: Equatable {
    /// RGB triples, `palette.count / 3` entries, at most 256 including the transparent one.
    var palette: [UInt8]
    /// The entry that stands for "transparent" (its colour is black), if any pixel is.
    var transparentIndex: Int?
    /// One index per pixel, row-major.
    var indices: [UInt8]

    var colorCount: Int { palette.count / 3 }
}

/// Turns RGBA pixels into at most `maxColors` palette entries and indices.
///
/// Pixels with alpha below 128 become the transparent entry; the others are
/// treated as opaque (GIF has no partial transparency). When the opaque
/// colours fit, the palette is exact (sorted by value, so the same pixels
/// always give the same palette); otherwise it comes from `MedianCut`.
/// Nothing here is random and every tie is broken by value or position, so
/// the output is a pure function of the input.
enum Quantizer {
    static func index(_ pixels: PixelBuffer, maxColors: Int, dither: Bool) -> IndexedImage {
        let rgba = pixels.converted(to: .rgba)
        let limit = max(2, min(256, maxColors))
        if let exact = exactPalette(rgba, limit: limit) { return exact }

        let histogram = ColorHistogram(rgba)
        let opaqueLimit = histogram.hasTransparency ? limit - 1 : limit
        let colors = MedianCut(histogram, colors: opaqueLimit).palette
        let mapper = NearestColor(palette: colors)
        let transparent = histogram.hasTransparency ? colors.count / 3 : nil
        let indices = dither
            ? mapper.mapDithered(rgba, transparentIndex: transparent ?? 0)
            : mapper.map(rgba, transparentIndex: transparent ?? 0)
        return IndexedImage(palette: colors + (transparent == nil ? [] : [0, 0, 0]),
                            transparentIndex: transparent, indices: indices)
    }

    /// The lossless palette, or nil when there are more colours than fit.
    static func exactPalette(_ rgba: PixelBuffer, limit: Int) -> IndexedImage? {
        var colors = Set<UInt32>()
        var hasTransparency = false
        let fits = rgba.bytes.withUnsafeBufferPointer { p -> Bool in
            var last: UInt32 = .max
            for i in Swift.stride(from: 0, to: p.count, by: 4) {
                if p[i + 3] < 128 { hasTransparency = true; continue }
                let key = UInt32(p[i]) << 16 | UInt32(p[i + 1]) << 8 | UInt32(p[i + 2])
                if key == last { continue }
                last = key
                colors.insert(key)
                if colors.count > limit { return false }
            }
            return true
        }
        guard fits, colors.count + (hasTransparency ? 1 : 0) <= limit else { return nil }

        let sorted = colors.sorted()
        var lookup = [UInt32: UInt8](minimumCapacity: sorted.count)
        var palette: [UInt8] = []
        palette.reserveCapacity(sorted.count * 3 + 3)
        for (i, key) in sorted.enumerated() {
            lookup[key] = UInt8(i)
            palette += [UInt8(key >> 16), UInt8((key >> 8) & 0xFF), UInt8(key & 0xFF)]
        }
        let transparent = hasTransparency ? sorted.count : nil
        if hasTransparency { palette += [0, 0, 0] }
        let indices = rgba.bytes.withUnsafeBufferPointer { p in
            [UInt8](unsafeUninitializedCapacity: rgba.pixelCount) { out, initialized in
                var lastKey: UInt32 = .max
                var lastIndex: UInt8 = 0
                for o in 0 ..< rgba.pixelCount {
                    let i = o * 4
                    if p[i + 3] < 128 { out[o] = UInt8(transparent!); continue }
                    let key = UInt32(p[i]) << 16 | UInt32(p[i + 1]) << 8 | UInt32(p[i + 2])
                    if key != lastKey {
                        lastKey = key
                        lastIndex = lookup[key]!
                    }
                    out[o] = lastIndex
                }
                initialized = rgba.pixelCount
            }
        }
        return IndexedImage(palette: palette, transparentIndex: transparent, indices: indices)
    }
}

/// Opaque pixels counted in a 5-bit-per-channel grid (32768 cells), with the
/// full-precision colour sums of each cell so a palette entry is the true mean
/// of the pixels it stands for, not a cell centre.
struct ColorHistogram {
    static let cells = 1 << 15
    var counts = [Int](repeating: 0, count: cells)
    var sums = [Int](repeating: 0, count: cells * 3)
    var hasTransparency = false

    init(_ rgba: PixelBuffer) {
        var transparent = false
        counts.withUnsafeMutableBufferPointer { counts in
            sums.withUnsafeMutableBufferPointer { sums in
                rgba.bytes.withUnsafeBufferPointer { p in
                    for i in Swift.stride(from: 0, to: p.count, by: 4) {
                        if p[i + 3] < 128 { transparent = true; continue }
                        let r = Int(p[i]), g = Int(p[i + 1]), b = Int(p[i + 2])
                        let cell = ColorHistogram.cell(r, g, b)
                        counts[cell] += 1
                        sums[cell * 3] += r
                        sums[cell * 3 + 1] += g
                        sums[cell * 3 + 2] += b
                    }
                }
            }
        }
        hasTransparency = transparent
    }

    @inline(__always)
    static func cell(_ r: Int, _ g: Int, _ b: Int) -> Int { (r >> 3) << 10 | (g >> 3) << 5 | b >> 3 }

    /// The 5-bit coordinate of `cell` along `channel` (0 red, 1 green, 2 blue).
    @inline(__always)
    static func coordinate(_ cell: Int, _ channel: Int) -> Int { (cell >> (10 - 5 * channel)) & 31 }
}

/// Heckbert's median cut over the histogram's occupied cells.
///
/// Repeatedly takes the box with the largest (pixel count x longest side),
/// so big and spread-out regions get the most entries, and cuts it across its
/// longest side at the pixel median. Cells are ordered by (coordinate, cell
/// number), a total order, so every cut is reproducible.
struct MedianCut {
    private(set) var palette: [UInt8] = []

    private struct Box {
        var range: Range<Int>
        var count: Int
        var lower = [31, 31, 31]
        var upper = [0, 0, 0]

        var longestChannel: Int {
            let sides = (0 ..< 3).map { upper[$0] - lower[$0] }
            return sides.firstIndex(of: sides.max()!)!
        }
        var score: Int { count * (upper[longestChannel] - lower[longestChannel]) }
    }

    init(_ histogram: ColorHistogram, colors: Int) {
        var cells = (0 ..< ColorHistogram.cells).filter { histogram.counts[$0] > 0 }
        guard !cells.isEmpty else { return }
        var boxes = [Self.box(cells.indices, cells, histogram)]
        while boxes.count < colors {
            // The first box with the best score: ties go to the older box.
            var best = -1, bestScore = 0
            for (i, box) in boxes.enumerated() where box.score > bestScore {
                best = i
                bestScore = box.score
            }
            guard best >= 0 else { break }
            let (low, high) = Self.split(boxes[best], &cells, histogram)
            boxes[best] = low
            boxes.append(high)
        }
        for box in boxes {
            var sum = [0, 0, 0]
            for cell in cells[box.range] {
                for c in 0 ..< 3 { sum[c] += histogram.sums[cell * 3 + c] }
            }
            for c in 0 ..< 3 { palette.append(UInt8((sum[c] + box.count / 2) / box.count)) }
        }
    }

    private static func box(_ range: Range<Int>, _ cells: [Int], _ histogram: ColorHistogram) -> Box {
        var box = Box(range: range, count: 0)
        for cell in cells[range] {
            box.count += histogram.counts[cell]
            for c in 0 ..< 3 {
                let v = ColorHistogram.coordinate(cell, c)
                box.lower[c] = min(box.lower[c], v)
                box.upper[c] = max(box.upper[c], v)
            }
        }
        return box
    }

    /// Sorts the box's cells along its longest side and cuts where half the
    /// pixels are on each side, keeping at least one cell in each half.
    private static func split(_ box: Box, _ cells: inout [Int], _ histogram: ColorHistogram) -> (Box, Box) {
        let channel = box.longestChannel
        cells[box.range].sort { a, b in
            let ca = ColorHistogram.coordinate(a, channel), cb = ColorHistogram.coordinate(b, channel)
            return ca != cb ? ca < cb : a < b
        }
        var cut = box.range.lowerBound + 1
        var below = histogram.counts[cells[box.range.lowerBound]]
        while cut < box.range.upperBound - 1, below * 2 < box.count {
            below += histogram.counts[cells[cut]]
            cut += 1
        }
        return (Self.box(box.range.lowerBound ..< cut, cells, histogram), Self.box(cut ..< box.range.upperBound, cells, histogram))
    }
}

/// Maps colours to the closest palette entry (squared RGB distance, ties to the
/// lower index). Answers are cached per 6-bit-per-channel cell, computed for
/// the cell's centre, so each cell is searched once.
struct NearestColor {
    let palette: [UInt8]

    init(palette: [UInt8]) { self.palette = palette }

    func map(_ rgba: PixelBuffer, transparentIndex: Int) -> [UInt8] {
        var cache = [Int16](repeating: -1, count: 1 << 18)
        return rgba.bytes.withUnsafeBufferPointer { p in
            [UInt8](unsafeUninitializedCapacity: rgba.pixelCount) { out, initialized in
                for o in 0 ..< rgba.pixelCount {
                    let i = o * 4
                    out[o] = p[i + 3] < 128
                        ? UInt8(transparentIndex)
                        : lookup(Int(p[i]), Int(p[i + 1]), Int(p[i + 2]), &cache)
                }
                initialized = rgba.pixelCount
            }
        }
    }

    /// Floyd–Steinberg: each pixel's mapping error goes 7/16 right, 3/16 down-left,
    /// 5/16 down and 1/16 down-right. Transparent pixels neither take nor pass on error.
    func mapDithered(_ rgba: PixelBuffer, transparentIndex: Int) -> [UInt8] {
        var cache = [Int16](repeating: -1, count: 1 << 18)
        let width = rgba.width
        var out = [UInt8](repeating: 0, count: rgba.pixelCount)
        // Errors in sixteenths, for this row and the next, with a pixel of margin on each side.
        var current = [Int](repeating: 0, count: (width + 2) * 3)
        var next = current
        rgba.bytes.withUnsafeBufferPointer { p in
            for y in 0 ..< rgba.height {
                for x in 0 ..< width {
                    let i = (y * width + x) * 4
                    if p[i + 3] < 128 {
                        out[y * width + x] = UInt8(transparentIndex)
                        continue
                    }
                    let e = (x + 1) * 3
                    let r = Self.clamp(Int(p[i]) + (current[e] + 8) >> 4)
                    let g = Self.clamp(Int(p[i + 1]) + (current[e + 1] + 8) >> 4)
                    let b = Self.clamp(Int(p[i + 2]) + (current[e + 2] + 8) >> 4)
                    let index = lookup(r, g, b, &cache)
                    out[y * width + x] = index
                    for c in 0 ..< 3 {
                        let want = c == 0 ? r : c == 1 ? g : b
                        let error = want - Int(palette[Int(index) * 3 + c])
                        current[e + 3 + c] += error * 7
                        next[e - 3 + c] += error * 3
                        next[e + c] += error * 5
                        next[e + 3 + c] += error
                    }
                }
                swap(&current, &next)
                for k in next.indices { next[k] = 0 }
            }
        }
        return out
    }

    @inline(__always)
    private static func clamp(_ v: Int) -> Int { max(0, min(255, v)) }

    @inline(__always)
    private func lookup(_ r: Int, _ g: Int, _ b: Int, _ cache: inout [Int16]) -> UInt8 {
        let key = (r >> 2) << 12 | (g >> 2) << 6 | b >> 2
        let cached = cache[key]
        if cached >= 0 { return UInt8(cached) }
        let found = search((r >> 2) << 2 | 2, (g >> 2) << 2 | 2, (b >> 2) << 2 | 2)
        cache[key] = Int16(found)
        return found
    }

    private func search(_ r: Int, _ g: Int, _ b: Int) -> UInt8 {
        var best = 0, bestDistance = Int.max
        for entry in 0 ..< palette.count / 3 {
            let dr = r - Int(palette[entry * 3]), dg = g - Int(palette[entry * 3 + 1]), db = b - Int(palette[entry * 3 + 2])
            let distance = dr * dr + dg * dg + db * db
            if distance < bestDistance {
                best = entry
                bestDistance = distance
            }
        }
        return UInt8(best)
    }
}
