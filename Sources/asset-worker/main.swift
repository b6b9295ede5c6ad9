import Imaging
import Foundation
let args = CommandLine.arguments.dropFirst()
for path in args {
    do {
        let data = try ImageFile.read(path)
        let info = try ImageDecoder.probe(data)
        let image = try ImageDecoder.decode(data)
        print(path, info, image.layout)
    } catch {
        print(path, error)
    }
}
