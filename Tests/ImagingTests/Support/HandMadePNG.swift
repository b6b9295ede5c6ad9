/// PNG files written byte by byte, so a test chooses each row's filter type and
/// can break exactly one thing (a CRC, the Adler-32, the chunk order). The image
/// data is deflated as stored blocks: no compressor is needed, and the zlib
/// stream is still one a real inflater must walk.
struct HandMadePNG {
    /// PNG colour types with 8-bit samples: 0 gray, 4 gray+alpha, 2 RGB, 6 RGBA.
    static func colorType(channels: Int) -> UInt8 { [0, 0, 4, 2, 6][channels] }

    var width: Int
    var height: Int
    /// PNG colour type and bit depth, as stored.
    var colorType: UInt8
    var bitDepth: Int
    /// The unfiltered stored rows, one after the other: 8-bit samples, 16-bit
    /// ones big-endian, or 1/2/4-bit samples packed from the high bit.
    var pixels: [UInt8]
    /// The filter type of each row (0 None ... 4 Paeth).
    var filters: [UInt8]
    /// Chunks written between IHDR and the image data (PLTE, tRNS...).
    var chunksBeforeImageData: [(type: String, body: [UInt8])] = []

    static func storedChannels(colorType: UInt8) -> Int { [1, 0, 3, 1, 2, 0, 4][Int(colorType)] }
    /// The bytes of one stored row.
    var rowBytes: Int { (width * Self.storedChannels(colorType: colorType) * bitDepth + 7) / 8 }
    /// What the filters take as "the pixel to the left": a pixel's bytes, at least one.
    var filterUnit: Int { max(1, Self.storedChannels(colorType: colorType) * bitDepth / 8) }

    /// The zlib header's first byte: 0x78 declares a 32 KB window.
    var zlibCMF: UInt8 = 0x78
    /// How many IDAT chunks the zlib stream is cut into.
    var idatChunks = 1
    /// Chunks written after the image data and before IEND.
    var chunksAfterImageData: [(type: String, body: [UInt8])] = []
    /// A chunk written between the first and the second IDAT (needs idatChunks >= 2).
    var chunkBetweenIDATs: (type: String, body: [UInt8])?
    /// Bytes appended to the zlib stream inside the IDAT data.
    var bytesAfterZlibStream: [UInt8] = []
    var breakAdler32 = false
    var breakIDATCRC = false
    var leaveOutIEND = false

    /// 8-bit gray, gray+alpha, RGB or RGBA (1 to 4 channels).
    init(width: Int, height: Int, channels: Int, pixels: [UInt8], filters: [UInt8]) {
        self.init(width: width, height: height, colorType: Self.colorType(channels: channels), bitDepth: 8,
                  pixels: pixels, filters: filters)
    }

    init(width: Int, height: Int, colorType: UInt8, bitDepth: Int, pixels: [UInt8], filters: [UInt8]) {
        self.width = width
        self.height = height
        self.colorType = colorType
        self.bitDepth = bitDepth
        self.pixels = pixels
        self.filters = filters
    }

    /// The rows filtered as `filters` says, each behind its filter byte.
    func filteredRows() -> [UInt8] {
        let rowBytes = self.rowBytes, unit = filterUnit
        var out: [UInt8] = []
        out.reserveCapacity((rowBytes + 1) * height)
        for y in 0..<height {
            let filter = filters[y]
            out.append(filter)
            for x in 0..<rowBytes {
                let value = Int(pixels[y * rowBytes + x])
                let left = x >= unit ? Int(pixels[y * rowBytes + x - unit]) : 0
                let up = y > 0 ? Int(pixels[(y - 1) * rowBytes + x]) : 0
                let upLeft = (x >= unit && y > 0) ? Int(pixels[(y - 1) * rowBytes + x - unit]) : 0
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = left
                case 2: predicted = up
                case 3: predicted = (left + up) / 2
                case 4: predicted = Self.paeth(left, up, upLeft)
                default: predicted = 0 // an invalid filter type: the bytes are whatever
                }
                out.append(UInt8(truncatingIfNeeded: value - predicted))
            }
        }
        return out
    }

    static func paeth(_ a: Int, _ b: Int, _ c: Int) -> Int {
        let p = a + b - c
        let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }

    func bytes() -> [UInt8] {
        let raw = filteredRows()
        var zlib: [UInt8] = [zlibCMF, Self.zlibFLG(for: zlibCMF)]
        var offset = 0
        repeat {
            let count = min(65_535, raw.count - offset)
            let last: UInt8 = offset + count == raw.count ? 1 : 0
            zlib += [last, UInt8(count & 0xff), UInt8(count >> 8), UInt8(~count & 0xff), UInt8((~count >> 8) & 0xff)]
            zlib += raw[offset..<(offset + count)]
            offset += count
        } while offset < raw.count
        var adler = Self.adler32(raw)
        if breakAdler32 { adler ^= 1 }
        zlib += Self.bigEndian(adler)
        zlib += bytesAfterZlibStream

        var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header = Self.bigEndian(UInt32(width)) + Self.bigEndian(UInt32(height))
        header += [UInt8(bitDepth), colorType, 0, 0, 0]
        file += Self.chunk("IHDR", header)
        for extra in chunksBeforeImageData { file += Self.chunk(extra.type, extra.body) }
        let pieceSize = max(1, (zlib.count + idatChunks - 1) / idatChunks)
        var pieces: [[UInt8]] = stride(from: 0, to: zlib.count, by: pieceSize).map { Array(zlib[$0..<min($0 + pieceSize, zlib.count)]) }
        while pieces.count < idatChunks { pieces.append([]) }
        for (index, piece) in pieces.enumerated() {
            var idat = Self.chunk("IDAT", piece)
            if breakIDATCRC && index == pieces.count - 1 { idat[idat.count - 1] ^= 0x55 }
            file += idat
            if index == 0, let between = chunkBetweenIDATs { file += Self.chunk(between.type, between.body) }
        }
        for extra in chunksAfterImageData { file += Self.chunk(extra.type, extra.body) }
        if !leaveOutIEND { file += Self.chunk("IEND", []) }
        return file
    }

    static func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        return bigEndian(UInt32(body.count)) + typeBytes + body + bigEndian(crc32(typeBytes + body))
    }

    static func zlibFLG(for cmf: UInt8) -> UInt8 {
        // FCHECK makes CMF * 256 + FLG a multiple of 31 (no preset dictionary, fastest level).
        let base = Int(cmf) * 256
        return UInt8((31 - base % 31) % 31)
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return b << 16 | a
    }

    static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in bytes { c = crcTable[Int((c ^ UInt32(byte)) & 0xff)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
