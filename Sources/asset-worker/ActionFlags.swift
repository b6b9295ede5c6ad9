import ArgumentParser
import Imaging

/// The action flags `process` and `bench` share, mirroring the API's four `/process` actions.
struct ActionFlags: ParsableArguments {
    @Option(help: ArgumentHelp("Thumbnails, exactly WxH each (cover + centre crop).", valueName: "WxH[,WxH...]"))
    var thumbnails: String?

    @Option(help: ArgumentHelp("Thumbnails that fit inside WxH instead of covering it.", valueName: "WxH[,WxH...]"))
    var thumbnailsContain: String?

    @Option(help: ArgumentHelp("Crop box; must lie inside the (upright) image.", valueName: "X,Y,W,H"))
    var crop: String?

    @Option(help: ArgumentHelp("Scale to WxH; write Wx or xH to keep the aspect ratio.", valueName: "WxH"))
    var scale: String?

    @Option(help: ArgumentHelp("Rotate clockwise by degrees.", valueName: "DEG"))
    var rotate: Double?

    @Option(help: "Resampling filter: \(ResampleFilter.allCases.map(\.rawValue).joined(separator: ", ")).")
    var filter: ResampleFilter = .lanczos3

    /// The actions in the order the API lists them.
    func actions() throws -> [ImageAction] {
        var actions: [ImageAction] = []
        if let thumbnails { actions.append(.thumbnails(try sizes(thumbnails, flag: "--thumbnails"), fit: .cover)) }
        if let thumbnailsContain { actions.append(.thumbnails(try sizes(thumbnailsContain, flag: "--thumbnails-contain"), fit: .contain)) }
        if let crop {
            let numbers = crop.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard numbers.count == 4, let x = numbers[0], let y = numbers[1], let w = numbers[2], let h = numbers[3] else {
                throw ValidationError("--crop takes X,Y,W,H (four integers), got \(crop)")
            }
            actions.append(.crop(x: x, y: y, width: w, height: h))
        }
        if let scale {
            let parts = scale.lowercased().split(separator: "x", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw ValidationError("--scale takes WxH, Wx or xH, got \(scale)") }
            let w = parts[0].isEmpty ? nil : Int(parts[0])
            let h = parts[1].isEmpty ? nil : Int(parts[1])
            guard (w != nil || parts[0].isEmpty), (h != nil || parts[1].isEmpty), w != nil || h != nil else {
                throw ValidationError("--scale takes WxH, Wx or xH, got \(scale)")
            }
            actions.append(.scale(width: w, height: h))
        }
        if let rotate {
            guard rotate.isFinite else { throw ValidationError("--rotate takes a finite number of degrees") }
            actions.append(.rotate(degrees: rotate))
        }
        return actions
    }

    private func sizes(_ text: String, flag: String) throws -> [PixelSize] {
        let list = text.split(separator: ",").map { PixelSize(parsing: $0.trimmingCharacters(in: .whitespaces)) }
        guard !list.isEmpty, list.allSatisfy({ $0 != nil && $0!.width > 0 && $0!.height > 0 }) else {
            throw ValidationError("\(flag) takes positive sizes like 100x100,150x150, got \(text)")
        }
        return list.map { $0! }
    }
}

extension ResampleFilter: ExpressibleByArgument {}
