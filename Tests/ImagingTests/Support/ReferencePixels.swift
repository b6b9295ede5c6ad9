import Crypto
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
    rgba.withUnsafeMutableBufferPointer { p in
        var i = 0
        while i < p.count {
            if p[i + 3] == 0 { p[i] = 0; p[i + 1] = 0; p[i + 2] = 0 }
            i &+= 4
        }
    }
    return rgba
}

/// 8x8 block means of canonical RGBA, computed as the reference script does.
func gridMeans(_ rgba: [UInt8], width w: Int, height h: Int) -> [Double] {
    var cells: [Double] = []
    rgba.withUnsafeBufferPointer { p in
        for by in 0 ..< 8 {
            let y0 = min(by * h / 8, h - 1)
            let y1 = max(y0 + 1, (by + 1) * h / 8)
            for bx in 0 ..< 8 {
                let x0 = min(bx * w / 8, w - 1)
                let x1 = max(x0 + 1, (bx + 1) * w / 8)
                var r: UInt64 = 0, g: UInt64 = 0, b: UInt64 = 0, a: UInt64 = 0
                for y in y0 ..< y1 {
                    var i = (y * w + x0) * 4
                    let end = (y * w + x1) * 4
                    while i < end {
                        r &+= UInt64(p[i]); g &+= UInt64(p[i + 1]); b &+= UInt64(p[i + 2]); a &+= UInt64(p[i + 3])
                        i &+= 4
                    }
                }
                let n = Double((y1 - y0) * (x1 - x0))
                cells += [Double(r) / n, Double(g) / n, Double(b) / n, Double(a) / n]
            }
        }
    }
    return cells
}

/// SHA-256 of the concatenated chunks, as lowercase hex (Python's hashlib.hexdigest()).
func sha256Hex(_ chunks: [[UInt8]]) -> String {
    var hasher = SHA256()
    for chunk in chunks { hasher.update(data: chunk) }
    return hasher.finalize().map { byte in
        let hex = String(byte, radix: 16)
        return byte < 16 ? "0" + hex : hex
    }.joined()
}
