import ArgumentParser
import Imaging

/// How the derived JPEGs are written: the flags `process` and `bench` share.
struct JPEGEncodingFlags: ParsableArguments {
    /// Which Huffman tables libjpeg writes.
    enum HuffmanTables: String, ExpressibleByArgument, CaseIterable {
        /// The standard tables of the JPEG specification (Annex K): one pass.
        case fixed
        /// Tables computed for each image: a second pass over the coefficients for a smaller file.
        case optimized
    }

    @Option(help: "JPEG quality of the derived images.")
    var quality: Int = 85

    @Option(help: "JPEG Huffman tables: \(HuffmanTables.allCases.map(\.rawValue).joined(separator: ", ")).")
    var huffman: HuffmanTables = .optimized

    func validate() throws {
        guard (1 ... 100).contains(quality) else { throw ValidationError("--quality must be 1...100") }
    }

    /// The encoder settings these flags ask for (everything else at its default).
    var encodeOptions: EncodeOptions {
        var options = EncodeOptions()
        options.jpeg.quality = quality
        options.jpeg.optimizeHuffman = huffman == .optimized
        return options
    }
}
