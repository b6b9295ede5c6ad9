import Foundation

/// CIEDE2000 colour difference between 8-bit sRGB pixels (D65, 2° observer),
/// after Sharma, Wu and Dalal's formulation; used to hold colour conversions
/// to libvips' references.
enum DeltaE2000 {
    struct Lab { var l, a, b: Double }

    static func lab(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Lab {
        func linear(_ v: UInt8) -> Double {
            let c = Double(v) / 255
            return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
        }
        let (lr, lg, lb) = (linear(r), linear(g), linear(b))
        let x = (0.4124564 * lr + 0.3575761 * lg + 0.1804375 * lb) / 0.95047
        let y = 0.2126729 * lr + 0.7151522 * lg + 0.0721750 * lb
        let z = (0.0193339 * lr + 0.1191920 * lg + 0.9503041 * lb) / 1.08883
        func f(_ t: Double) -> Double { t > 216.0 / 24389 ? cbrt(t) : (24389.0 / 27 * t + 16) / 116 }
        return Lab(l: 116 * f(y) - 16, a: 500 * (f(x) - f(y)), b: 200 * (f(y) - f(z)))
    }

    static func difference(_ p: Lab, _ q: Lab) -> Double {
        let c1 = hypot(p.a, p.b), c2 = hypot(q.a, q.b)
        let cMean = (c1 + c2) / 2
        let g = 0.5 * (1 - sqrt(pow(cMean, 7) / (pow(cMean, 7) + pow(25, 7))))
        let a1 = (1 + g) * p.a, a2 = (1 + g) * q.a
        let c1p = hypot(a1, p.b), c2p = hypot(a2, q.b)
        func hue(_ b: Double, _ a: Double) -> Double {
            if a == 0 && b == 0 { return 0 }
            let h = atan2(b, a) * 180 / .pi
            return h < 0 ? h + 360 : h
        }
        let h1 = hue(p.b, a1), h2 = hue(q.b, a2)
        let dL = q.l - p.l, dC = c2p - c1p
        var dh = 0.0
        if c1p * c2p != 0 {
            dh = h2 - h1
            if dh > 180 { dh -= 360 } else if dh < -180 { dh += 360 }
        }
        let dH = 2 * sqrt(c1p * c2p) * sin(dh * .pi / 360)
        let lMean = (p.l + q.l) / 2, cpMean = (c1p + c2p) / 2
        var hMean = h1 + h2
        if c1p * c2p != 0 {
            if abs(h1 - h2) > 180 { hMean += hMean < 360 ? 360 : -360 }
            hMean /= 2
        }
        let t = 1 - 0.17 * cos((hMean - 30) * .pi / 180) + 0.24 * cos(2 * hMean * .pi / 180)
            + 0.32 * cos((3 * hMean + 6) * .pi / 180) - 0.20 * cos((4 * hMean - 63) * .pi / 180)
        let sL = 1 + 0.015 * pow(lMean - 50, 2) / sqrt(20 + pow(lMean - 50, 2))
        let sC = 1 + 0.045 * cpMean
        let sH = 1 + 0.015 * cpMean * t
        let dTheta = 30 * exp(-pow((hMean - 275) / 25, 2))
        let rC = 2 * sqrt(pow(cpMean, 7) / (pow(cpMean, 7) + pow(25, 7)))
        let rT = -sin(2 * dTheta * .pi / 180) * rC
        return sqrt(pow(dL / sL, 2) + pow(dC / sC, 2) + pow(dH / sH, 2) + rT * (dC / sC) * (dH / sH))
    }

    /// Mean and 99th percentile over two rasters of the same size (gray counts as R = G = B; alpha ignored).
    static func stats(_ x: PixelBufferSamples, _ y: PixelBufferSamples) -> (mean: Double, p99: Double) {
        precondition(x.count == y.count)
        var values = (0 ..< x.count).map { i in difference(lab(x[i].0, x[i].1, x[i].2), lab(y[i].0, y[i].1, y[i].2)) }
        values.sort()
        let mean = values.reduce(0, +) / Double(values.count)
        return (mean, values[min(values.count - 1, Int(Double(values.count) * 0.99))])
    }
}

import Imaging

/// A raster's pixels as RGB triples, whatever its layout.
struct PixelBufferSamples {
    let pixels: PixelBuffer
    var count: Int { pixels.pixelCount }
    subscript(i: Int) -> (UInt8, UInt8, UInt8) {
        let c = pixels.channels, s = pixels.bytes
        return pixels.layout.isGray ? (s[i * c], s[i * c], s[i * c]) : (s[i * c], s[i * c + 1], s[i * c + 2])
    }
}
