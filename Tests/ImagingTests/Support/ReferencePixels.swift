import Foundation
@testable import Imaging

/// Digests of the pixels a second decoder produced for each valid corpus file
/// (Reference/pixels.tsv, written by scripts/make-reference-pixels.py).
struct ReferencePixels {
    struct Row {
        var path: String
        var decoder: String
        var frames: Int
        var width: Int
        var height: Int
        var sha256First: String
        var sha256All: String
        /// 8x8 blocks x RGBA means of the first frame, row-major.
        var grid: [Double]
    }

    let rows: [Row]

    static func load() throws -> ReferencePixels {
        guard let url = Bundle.module.url(forResource: "pixels", withExtension: "tsv", subdirectory: "Reference") else {
            throw CocoaError(.fileNoSuchFile)
        }
        let text = try String(contentsOf: url, encoding: .utf8)
        let rows = text.split(separator: "\n").dropFirst().compactMap { line -> Row? in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 8, let frames = Int(f[2]), let w = Int(f[3]), let h = Int(f[4]) else { return nil }
            return Row(path: f[0], decoder: f[1], frames: frames, width: w, height: h, sha256First: f[5], sha256All: f[6],
                       grid: f[7].split(separator: ",").compactMap { Double($0) })
        }
        return ReferencePixels(rows: rows)
    }

    func row(_ path: String, decoder: String) -> Row? {
        rows.first { $0.path == path && $0.decoder == decoder }
    }
}

/// The same normalisation the reference script applies: 8-bit RGBA, colour of
/// fully transparent pixels set to 0.
func canonicalRGBA(_ pixels: PixelBuffer) -> [UInt8] {
    var rgba = pixels.converted(to: .rgba).bytes
    var i = 0
    while i < rgba.count {
        if rgba[i + 3] == 0 { rgba[i] = 0; rgba[i + 1] = 0; rgba[i + 2] = 0 }
        i += 4
    }
    return rgba
}

/// 8x8 block means of canonical RGBA, computed as the reference script does.
func gridMeans(_ rgba: [UInt8], width w: Int, height h: Int) -> [Double] {
    var cells: [Double] = []
    for by in 0 ..< 8 {
        let y0 = min(by * h / 8, h - 1)
        let y1 = max(y0 + 1, (by + 1) * h / 8)
        for bx in 0 ..< 8 {
            let x0 = min(bx * w / 8, w - 1)
            let x1 = max(x0 + 1, (bx + 1) * w / 8)
            var sums = [Double](repeating: 0, count: 4)
            for y in y0 ..< y1 {
                for x in x0 ..< x1 {
                    for c in 0 ..< 4 { sums[c] += Double(rgba[(y * w + x) * 4 + c]) }
                }
            }
            let n = Double((y1 - y0) * (x1 - x0))
            cells += sums.map { $0 / n }
        }
    }
    return cells
}
