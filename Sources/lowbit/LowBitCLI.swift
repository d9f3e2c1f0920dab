import ArgumentParser

@main
struct LowBitCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lowbit",
        abstract: "Train, quantize, measure and run extremely quantized neural networks.",
        subcommands: [DemoCommand.self, TrainCommand.self, EvalCommand.self, InfoCommand.self, QuantizeCommand.self, QuantizeTensorsCommand.self, SignificanceCommand.self, ReportCommand.self, PackCommand.self, RunCommand.self, BenchCommand.self]
    )
}
