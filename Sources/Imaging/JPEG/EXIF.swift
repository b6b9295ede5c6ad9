/// The little of EXIF the worker reads: the orientation tag of the first IFD.
///
/// Only IFD0 is visited and no offset is followed except the one to IFD0, so a
/// hostile file cannot make the parser loop or recurse; every read is bounds-checked.
enum EXIF {
    private static let orientationTag: UInt16 = 0x0112

    /// The orientation 1...8 from a TIFF structure (an APP1 payload after
    /// `Exif\0\0`); 1 when absent, malformed, 0 or out of range ("as stored").
    static func orientation(tiff: UnsafeRawBufferPointer) -> Int {
        guard let reader = TIFFReader(tiff), let ifd = reader.uint32(at: 4).map(Int.init),
              let count = reader.uint16(at: ifd).map(Int.init)
        else { return 1 }
        for index in 0 ..< count {
            let entry = ifd + 2 + index * 12
            guard let tag = reader.uint16(at: entry), let type = reader.uint16(at: entry + 2) else { return 1 }
            guard tag == orientationTag else { continue }
            // SHORT per the standard; a few writers use LONG.
            let value: Int? =
                switch type {
                case 3: reader.uint16(at: entry + 8).map(Int.init)
                case 4: reader.uint32(at: entry + 8).map(Int.init)
                default: nil
                }
            guard let value, (1 ... 8).contains(value) else { return 1 }
            return value
        }
        return 1
    }

    /// Bounds-checked integer reads in the byte order the TIFF header declares.
    private struct TIFFReader {
        let bytes: UnsafeRawBufferPointer
        let bigEndian: Bool

        init?(_ bytes: UnsafeRawBufferPointer) {
            guard bytes.count >= 8 else { return nil }
            self.bytes = bytes
            switch (bytes[0], bytes[1]) {
            case (0x49, 0x49): bigEndian = false // "II"
            case (0x4D, 0x4D): bigEndian = true // "MM"
            default: return nil
            }
            guard uint16(at: 2) == 42 else { return nil }
        }

        func uint16(at offset: Int) -> UInt16? {
            guard offset >= 0, offset <= bytes.count - 2 else { return nil }
            let a = UInt16(bytes[offset]), b = UInt16(bytes[offset + 1])
            return bigEndian ? a << 8 | b : b << 8 | a
        }

        func uint32(at offset: Int) -> UInt32? {
            guard let first = uint16(at: offset), let second = uint16(at: offset + 2) else { return nil }
            return bigEndian ? UInt32(first) << 16 | UInt32(second) : UInt32(second) << 16 | UInt32(first)
        }
    }
}
