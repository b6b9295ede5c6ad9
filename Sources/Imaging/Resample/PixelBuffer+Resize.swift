extension PixelBuffer {
    /// The largest output side `resized` accepts.
    public static let maximumResizeDimension = 1 << 16
    /// The largest output pixel count `resized` accepts (a 16k x 16k image).
    public static let maximumResizePixels = 1 << 28

    /// A copy resampled to `width` x `height` with a separable filter
    /// (horizontal pass, then vertical pass).
    ///
    /// Images with alpha are resampled premultiplied, so transparent pixels
    /// do not bleed their (invisible) colour into the visible edge. The
    /// same size returns the image unchanged.
    ///
    /// - Throws: `invalidArgument` for an empty source or a zero, negative
    ///   or absurdly large target; `unsupported` when `options.path` forces
    ///   an instruction set the CPU lacks.
    public func resized(width: Int, height: Int, options: ResampleOptions = .init()) throws(ImagingError) -> PixelBuffer {
        guard self.width > 0 && self.height > 0 else {
            throw ImagingError(.invalidArgument, "cannot resize an empty \(self.width)x\(self.height) image")
        }
        guard width > 0 && height > 0 else {
            throw ImagingError(.invalidArgument, "resize target \(width)x\(height) must be at least 1x1")
        }
        guard width <= Self.maximumResizeDimension && height <= Self.maximumResizeDimension
            && width * height <= Self.maximumResizePixels
        else {
            throw ImagingError(.invalidArgument, "resize target \(width)x\(height) is larger than the supported maximum")
        }
        if let threads = options.threads, threads < 1 {
            throw ImagingError(.invalidArgument, "resize thread count must be at least 1, got \(threads)")
        }
        return try Resampler(source: self, width: width, height: height, options: options).run()
    }
}
