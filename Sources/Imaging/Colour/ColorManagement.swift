/// The colour step between decoding and the actions: an image leaves it in
/// sRGB (or, for `keepProfile`, in its own valid RGB/gray profile), with a
/// warning for every profile it had to ignore.
enum ColorManagement {
    /// Gray and RGB sources (CMYK is converted inside the JPEG decoder, where the samples are).
    /// Untagged means sRGB: nothing to do, pixels untouched.
    static func settle(_ image: inout Image, handling: ColorHandling) throws(ImagingError) {
        guard handling != .asStored, let bytes = image.colorProfile else { return }
        switch ICCProfile.parse(bytes) {
        case let .failure(warning):
            image.colorWarnings.append(warning)
            image.colorProfile = nil
        case let .success(profile) where profile.model != (image.layout.isGray ? .gray : .rgb):
            image.colorWarnings.append(ColorWarning(
                .mismatchedProfile, "a \(profile.model.rawValue) profile on \(image.layout.isGray ? "gray" : "RGB") pixels; ignored"))
            image.colorProfile = nil
        case let .success(profile):
            if handling == .keepProfile { return }
            try convert(&image, through: profile)
        }
    }

    /// The profile a CMYK source is converted through: its own when usable,
    /// else the default one (with a warning saying so); nil when neither exists.
    static func cmykProfile(embedded: [UInt8]?, warnings: inout [ColorWarning]) -> ICCProfile? {
        if let embedded {
            switch ICCProfile.parse(embedded) {
            case let .success(profile) where profile.model == .cmyk: return profile
            case let .success(profile):
                warnings.append(ColorWarning(.mismatchedProfile, "a \(profile.model.rawValue) profile on CMYK pixels; ignored"))
            case let .failure(warning): warnings.append(warning)
            }
        }
        if let fallback = DefaultCMYKProfile.profile {
            warnings.append(ColorWarning(.defaultCMYKProfile, "CMYK without a usable profile: converted through \(DefaultCMYKProfile.path)"))
            return fallback
        }
        warnings.append(ColorWarning(.naiveCMYK, "CMYK without a usable profile and no \(DefaultCMYKProfile.path): converted by formula"))
        return nil
    }

    /// Largest profile a derived image may carry, as a fraction of its raw
    /// samples (and never over `maxKeptProfileBytes`); a bigger one costs more
    /// than it is worth, so the image is converted to sRGB instead.
    static let keptProfileShare = 8
    static let maxKeptProfileBytes = 64 << 10

    /// For `keepProfile` outputs: converts to sRGB when the profile is too big for the pixels.
    static func fitKeptProfile(_ image: inout Image) throws(ImagingError) {
        guard let bytes = image.colorProfile else { return }
        let limit = min(maxKeptProfileBytes, image.pixels.bytes.count / keptProfileShare)
        guard bytes.count > limit else { return }
        guard case let .success(profile) = ICCProfile.parse(bytes), ICCProfile.fits(bytes, image.layout) else {
            image.colorProfile = nil
            return
        }
        try convert(&image, through: profile)
    }
}

extension ColorManagement {
    /// Every frame to sRGB; the image then carries no profile (untagged is sRGB).
    static func convert(_ image: inout Image, through profile: ICCProfile) throws(ImagingError) {
        for index in image.frames.indices {
            image.frames[index].pixels = try ColorConverter.toSRGB(image.frames[index].pixels, profile: profile)
        }
        image.colorProfile = nil
    }
}

extension Image {
    /// `ColorManagement.fitKeptProfile`, for pipelines outside this module.
    public func fittingKeptProfile() throws(ImagingError) -> Image {
        var copy = self
        try ColorManagement.fitKeptProfile(&copy)
        return copy
    }
}
