import ArgumentParser
import Foundation
import LowBitIO
import LowBitNN
import LowBitTensor

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Layers, output shapes and parameter counts of a model file.",
        discussion: "Example: lowbit info mlp.lowbit --json"
    )

    @Argument(help: "Model file (.lowbit).") var modelPath: String
    @Flag(help: "Print one JSON object: model, input_shape, classes, parameters, layers[{name, kind, output_shape, params}], metadata.")
    var json = false

    func run() throws {
        let (model, metadata) = try loadModel(modelPath)
        var rows: [LayerRow] = []
        func walk(_ layers: [Layer], input: [Int], depth: Int) throws -> [Int] {
            var shape = input
            for layer in layers {
                let output = try layer.outputShape(for: shape)
                let own = layer.children.isEmpty ? layer.parameters.reduce(0) { $0 + $1.value.count } : 0
                rows.append(LayerRow(name: layer.name, kind: layer.spec.kind.rawValue, outputShape: output, params: own, depth: depth))
                if let residual = layer as? Residual {
                    _ = try walk(residual.body, input: shape, depth: depth + 1)
                    _ = try walk(residual.shortcut, input: shape, depth: depth + 1)
                }
                shape = output
            }
            return shape
        }
        _ = try walk(model.layers, input: model.spec.inputShape, depth: 0)
        if json {
            try printJSON(InfoReport(model: model.spec.name, inputShape: model.spec.inputShape, classes: model.spec.classCount,
                                     parameters: model.parameterCount, layers: rows, metadata: metadata))
            return
        }
        print("\(model.spec.name): input \(model.spec.inputShape), \(model.spec.classCount) classes, \(model.parameterCount) parameters")
        print("layer".padding(toLength: 36, withPad: " ", startingAt: 0) + "kind".padding(toLength: 14, withPad: " ", startingAt: 0)
              + "output".padding(toLength: 16, withPad: " ", startingAt: 0) + "params")
        for row in rows {
            let name = String(repeating: "  ", count: row.depth) + row.name
            print(name.padding(toLength: 36, withPad: " ", startingAt: 0) + row.kind.padding(toLength: 14, withPad: " ", startingAt: 0)
                  + "\(row.outputShape)".padding(toLength: 16, withPad: " ", startingAt: 0) + String(row.params))
        }
        if let metrics = metadata["metrics"], let accuracy = metrics["accuracy"]?.double {
            print(String(format: "stored accuracy %.4f on %@", accuracy, metadata["dataset"]?.string ?? "?"))
        }
    }
}

struct LayerRow: Codable {
    var name: String
    var kind: String
    var outputShape: [Int]
    var params: Int
    var depth: Int

    enum CodingKeys: String, CodingKey {
        case name, kind, params, depth
        case outputShape = "output_shape"
    }
}

struct InfoReport: Codable {
    var model: String
    var inputShape: [Int]
    var classes: Int
    var parameters: Int
    var layers: [LayerRow]
    var metadata: [String: JSONValue]

    enum CodingKeys: String, CodingKey {
        case model, classes, parameters, layers, metadata
        case inputShape = "input_shape"
    }
}
