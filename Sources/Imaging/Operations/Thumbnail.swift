extension Image {
    /// A thumbnail exactly `size` (cover: scale to cover the box, crop the
    /// overflow where `crop` says) or fitting inside it (contain). Cover crops
    /// the *source* to the box's aspect ratio first and resamples only that
    /// region, so no pixel is resampled only to be thrown away.
    public func thumbnail(_ size: PixelSize, fit: ImageAction.ThumbnailFit = .cover, crop: CropStrategy = .centre,
                          options: ProcessingOptions = .init()) throws(ImagingError) -> Image {
        try thumbnailWithCrop(size, fit: fit, crop: crop, options: options).image
    }

    /// `thumbnail(_:fit:crop:options:)`, with where a cover box was taken from
    /// (nil for contain). The box is chosen once, on the first frame, and cut
    /// from every frame, so an animation keeps one framing.
    public func thumbnailWithCrop(_ size: PixelSize, fit: ImageAction.ThumbnailFit = .cover, crop: CropStrategy = .centre,
                                  options: ProcessingOptions = .init()) throws(ImagingError) -> (image: Image, coverCrop: CoverCrop?) {
        guard size.width > 0, size.height > 0 else {
            throw ImagingError(.invalidArgument, "thumbnail size \(size) must be positive")
        }
        switch fit {
        case .cover:
            let region = Self.coverCropBox(source: PixelSize(width: width, height: height), target: size)
            let placed = try CoverCropPlanner(pixels: frames[0].pixels, boxWidth: region.width, boxHeight: region.height).place(crop)
            let box = placed.box
            var result = self
            for index in frames.indices {
                let cut = try frames[index].pixels.cropped(x: box.x, y: box.y, width: box.width, height: box.height)
                result.frames[index].pixels = try cut.resized(width: size.width, height: size.height, options: options.resampleOptions)
            }
            return (result, placed)
        case .contain:
            let scale = min(Double(size.width) / Double(width), Double(size.height) / Double(height))
            let w = max(1, min(size.width, Int((Double(width) * scale).rounded())))
            let h = max(1, min(size.height, Int((Double(height) * scale).rounded())))
            return (try resizedFrames(width: w, height: h, options: options), nil)
        }
    }

    /// Scales to `width x height`; with one side nil the other keeps the aspect ratio.
    public func scaled(width newWidth: Int?, height newHeight: Int?, options: ProcessingOptions = .init()) throws(ImagingError) -> Image {
        let size = try Self.scaledSize(source: PixelSize(width: width, height: height), width: newWidth, height: newHeight)
        return try resizedFrames(width: size.width, height: size.height, options: options)
    }

    func resizedFrames(width: Int, height: Int, options: ProcessingOptions) throws(ImagingError) -> Image {
        var result = self
        for index in frames.indices {
            result.frames[index].pixels = try frames[index].pixels.resized(width: width, height: height, options: options.resampleOptions)
        }
        return result
    }

    /// The centred region of `source` with the aspect ratio of `target` (a
    /// `CropStrategy` may then slide it along its free axis).
    static func coverCropBox(source: PixelSize, target: PixelSize) -> (x: Int, y: Int, width: Int, height: Int) {
        let scale = max(Double(target.width) / Double(source.width), Double(target.height) / Double(source.height))
        let w = max(1, min(source.width, Int((Double(target.width) / scale).rounded())))
        let h = max(1, min(source.height, Int((Double(target.height) / scale).rounded())))
        return ((source.width - w) / 2, (source.height - h) / 2, w, h)
    }

    /// The size `scaled(width:height:)` gives a `source`-sized image: with one
    /// side nil the other keeps the aspect ratio (rounded, at least 1).
    public static func scaledSize(source: PixelSize, width: Int?, height: Int?) throws(ImagingError) -> PixelSize {
        switch (width, height) {
        case let (w?, h?):
            guard w > 0, h > 0 else { throw ImagingError(.invalidArgument, "scale size \(w)x\(h) must be positive") }
            return PixelSize(width: w, height: h)
        case let (w?, nil):
            guard w > 0 else { throw ImagingError(.invalidArgument, "scale width \(w) must be positive") }
            return PixelSize(width: w, height: max(1, Int((Double(source.height) * Double(w) / Double(source.width)).rounded())))
        case let (nil, h?):
            guard h > 0 else { throw ImagingError(.invalidArgument, "scale height \(h) must be positive") }
            return PixelSize(width: max(1, Int((Double(source.width) * Double(h) / Double(source.height)).rounded())), height: h)
        case (nil, nil):
            throw ImagingError(.invalidArgument, "scale needs a width, a height or both")
        }
    }
}

/// Shrink-on-load planning for JPEG thumbnails, as libvips does it: the
/// largest DCT shrink (1/2, 1/4, 1/8) that still leaves at least twice the
/// final size for the real resampling filter, so quality is kept.
public enum ShrinkOnLoad {
    /// `upright` is the source size after EXIF orientation; `targets` the sizes wanted.
    public static func factor(upright: PixelSize, targets: [PixelSize], fit: ImageAction.ThumbnailFit = .cover) -> JPEGShrink {
        var allowed = JPEGShrink.eighth
        for target in targets where target.width > 0 && target.height > 0 {
            let sx = Double(target.width) / Double(upright.width)
            let sy = Double(target.height) / Double(upright.height)
            let scale = fit == .cover ? max(sx, sy) : min(sx, sy)
            let largest = 1 / (2 * scale)
            let fitting = JPEGShrink.allCases.filter { Double($0.rawValue) <= largest }.last ?? JPEGShrink.none
            if fitting.rawValue < allowed.rawValue { allowed = fitting }
        }
        return allowed
    }
}
