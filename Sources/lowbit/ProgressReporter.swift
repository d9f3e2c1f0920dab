import Foundation
import LowBitData
import LowBitNN

/// The one progress component of every long command: a redrawn bar with rate and ETA when stderr
/// is a terminal; plain lines every few seconds (and at the end of each task) when it is not or
/// with `--no-progress`. Progress goes to stderr so stdout stays clean for `--json`.
final class ProgressReporter {
    enum Style { case bar, lines, silent }

    private let style: Style
    private var lastLine = Date.distantPast
    private let lineInterval: TimeInterval

    init(enabled: Bool, quiet: Bool = false, lineInterval: TimeInterval = 10) {
        if quiet {
            style = .silent
        } else {
            style = enabled && isatty(STDERR_FILENO) == 1 ? .bar : .lines
        }
        self.lineInterval = lineInterval
    }

    /// Reports `done` of `total` units of `task`; `detail` carries loss/accuracy and the like.
    func update(_ task: String, done: Int, total: Int, rate: Double, unit: String, detail: String = "") {
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        switch style {
        case .silent:
            return
        case .bar:
            let width = 28
            let filled = total > 0 ? min(width, width * done / total) : 0
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let line = "\r\(task) \(bar) \(done)/\(total) \(detail) \(Self.format(rate)) \(unit)/s ETA \(Self.duration(remaining))"
            FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
        case .lines:
            let now = Date()
            guard now.timeIntervalSince(lastLine) >= lineInterval || done == total else { return }
            lastLine = now
            FileHandle.standardError.write(Data("\(task) \(done)/\(total) \(detail) \(Self.format(rate)) \(unit)/s ETA \(Self.duration(remaining))\n".utf8))
        }
    }

    /// Ends the current bar line (terminal) so the next output starts on a fresh line.
    func finish(_ message: String? = nil) {
        if style == .bar { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if let message, style != .silent { FileHandle.standardError.write(Data((message + "\n").utf8)) }
    }

    static func format(_ rate: Double) -> String {
        rate >= 100 ? String(format: "%.0f", rate) : String(format: "%.1f", rate)
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 3600 ? String(format: "%dh%02dm", total / 3600, total % 3600 / 60)
            : String(format: "%d:%02d", total / 60, total % 60)
    }
}

extension ProgressReporter {
    /// One training epoch of `trainer` over `loader` with this reporter's bar (loss, accuracy,
    /// learning rate, samples/s, ETA): the loop train, quantize's fine-tune and the demo share.
    @discardableResult
    func trainEpoch(_ trainer: Trainer, epoch: Int, of epochs: Int, loader: DataLoader, task: String) throws
        -> (loss: Double, accuracy: Double) {
        let total = loader.dataset.count
        return try trainer.trainEpoch(epoch, batches: loader.epoch(epoch), batchesPerEpoch: loader.batchCount) { p in
            update("\(task)epoch \(epoch + 1)/\(epochs)", done: p.samplesSeen, total: total, rate: p.samplesPerSecond,
                   unit: "samples", detail: String(format: "loss %.4f acc %.4f lr %.4g", p.loss, p.accuracy, p.learningRate))
        }
    }
}
